/* threads.c — one persistent pool of worker threads shared by every kernel.

   kn_parallel_for splits [0, n) into contiguous chunks, runs chunk 0 on the calling thread and the
   others on workers, and returns when all are done. Kernels fix their reduction order per output,
   so the result does not depend on how many threads ran. The pool serves one caller at a time:
   a loop started on another thread meanwhile (a second context generating) runs on that thread
   alone, as does a call made from inside a chunk. Builds without pthreads (KINETO_NO_THREADS,
   WebAssembly without -pthread) run every loop on the caller. */
#define _POSIX_C_SOURCE 200809L   /* sysconf */
#include "ops.h"

#if !defined(KINETO_NO_THREADS) && \
    (defined(__EMSCRIPTEN_PTHREADS__) || (!defined(__EMSCRIPTEN__) && (defined(__unix__) || defined(__APPLE__))))
#define KN_POOL 1
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#endif
#include <stdatomic.h>

static _Atomic int thread_count = 1;          /* process-wide: set by every kineto_begin */
static _Thread_local int this_thread_index;     /* 0 on a caller, 1.. on workers */

int kn_thread_index(void) { return this_thread_index; }
int kn_threads_get(void) { return atomic_load_explicit(&thread_count, memory_order_relaxed); }

#ifndef KN_POOL

void kn_threads_set(int n) { (void)n; }

void kn_parallel_for(int n, void (*fn)(void *arg, int begin, int end), void *arg)
{
    if (n > 0) fn(arg, 0, n);
}

#else

/* A denoising step posts a few hundred jobs of tens of microseconds each, so waking a sleeping
   thread for every one (a futex round trip) would cost as much as the work. Workers and the caller
   therefore spin on an atomic before they sleep: back-to-back jobs are handed over in well under a
   microsecond, and a pool left idle (between generations) sleeps after some milliseconds. After
   the first PAUSE_ROUNDS a native spin yields the core, so a pool with more threads than free cores
   still makes progress instead of spinning on the cores its working threads wait for. */
#define SPIN_ROUNDS 20000
#define PAUSE_ROUNDS 20

/* A WebAssembly thread cannot yield its core (sched_yield only runs queued calls), so there a pool
   larger than the machine would spin on cores its working threads wait for, many times slower than
   a pool that fits; such a pool only sleeps and wakes. */
static _Atomic int spin_rounds = SPIN_ROUNDS;

void kn_threads_set(int n)
{
    n = n < 1 ? 1 : n > KN_MAX_THREADS ? KN_MAX_THREADS : n;
    atomic_store_explicit(&thread_count, n, memory_order_relaxed);
#ifdef __EMSCRIPTEN__
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    atomic_store_explicit(&spin_rounds, cores >= 1 && n > cores ? 0 : SPIN_ROUNDS, memory_order_relaxed);
#endif
}

/* One slot per worker, written only by the pool's caller while that worker is idle. */
typedef struct {
    _Alignas(64) _Atomic unsigned posted;   /* bumped after the fields below are written; own cache line */
    void (*fn)(void *arg, int begin, int end);
    void *arg;
    int n, chunks;
} worker_slot;

static worker_slot slots[KN_MAX_THREADS];
static _Atomic int chunks_pending;     /* worker chunks of the current job not yet finished */
static _Atomic int sleeping_workers;
static _Atomic int caller_sleeping;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_posted = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_finished = PTHREAD_COND_INITIALIZER;
static _Atomic int pool_taken;         /* a thread is running a loop on the pool */
static int worker_count;               /* workers started so far; they never exit (pool's caller only) */
static _Thread_local int inside_parallel;   /* nested calls run serially */

