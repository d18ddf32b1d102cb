/* One decoder layer's step for a few rows (1 to 8) in one call: the layer norms, the six products, the cache
 * writes, both attentions and the feed-forward, on one OpenMP team; float32, or bfloat16 weights under autocast.
 *
 * Built and loaded by native.py; rowstep.py documents why. A single float32 row's products read each weight in
 * its own [out, in] layout, each thread streaming a contiguous run of rows, ROW_GROUP rows at a time with two
 * vectors of partial sums per row; other products run fewrows.c's kernel on its packed copies. Every sum runs in
 * a fixed order on one thread, so the result does not depend on the number of threads. Threads are OpenMP's,
 * which native.py checks to be PyTorch's own runtime.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "bf16.h"
#if defined(__AVX__)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define RS_LANES 16
#elif defined(__AVX__)
#define RS_LANES 8
#else
#define RS_LANES 4
#endif
#define ROW_GROUP 4

typedef float rvec __attribute__((vector_size(RS_LANES * 4), aligned(4)));

static inline rvec rload(const float *p) {
    rvec v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* f rounded to the nearest bfloat16, as a float32. */
static inline float round_bf16(float f) { return bf16_to_float(float_to_bf16(f)); }

/* The sum of a vector's lanes, as a tree of halves (a loop over the lanes ran 1.7x slower). */
static inline float rsum(rvec v) {
#if defined(__AVX512F__)
    return _mm512_reduce_add_ps((__m512)v);
#elif defined(__AVX__)
    __m256 m = (__m256)v;
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
#else
    float s = 0.0f;
    for (int i = 0; i < RS_LANES; i++) s += v[i];
    return s;
#endif
}

enum { ACT_RELU = 0, ACT_GELU = 1, ACT_GELU_TANH = 2 };

static inline float activate(float v, int act) {
    if (act == ACT_RELU) return v > 0.0f ? v : 0.0f;
    if (act == ACT_GELU) return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    float inner = 0.79788456080286536f * (v + 0.044715f * v * v * v);
    return 0.5f * v * (1.0f + tanhf(inner));
}

static inline float tail(const float *x, const float *row, long whole, long in, rvec acc) {
    float s = rsum(acc);
    for (long i = whole; i < in; i++) s += row[i] * x[i];
    return s;
}

/* y[o] = b[o] + x . w[o] (then act, if act >= 0) for a float32 weight in its own layout, shared among the
 * team's threads (an orphaned loop). */
static void product_f32(const float *x, const float *w, const float *b, float *y, long out, long in, int act) {
    long groups = (out + ROW_GROUP - 1) / ROW_GROUP, whole = in / (2 * RS_LANES) * (2 * RS_LANES);
#pragma omp for schedule(static)
    for (long g = 0; g < groups; g++) {
        long o0 = g * ROW_GROUP, n = out - o0 < ROW_GROUP ? out - o0 : ROW_GROUP;
        float s[ROW_GROUP];
        if (n == ROW_GROUP) {
            const float *w0 = w + o0 * in, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
            rvec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
            for (long i = 0; i < whole; i += 2 * RS_LANES) {
                rvec x0 = rload(x + i), x1 = rload(x + i + RS_LANES);
                a0 += rload(w0 + i) * x0;
                c0 += rload(w0 + i + RS_LANES) * x1;
                a1 += rload(w1 + i) * x0;
                c1 += rload(w1 + i + RS_LANES) * x1;
                a2 += rload(w2 + i) * x0;
                c2 += rload(w2 + i + RS_LANES) * x1;
                a3 += rload(w3 + i) * x0;
                c3 += rload(w3 + i + RS_LANES) * x1;
            }
            s[0] = tail(x, w0, whole, in, a0 + c0);
            s[1] = tail(x, w1, whole, in, a1 + c1);
            s[2] = tail(x, w2, whole, in, a2 + c2);
            s[3] = tail(x, w3, whole, in, a3 + c3);
        } else {
            for (long r = 0; r < n; r++) {
                const float *w0 = w + (o0 + r) * in;
                rvec a0 = {0}, c0 = {0};
                for (long i = 0; i < whole; i += 2 * RS_LANES) {
                    a0 += rload(w0 + i) * rload(x + i);
                    c0 += rload(w0 + i + RS_LANES) * rload(x + i + RS_LANES);
                }
                s[r] = tail(x, w0, whole, in, a0 + c0);
            }
        }
        for (long r = 0; r < n; r++) {
            float v = s[r] + (b ? b[o0 + r] : 0.0f);
            y[o0 + r] = act >= 0 ? activate(v, act) : v;
        }
    }
}

