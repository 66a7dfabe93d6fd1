/* threads.c — one persistent pool of worker threads shared by every kernel.

   kn_parallel_for splits [0, n) into contiguous chunks, runs chunk 0 on the calling thread and the
   others on workers, and returns when all are done. Kernels fix their reduction order per output,
   so the result does not depend on how many threads ran. One caller at a time; a call made from
   inside a chunk runs serially. Builds without pthreads (KINETO_NO_THREADS, WebAssembly without
   -pthread) run every loop on the caller. */
#include "ops.h"

#if !defined(KINETO_NO_THREADS) && \
    (defined(__EMSCRIPTEN_PTHREADS__) || (!defined(__EMSCRIPTEN__) && (defined(__unix__) || defined(__APPLE__))))
#define KN_POOL 1
#include <pthread.h>
#include <stdint.h>
#endif

static int thread_count = 1;
static _Thread_local int this_thread_index;     /* 0 on the caller, 1.. on workers */

int kn_thread_index(void) { return this_thread_index; }
int kn_threads_get(void) { return thread_count; }

#ifndef KN_POOL

void kn_threads_set(int n) { (void)n; thread_count = 1; }

void kn_parallel_for(int n, void (*fn)(void *arg, int begin, int end), void *arg)
{
    if (n > 0) fn(arg, 0, n);
}

#else

void kn_threads_set(int n)
{
    thread_count = n < 1 ? 1 : n > KN_MAX_THREADS ? KN_MAX_THREADS : n;
}

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_posted = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_finished = PTHREAD_COND_INITIALIZER;
static int worker_count;            /* workers started so far; they never exit */
static unsigned job_generation;     /* bumped for every posted job */
static unsigned spawn_generation;   /* job_generation before the job a new worker was started for */
static int chunks_pending;          /* worker chunks of the current job not yet finished */
static _Thread_local int inside_parallel;   /* nested calls run serially */
static struct {
    void (*fn)(void *arg, int begin, int end);
    void *arg;
    int n, chunks;
} job;

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
    pthread_mutex_lock(&pool_lock);
    unsigned seen = spawn_generation;   /* job_generation may already count the job it must run */
    for (;;) {
        while (job_generation == seen) pthread_cond_wait(&work_posted, &pool_lock);
        seen = job_generation;
        if (this_thread_index >= job.chunks) continue;
        int chunks = job.chunks, n = job.n;
        void (*fn)(void *, int, int) = job.fn;
        void *arg = job.arg;
        pthread_mutex_unlock(&pool_lock);
        run_chunk(this_thread_index, chunks, n, fn, arg);
        pthread_mutex_lock(&pool_lock);
        if (--chunks_pending == 0) pthread_cond_signal(&work_finished);
    }
    return NULL;
}

/* Starts workers up to `wanted`; returns how many exist (fewer if the system refuses more). */
static int start_workers(int wanted)
{
    spawn_generation = job_generation;
    while (worker_count < wanted) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker_main, (void *)(intptr_t)(worker_count + 1)) != 0) break;
        pthread_detach(t);
        worker_count++;
    }
    return worker_count;
}

void kn_parallel_for(int n, void (*fn)(void *arg, int begin, int end), void *arg)
{
    if (n <= 0) return;
    int chunks = thread_count < n ? thread_count : n;
    if (chunks <= 1 || inside_parallel) {
        fn(arg, 0, n);
        return;
    }
    pthread_mutex_lock(&pool_lock);
    int workers = start_workers(chunks - 1);
    if (workers < chunks - 1) chunks = workers + 1;
    job.fn = fn, job.arg = arg, job.n = n, job.chunks = chunks;
    chunks_pending = chunks - 1;
    job_generation++;
    pthread_cond_broadcast(&work_posted);
    pthread_mutex_unlock(&pool_lock);

    inside_parallel = 1;
    run_chunk(0, chunks, n, fn, arg);
    inside_parallel = 0;

    pthread_mutex_lock(&pool_lock);
    while (chunks_pending > 0) pthread_cond_wait(&work_finished, &pool_lock);
    pthread_mutex_unlock(&pool_lock);
}

#endif