static inline void spin_wait(int round)
{
    if (round >= PAUSE_ROUNDS) { sched_yield(); return; }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void run_chunk(int chunk, int chunks, int n, void (*fn)(void *, int, int), void *arg)
{
    int begin = (int)((int64_t)n * chunk / chunks);
    int end = (int)((int64_t)n * (chunk + 1) / chunks);
    if (begin < end) fn(arg, begin, end);
}

static void *worker_main(void *index)
{
    this_thread_index = (int)(intptr_t)index;
    inside_parallel = 1;
    worker_slot *slot = &slots[this_thread_index];
    unsigned seen = 0;
    for (;;) {
        int rounds = atomic_load_explicit(&spin_rounds, memory_order_relaxed);
        for (int spin = 0; atomic_load_explicit(&slot->posted, memory_order_acquire) == seen; spin++) {
            if (spin < rounds) { spin_wait(spin); continue; }
            /* The caller bumps `posted` before it reads sleeping_workers, and this thread counts
               itself before it reads `posted` (both sequentially consistent): one of the two sees
               the other, so a post is never missed. */
            pthread_mutex_lock(&pool_lock);
            atomic_fetch_add(&sleeping_workers, 1);
            while (atomic_load(&slot->posted) == seen) pthread_cond_wait(&work_posted, &pool_lock);
            atomic_fetch_sub(&sleeping_workers, 1);
            pthread_mutex_unlock(&pool_lock);
        }
        seen++;
        run_chunk(this_thread_index, slot->chunks, slot->n, slot->fn, slot->arg);
        if (atomic_fetch_sub(&chunks_pending, 1) == 1 && atomic_load(&caller_sleeping)) {
            pthread_mutex_lock(&pool_lock);
            pthread_cond_signal(&work_finished);
            pthread_mutex_unlock(&pool_lock);
        }
    }
    return NULL;
}

/* Starts workers up to `wanted`; returns how many exist (fewer if the system refuses more). */
static int start_workers(int wanted)
{
#ifndef __EMSCRIPTEN__
    /* Workers inherit a full signal mask: a process signal then reaches only the application's own
       threads, which may be holding it back (the CLI does while it writes its files). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
#endif
    while (worker_count < wanted) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker_main, (void *)(intptr_t)(worker_count + 1)) != 0) break;
        pthread_detach(t);
        worker_count++;
    }
#ifndef __EMSCRIPTEN__
    pthread_sigmask(SIG_SETMASK, &old, NULL);
#endif
    return worker_count;
}

/* Takes the pool for this thread; 0 when another thread has it. */
static int take_pool(void)
{
    int free_pool = 0;
    return atomic_compare_exchange_strong_explicit(&pool_taken, &free_pool, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static void release_pool(void) { atomic_store_explicit(&pool_taken, 0, memory_order_release); }

void kn_parallel_for(int n, void (*fn)(void *arg, int begin, int end), void *arg)
{
    if (n <= 0) return;
    int threads = atomic_load_explicit(&thread_count, memory_order_relaxed);
    int chunks = threads < n ? threads : n;
    if (chunks <= 1 || inside_parallel || !take_pool()) {
        fn(arg, 0, n);
        return;
    }
    int workers = start_workers(chunks - 1);
    if (workers < chunks - 1) chunks = workers + 1;
    if (chunks <= 1) {
        release_pool();
        fn(arg, 0, n);
        return;
    }
    atomic_store(&chunks_pending, chunks - 1);
    for (int w = 1; w < chunks; w++) {
        slots[w].fn = fn, slots[w].arg = arg, slots[w].n = n, slots[w].chunks = chunks;
        atomic_fetch_add(&slots[w].posted, 1);
    }
    if (atomic_load(&sleeping_workers) > 0) {
        pthread_mutex_lock(&pool_lock);
        pthread_cond_broadcast(&work_posted);
        pthread_mutex_unlock(&pool_lock);
    }

    inside_parallel = 1;
    run_chunk(0, chunks, n, fn, arg);
    inside_parallel = 0;

    int rounds = atomic_load_explicit(&spin_rounds, memory_order_relaxed);
    for (int spin = 0; atomic_load_explicit(&chunks_pending, memory_order_acquire) > 0; spin++) {
        if (spin < rounds) { spin_wait(spin); continue; }
        pthread_mutex_lock(&pool_lock);
        atomic_store(&caller_sleeping, 1);
        while (atomic_load(&chunks_pending) > 0) pthread_cond_wait(&work_finished, &pool_lock);
        atomic_store(&caller_sleeping, 0);
        pthread_mutex_unlock(&pool_lock);
    }
    release_pool();
}

#endif