/* A few rows times a packed weight, shared among the team's threads (fewrows.c). */
int fewrows_in_team(const void *x, long rows, long ldx, const void *p, long out, long in, const float *b, float *y,
                    int bf16);

/* y [rows, out] = x [rows, in] times a weight, plus its bias, then act (if act >= 0): a float32 weight in its own
 * layout for one row, else the few-row kernel's packed copy (float32, or bfloat16: the kernel read its packed copy
 * at 56 GB/s in the decoding loop, where the loop above on the plain layout reached 32, held back by widening
 * the weight's halves). x16: work space for x as bfloat16. A bfloat16 product's result is rounded to bfloat16
 * before and after the activation, as PyTorch's bfloat16 product and activation round theirs. */
static inline void product(const float *x, long rows, const void *w, int packed, const float *b, float *y,
                           long out, long in, int act, int bf16, uint16_t *x16) {
    if (!packed) {
        product_f32(x, (const float *)w, b, y, out, in, act);
        return;
    }
    if (bf16) {
#pragma omp for schedule(static)
        for (long i = 0; i < rows * in; i++) x16[i] = float_to_bf16(x[i]);
    }
    fewrows_in_team(bf16 ? (const void *)x16 : (const void *)x, rows, in, w, out, in, b, y, bf16);
    if (!bf16 && act < 0) return;
#pragma omp for schedule(static)
    for (long o = 0; o < rows * out; o++) {
        float v = bf16 ? round_bf16(y[o]) : y[o];
        if (act >= 0) v = activate(v, act);
        y[o] = bf16 ? round_bf16(v) : v;
    }
}

/* y = (x - mean) / sqrt(var + eps) * g + b over d values (by one thread). */
static void layer_norm(const float *x, const float *g, const float *b, float eps, float *y, long d) {
    float mean = 0.0f, var = 0.0f;
    for (long i = 0; i < d; i++) mean += x[i];
    mean /= (float)d;
    for (long i = 0; i < d; i++) var += (x[i] - mean) * (x[i] - mean);
    float inv = 1.0f / sqrtf(var / (float)d + eps);
    for (long i = 0; i < d; i++) y[i] = (x[i] - mean) * inv * g[i] + b[i];
}

/* One query's attention over n keys (attention.c). */
void attention_query(const float *q, const void *k, long k_pos, const void *v, long v_pos, long n,
                     const uint8_t *seen, long dim, float scale, int bf16, float *scores, float *o);

/* The constant operands of a layer, as pointers and sizes in one array (see rowstep.py). */
enum {
    P_LN1_W, P_LN1_B, P_QKV_W, P_QKV_B, P_OUT_W, P_OUT_B, P_LN2_W, P_LN2_B, P_CQ_W, P_CQ_B, P_CO_W, P_CO_B,
    P_LN3_W, P_LN3_B, P_FC1_W, P_FC1_B, P_FC2_W, P_FC2_B, P_D, P_HEADS, P_FFN, P_ACT, P_BF16, P_PACKED,
    P_COUNT
};

long row_step_parameters(void) { return P_COUNT; }

#define PTR(i) ((const float *)(intptr_t)p[i])
#define WEIGHT(i) ((const void *)(intptr_t)p[i])

/* A row of dim values into a float32 or bfloat16 cache. */
static inline void put(void *cache, long at, const float *v, long dim, int bf16) {
    if (!bf16) {
        memcpy((float *)cache + at, v, dim * sizeof(float));
        return;
    }
    uint16_t *c = (uint16_t *)cache + at;
    for (long i = 0; i < dim; i++) c[i] = float_to_bf16(v[i]);
}

/* Run one layer on rows (1 .. 8) of x ([rows, d], float32, updated in place), each at position pos of its own
 * sequence. The weights, the caches and the encoder's keys and values are float32, or bfloat16 where the
 * parameters say so (then every product's input and output, the activation's output and the attention's output
 * are rounded to bfloat16, as under PyTorch's autocast; the layer norms and the residual additions stay float32).
 * The weights are in their own layout (one float32 row), or packed for the few-row kernel where the parameters
 * say so. self_k / self_v: the layer's key and value cache, rows self_row apart, heads self_head apart and
 * positions self_pos apart (the new keys and values are written at pos). cross_k / cross_v: the encoder's keys
 * and values, shared by each run of group rows (their rows cross_row apart, heads cross_head apart, positions
 * cross_pos apart, n_src of them; NULL: no cross-attention); mask: n_src bytes per such row (mask_row apart),
 * nonzero where a source position may be seen, or NULL; cross_scale: one factor per such row multiplying the
 * cross-attention's output, or NULL. eps: the three layer norms'. Biases are float32. scratch: at least
 * rows * (7 * d + 3 * ffn + heads * (pos + 1 + n_src)) floats. Returns 0, or 1 for more than 8 rows. */
