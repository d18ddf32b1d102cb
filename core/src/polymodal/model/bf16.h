/* bfloat16 <-> float32 for the C kernels (fewrows.c, attention.c, rowstep.c), so that they all round alike.
 *
 * A bfloat16 is the top half of a float32: widening is exact. Narrowing rounds to nearest, ties to even, as
 * PyTorch's conversion does for finite values (a NaN may come out as another NaN or, from the largest payloads,
 * as infinity). fewrows.c rounds its vectors of results with the same rule, written on vectors.
 */
#ifndef POLYMODAL_BF16_H
#define POLYMODAL_BF16_H

#include <stdint.h>
#include <string.h>

static inline float bf16_to_float(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint16_t float_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

#endif
