/* arena.h — one allocation carved into a generation's buffers. A first pass with base == NULL only
   counts, so the whole plan is known (and checked against a limit) before anything is allocated. */
#ifndef KN_ARENA_H
#define KN_ARENA_H

#include <stdint.h>

typedef struct {
    float *base;      /* NULL while planning */
    uint64_t used;    /* floats */
    uint64_t limit;   /* floats */
    int overflow;     /* set when the plan would pass limit */
} kn_arena;

/* Every buffer starts a multiple of KN_ARENA_ALIGN floats (64 bytes) past base. base comes from
   malloc (16-byte aligned), so each buffer is 16-byte aligned and they all sit at one offset within
   a cache line. The kernels load unaligned: alignment only ever changes speed, never results.
   (aligned_alloc would put them on cache lines, but glibc then keeps megabytes more resident.) */
#define KN_ARENA_ALIGN 16

/* n floats at the next aligned offset; NULL while planning or once over the limit. */
static inline float *kn_carve(kn_arena *a, uint64_t n) {
    uint64_t start = (a->used + KN_ARENA_ALIGN - 1) & ~(uint64_t)(KN_ARENA_ALIGN - 1);
    if (a->overflow || n > a->limit || start > a->limit - n) {
        a->overflow = 1;
        return 0;
    }
    a->used = start + n;
    return a->base ? a->base + start : 0;
}

#endif