int row_step(const int64_t *p, const float *eps, float *x, long rows, long group, void *self_k, void *self_v,
             long self_row, long self_head, long self_pos, long pos, const void *cross_k, const void *cross_v,
             long cross_row, long cross_head, long cross_pos, long n_src, const uint8_t *mask, long mask_row,
             const float *cross_scale, float *scratch, int threads) {
    long d = p[P_D], heads = p[P_HEADS], ffn = p[P_FFN], dim = d / heads;
    int act = (int)p[P_ACT], bf16 = (int)p[P_BF16], packed = (int)p[P_PACKED];
    if (rows < 1 || rows > 8 || group < 1 || (!packed && (bf16 || rows != 1))) return 1;
    long size = bf16 ? sizeof(uint16_t) : sizeof(float);
    float scale = 1.0f / sqrtf((float)dim);
    long keys = pos + 1, per_head = keys + n_src;
    float *h = scratch, *qkv = h + rows * d, *o = qkv + rows * 3 * d, *t = o + rows * d, *f = t + rows * d;
    float *scores = f + rows * ffn;
    uint16_t *x16 = (uint16_t *)(scores + rows * heads * per_head);
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static)
        for (long r = 0; r < rows; r++) layer_norm(x + r * d, PTR(P_LN1_W), PTR(P_LN1_B), eps[0], h + r * d, d);
        product(h, rows, WEIGHT(P_QKV_W), packed, PTR(P_QKV_B), qkv, 3 * d, d, -1, bf16, x16);
#pragma omp for schedule(static) collapse(2)
        for (long r = 0; r < rows; r++)
            for (long hd = 0; hd < heads; hd++) {
                char *kc = (char *)self_k + (r * self_row + hd * self_head) * size;
                char *vc = (char *)self_v + (r * self_row + hd * self_head) * size;
                const float *q = qkv + r * 3 * d + hd * dim;
                put(kc, pos * self_pos, q + d, dim, bf16);
                put(vc, pos * self_pos, q + 2 * d, dim, bf16);
                attention_query(q, kc, self_pos, vc, self_pos, keys, NULL, dim, scale, bf16,
                                scores + (r * heads + hd) * per_head, o + r * d + hd * dim);
            }
        product(o, rows, WEIGHT(P_OUT_W), packed, PTR(P_OUT_B), t, d, d, -1, bf16, x16);
#pragma omp for schedule(static)
        for (long r = 0; r < rows; r++) {
            for (long i = 0; i < d; i++) x[r * d + i] += t[r * d + i];
            if (cross_k) layer_norm(x + r * d, PTR(P_LN2_W), PTR(P_LN2_B), eps[1], h + r * d, d);
        }
        if (cross_k) {
            product(h, rows, WEIGHT(P_CQ_W), packed, PTR(P_CQ_B), qkv, d, d, -1, bf16, x16);
#pragma omp for schedule(static) collapse(2)
            for (long r = 0; r < rows; r++)
                for (long hd = 0; hd < heads; hd++) {
                    long at = (r / group * cross_row + hd * cross_head) * size;
                    attention_query(qkv + r * d + hd * dim, (const char *)cross_k + at, cross_pos,
                                    (const char *)cross_v + at, cross_pos, n_src,
                                    mask ? mask + r / group * mask_row : NULL, dim, scale, bf16,
                                    scores + (r * heads + hd) * per_head + keys, o + r * d + hd * dim);
                }
            product(o, rows, WEIGHT(P_CO_W), packed, PTR(P_CO_B), t, d, d, -1, bf16, x16);
#pragma omp for schedule(static)
            for (long r = 0; r < rows; r++) {
                float c = cross_scale ? cross_scale[r / group] : 1.0f;
                if (c == 1.0f)
                    for (long i = 0; i < d; i++) x[r * d + i] += t[r * d + i];
                else
                    for (long i = 0; i < d; i++) x[r * d + i] += t[r * d + i] * c;
            }
        }
#pragma omp for schedule(static)
        for (long r = 0; r < rows; r++) layer_norm(x + r * d, PTR(P_LN3_W), PTR(P_LN3_B), eps[2], h + r * d, d);
        product(h, rows, WEIGHT(P_FC1_W), packed, PTR(P_FC1_B), f, ffn, d, act, bf16, x16);
        product(f, rows, WEIGHT(P_FC2_W), packed, PTR(P_FC2_B), t, d, ffn, -1, bf16, x16);
#pragma omp for schedule(static)
        for (long i = 0; i < rows * d; i++) x[i] += t[i];
    }
    return 0;
}
