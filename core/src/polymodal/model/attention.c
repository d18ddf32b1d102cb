/* Attention of a few new query positions over cached keys and values, for the steps of a decoding loop.
 *
 * Built and loaded by native.py; stepattention.py documents why. For each (row, head) pair and each query
 * position: the scores s_j = scale * q . k_j over the keys it may see, their maximum m, p_j = exp(s_j - m), and
 * the output sum_j p_j v_j / sum_j p_j, all in float32 (bfloat16 operands are widened exactly, the output is
 * rounded to nearest even). A pair's work runs on one thread, so the result does not depend on the number of
 * threads. The output is written as [rows, queries, heads, head_dim], the layout the output projection reads.
 * Threads are OpenMP's, which native.py checks to be PyTorch's own runtime.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "bf16.h"

#define MAX_HEAD_DIM 256
#define MAX_KEYS 16384

long step_attention_max_keys(void) { return MAX_KEYS; }
long step_attention_max_head_dim(void) { return MAX_HEAD_DIM; }

/* One head_dim vector as float32. */
static inline void load(const void *p, long at, long n, int bf16, float *to) {
    if (!bf16) {
        memcpy(to, (const float *)p + at, n * sizeof(float));
        return;
    }
    const uint16_t *h = (const uint16_t *)p + at;
#pragma omp simd
    for (long i = 0; i < n; i++) to[i] = bf16_to_float(h[i]);
}

static inline float dot(const float *a, const void *b, long at, long n, int bf16) {
    float s = 0.0f;
    if (!bf16) {
        const float *f = (const float *)b + at;
#pragma omp simd reduction(+ : s)
        for (long i = 0; i < n; i++) s += a[i] * f[i];
    } else {
        const uint16_t *h = (const uint16_t *)b + at;
#pragma omp simd reduction(+ : s)
        for (long i = 0; i < n; i++) s += a[i] * bf16_to_float(h[i]);
    }
    return s;
}

static inline void add_scaled(float *acc, float p, const void *v, long at, long n, int bf16) {
    if (!bf16) {
        const float *f = (const float *)v + at;
#pragma omp simd
        for (long i = 0; i < n; i++) acc[i] += p * f[i];
    } else {
        const uint16_t *h = (const uint16_t *)v + at;
#pragma omp simd
        for (long i = 0; i < n; i++) acc[i] += p * bf16_to_float(h[i]);
    }
}

/* The attention of one float32 query q (dim values) over keys 0 .. n-1 of k and v (rows k_pos and v_pos elements
 * apart, bfloat16 where bf16), seen where seen is NULL or nonzero: writes the float32 output to o (zeros where no
 * key is seen). scores: n floats of work space. The single-row decoder step (rowstep.c) calls it too. */
void attention_query(const float *q, const void *k, long k_pos, const void *v, long v_pos, long n,
                     const uint8_t *seen, long dim, float scale, int bf16, float *scores, float *o) {
    float m = -INFINITY;
    for (long j = 0; j < n; j++) {
        if (seen && !seen[j]) {
            scores[j] = -INFINITY;
            continue;
        }
        scores[j] = scale * dot(q, k, j * k_pos, dim, bf16);
        if (scores[j] > m) m = scores[j];
    }
    memset(o, 0, dim * sizeof(float));
    if (m == -INFINITY) return;
    float total = 0.0f;
    for (long j = 0; j < n; j++) {
        if (scores[j] == -INFINITY) continue;
        float p = expf(scores[j] - m);
        total += p;
        add_scaled(o, p, v, j * v_pos, dim, bf16);
    }
    float norm = 1.0f / total;
    for (long d = 0; d < dim; d++) o[d] *= norm;
}

/* q: [rows, heads, queries, dim] and k, v: [rows, heads, keys, dim], with the strides given (in elements) and
 * the last dimension contiguous. mask: [rows, keys] bytes, nonzero where a key may be seen (mask_row apart), or
 * NULL. causal_from >= 0: query i sees keys 0 .. causal_from + i only. A query that sees no key gets zeros.
 * out: [rows, queries, heads, dim] contiguous. Returns 0, or 1 for sizes beyond MAX_KEYS / MAX_HEAD_DIM. */
int step_attention(const void *q, long q_row, long q_head, long q_pos,
                   const void *k, long k_row, long k_head, long k_pos,
                   const void *v, long v_row, long v_head, long v_pos,
                   const uint8_t *mask, long mask_row, long causal_from, void *out,
                   long rows, long heads, long queries, long keys, long dim, float scale, int bf16, int threads) {
    if (dim > MAX_HEAD_DIM || keys > MAX_KEYS || dim < 1) return 1;
    long size = bf16 ? sizeof(uint16_t) : sizeof(float);
#pragma omp parallel for num_threads(threads) schedule(static) collapse(2)
    for (long r = 0; r < rows; r++) {
        for (long h = 0; h < heads; h++) {
            float qv[MAX_HEAD_DIM], acc[MAX_HEAD_DIM], s[keys > 0 ? keys : 1];
            const uint8_t *seen = mask ? mask + r * mask_row : NULL;
            const char *kh = (const char *)k + (r * k_row + h * k_head) * size;
            const char *vh = (const char *)v + (r * v_row + h * v_head) * size;
            for (long i = 0; i < queries; i++) {
                load(q, r * q_row + h * q_head + i * q_pos, dim, bf16, qv);
                long last = keys;
                if (causal_from >= 0 && causal_from + i + 1 < last) last = causal_from + i + 1;
                attention_query(qv, kh, k_pos, vh, v_pos, last, seen, dim, scale, bf16, s, acc);
                long at = ((r * queries + i) * heads + h) * dim;
                if (!bf16) {
                    memcpy((float *)out + at, acc, dim * sizeof(float));
                } else {
                    uint16_t *o = (uint16_t *)out + at;
                    for (long d = 0; d < dim; d++) o[d] = float_to_bf16(acc[d]);
                }
            }
        }
    }
    return 0;
}
