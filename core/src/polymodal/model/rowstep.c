/* One decoder layer's step for a single row in one call: the layer norms, the six products, the cache write, both
 * attentions and the feed-forward, on one OpenMP team; float32, or bfloat16 weights under autocast.
 *
 * Built and loaded by native.py; rowstep.py documents why. The float32 products read each weight in its own
 * [out, in] layout, each thread streaming a contiguous run of rows, ROW_GROUP rows at a time with two vectors of
 * partial sums per row; the bfloat16 ones run fewrows.c's kernel on its packed copies. Every sum runs in a fixed
 * order on one thread, so the result does not depend on the number of threads. Threads are OpenMP's, which
 * native.py checks to be PyTorch's own runtime.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
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
static inline float scalar_bf16(const uint16_t *p) {
    uint32_t u = (uint32_t)*p << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* f rounded to the nearest bfloat16 (ties to even), as a float32 or as its 16 bits. */
static inline uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}
static inline float round_bf16(float f) { return scalar_bf16((const uint16_t[]){to_bf16(f)}); }

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

/* One bfloat16 row times a packed bfloat16 weight, shared among the team's threads (fewrows.c). */
void fewrows_row_bf16_in_team(const uint16_t *x, const uint16_t *p, long out, long in, const float *b, float *y);

/* The product on a float32 weight in its own layout, or on a bfloat16 weight packed for the few-row kernel (which
 * read it at 56 GB/s in the decoding loop, where the loop above on the plain layout reached 32, held back by
 * widening the weight's halves): x16 is work space for x as bfloat16. A bfloat16 product's result is rounded to
 * bfloat16 before and after the activation, as PyTorch's bfloat16 product and activation round theirs. */
static inline void product(const float *x, const void *w, const float *b, float *y, long out, long in, int act,
                           int bf16, uint16_t *x16) {
    if (!bf16) {
        product_f32(x, (const float *)w, b, y, out, in, act);
        return;
    }
#pragma omp single
    for (long i = 0; i < in; i++) x16[i] = to_bf16(x[i]);
    fewrows_row_bf16_in_team(x16, (const uint16_t *)w, out, in, b, y);
#pragma omp for schedule(static)
    for (long o = 0; o < out; o++) {
        float v = round_bf16(y[o]);
        y[o] = act >= 0 ? round_bf16(activate(v, act)) : v;
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
    P_LN3_W, P_LN3_B, P_FC1_W, P_FC1_B, P_FC2_W, P_FC2_B, P_D, P_HEADS, P_FFN, P_ACT, P_BF16, P_COUNT
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
    for (long i = 0; i < dim; i++) c[i] = to_bf16(v[i]);
}

/* Run one layer on the row x ([d], float32, updated in place) at position pos. The weights, the caches and the
 * encoder's keys and values are float32, or bfloat16 where the parameters say so (then every product's input and
 * output, the activation's output and the attention's output are rounded to bfloat16, as under PyTorch's
 * autocast; the layer norms and the residual additions stay float32). self_k / self_v: the layer's key and value
 * cache of this row, heads self_head apart and positions self_pos apart (the new key and value are written at
 * pos). cross_k / cross_v: the encoder's keys and values of this row (heads cross_head apart, positions cross_pos
 * apart, n_src of them; NULL: no cross-attention), mask: n_src bytes, nonzero where a source position may be
 * seen, or NULL; cross_scale: multiplies the cross-attention's output (NULL: 1). eps: the three layer norms'.
 * Biases are float32; bfloat16 weights come packed by fewrows_pack_bf16. scratch: at least
 * 6 * d + 2 * ffn + heads * (pos + 1 + n_src) floats. Returns 0. */
int row_step(const int64_t *p, const float *eps, float *x, void *self_k, void *self_v, long self_head,
             long self_pos, long pos, const void *cross_k, const void *cross_v, long cross_head, long cross_pos,
             long n_src, const uint8_t *mask, const float *cross_scale, float *scratch, int threads) {
    long d = p[P_D], heads = p[P_HEADS], ffn = p[P_FFN], dim = d / heads;
    int act = (int)p[P_ACT], bf16 = (int)p[P_BF16];
    long size = bf16 ? sizeof(uint16_t) : sizeof(float);
    float scale = 1.0f / sqrtf((float)dim);
    float *h = scratch, *qkv = h + d, *o = qkv + 3 * d, *t = o + d, *f = t + d, *scores = f + ffn;
    uint16_t *x16 = (uint16_t *)(scores + heads * (pos + 1 + n_src));
    long keys = pos + 1, per_head = keys + n_src;
#pragma omp parallel num_threads(threads)
    {
#pragma omp single
        layer_norm(x, PTR(P_LN1_W), PTR(P_LN1_B), eps[0], h, d);
        product(h, WEIGHT(P_QKV_W), PTR(P_QKV_B), qkv, 3 * d, d, -1, bf16, x16);
#pragma omp for schedule(static)
        for (long hd = 0; hd < heads; hd++) {
            char *kc = (char *)self_k + hd * self_head * size, *vc = (char *)self_v + hd * self_head * size;
            put(kc, pos * self_pos, qkv + d + hd * dim, dim, bf16);
            put(vc, pos * self_pos, qkv + 2 * d + hd * dim, dim, bf16);
            attention_query(qkv + hd * dim, kc, self_pos, vc, self_pos, keys, NULL, dim, scale, bf16,
                            scores + hd * per_head, o + hd * dim);
        }
        product(o, WEIGHT(P_OUT_W), PTR(P_OUT_B), t, d, d, -1, bf16, x16);
#pragma omp single
        {
            for (long i = 0; i < d; i++) x[i] += t[i];
            if (cross_k) layer_norm(x, PTR(P_LN2_W), PTR(P_LN2_B), eps[1], h, d);
        }
        if (cross_k) {
            product(h, WEIGHT(P_CQ_W), PTR(P_CQ_B), qkv, d, d, -1, bf16, x16);
#pragma omp for schedule(static)
            for (long hd = 0; hd < heads; hd++)
                attention_query(qkv + hd * dim, (const char *)cross_k + hd * cross_head * size, cross_pos,
                                (const char *)cross_v + hd * cross_head * size, cross_pos, n_src, mask, dim, scale,
                                bf16, scores + hd * per_head + keys, o + hd * dim);
            product(o, WEIGHT(P_CO_W), PTR(P_CO_B), t, d, d, -1, bf16, x16);
#pragma omp single
            {
                float c = cross_scale ? *cross_scale : 1.0f;
                if (c == 1.0f)
                    for (long i = 0; i < d; i++) x[i] += t[i];
                else
                    for (long i = 0; i < d; i++) x[i] += t[i] * c;
            }
        }
#pragma omp single
        layer_norm(x, PTR(P_LN3_W), PTR(P_LN3_B), eps[2], h, d);
        product(h, WEIGHT(P_FC1_W), PTR(P_FC1_B), f, ffn, d, act, bf16, x16);
        product(f, WEIGHT(P_FC2_W), PTR(P_FC2_B), t, d, ffn, -1, bf16, x16);
#pragma omp single
        for (long i = 0; i < d; i++) x[i] += t[i];
    }
    return 0;
}
