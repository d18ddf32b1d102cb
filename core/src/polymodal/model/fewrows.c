/* Products of a few rows with a float32 or bfloat16 weight: y[r, o] = b[o] + sum_i x[r, i] * w[o, i].
 *
 * Built and loaded by native.py; fewrows.py documents why. The weight is read from a copy packed in blocks of
 * BLOCK output columns, each block stored input-major ([blocks][in][BLOCK]), so one pass streams it from
 * memory once while every row keeps its BLOCK partial sums in vector registers. Each output is a sum in
 * input order, whatever the thread count: the result does not depend on the number of threads.
 * bfloat16 operands are widened to float32 (exactly: a bfloat16 is the top half of a float32), the sums are
 * float32 and a bfloat16 result is rounded to nearest even, as oneDNN's bfloat16 product does.
 * Threads are OpenMP's, which native.py checks to be PyTorch's own runtime.
 */
#include <stdint.h>
#include <string.h>

#include "bf16.h"

#if defined(__AVX512F__)
#define LANES 16
#define REGISTERS 32
#else
#define LANES 8
#define REGISTERS 16
#endif
#define VECTORS 4
#define BLOCK (LANES * VECTORS)
#define MAX_ROWS 8

typedef float vec __attribute__((vector_size(LANES * 4), aligned(4)));
typedef uint32_t uvec __attribute__((vector_size(LANES * 4), aligned(4)));
typedef uint16_t hvec __attribute__((vector_size(LANES * 2), aligned(2)));

long fewrows_block(void) { return BLOCK; }

/* Loads of LANES weights and of one input, as float32. */
static inline vec load_f32(const float *p) {
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline vec load_bf16(const uint16_t *p) {
    hvec h;
    memcpy(&h, p, sizeof h);
    return (vec)(__builtin_convertvector(h, uvec) << 16);
}
static inline float scalar_f32(const float *p) { return *p; }
static inline float scalar_bf16(const uint16_t *p) { return bf16_to_float(*p); }

/* Stores of LANES results (the first n of them) as float32 or, rounded to nearest even, bfloat16 (the rule of
 * float_to_bf16 in bf16.h, on vectors). */
static inline void store(void *y, long at, vec s, long n, int bf16) {
    if (!bf16) {
        if (n == LANES) memcpy((float *)y + at, &s, sizeof s);
        else memcpy((float *)y + at, &s, n * sizeof(float));
        return;
    }
    uvec u = (uvec)s;
    u = (u + 0x7fff + ((u >> 16) & 1)) >> 16;
    hvec h = __builtin_convertvector(u, hvec);
    memcpy((uint16_t *)y + at, &h, n * sizeof(uint16_t));
}

/* p[q][i][j] = w[q * BLOCK + j][i], zero past the last output; T is the element type. */
#define PACK(NAME, T)                                                                                        \
    void NAME(const T *w, long out, long in, T *p, int threads) {                                            \
        long blocks = (out + BLOCK - 1) / BLOCK;                                                             \
        _Pragma("omp parallel for schedule(static) num_threads(threads)") for (long q = 0; q < blocks; q++) { \
            T *dst = p + q * in * BLOCK;                                                                     \
            for (long i = 0; i < in; i++)                                                                    \
                for (long j = 0; j < BLOCK; j++) {                                                           \
                    long o = q * BLOCK + j;                                                                  \
                    dst[i * BLOCK + j] = o < out ? w[o * in + i] : 0;                                        \
                }                                                                                            \
        }                                                                                                    \
    }

PACK(fewrows_pack, float)
PACK(fewrows_pack_bf16, uint16_t)

/* Vectors of a block computed per pass over the input: as many as leave registers for the weight's. */
#define PER_PASS(R) ((R) * VECTORS + VECTORS <= REGISTERS ? VECTORS : (R) * 2 + 2 <= REGISTERS ? 2 : 1)

/* One block of outputs (o .. o + BLOCK - 1, clipped at out) for R rows of element type T (SUFFIX names
 * its loads), and all blocks of a product on the OpenMP threads. */
#define BLOCK_KERNEL(SUFFIX, T, R)                                                                           \
    static void block_##SUFFIX##_##R(const T *x, long ldx, const T *p, long in, const float *b, void *y,    \
                                     int ybf16, long o, long out) {                                          \
        enum { NV = PER_PASS(R) };                                                                           \
        long n = out - o < BLOCK ? out - o : BLOCK;                                                          \
        for (int c = 0; c < VECTORS; c += NV) {                                                              \
            vec acc[R][NV];                                                                                  \
            for (int r = 0; r < R; r++)                                                                      \
                for (int v = 0; v < NV; v++) acc[r][v] = (vec){0};                                           \
            const T *pc = p + c * LANES;                                                                     \
            for (long i = 0; i < in; i++) {                                                                  \
                vec wv[NV];                                                                                  \
                for (int v = 0; v < NV; v++) wv[v] = load_##SUFFIX(pc + i * BLOCK + v * LANES);             \
                for (int r = 0; r < R; r++) {                                                                \
                    float xs = scalar_##SUFFIX(x + r * ldx + i);                                             \
                    for (int v = 0; v < NV; v++) acc[r][v] += wv[v] * xs;                                    \
                }                                                                                            \
            }                                                                                                \
            for (int r = 0; r < R; r++)                                                                      \
                for (int v = 0; v < NV; v++) {                                                               \
                    long j0 = (long)(c + v) * LANES;                                                         \
                    if (j0 >= n) continue;                                                                   \
                    long m = n - j0 < LANES ? n - j0 : LANES;                                                \
                    vec s = acc[r][v];                                                                       \
                    if (b) {                                                                                 \
                        vec bv = (vec){0};                                                                   \
                        memcpy(&bv, b + o + j0, m * sizeof(float));                                          \
                        s += bv;                                                                             \
                    }                                                                                        \
                    store(y, r * out + o + j0, s, m, ybf16);                                                 \
                }                                                                                            \
        }                                                                                                    \
    }                                                                                                        \
    static void team_##SUFFIX##_##R(const T *x, long ldx, const T *p, long out, long in, const float *b,   \
                                    void *y, int ybf16) {                                                    \
        long blocks = (out + BLOCK - 1) / BLOCK;                                                             \
        _Pragma("omp for schedule(static)") for (long q = 0; q < blocks; q++)                               \
            block_##SUFFIX##_##R(x, ldx, p + q * in * BLOCK, in, b, y, ybf16, q * BLOCK, out);              \
    }

#define ALL_ROWS(SUFFIX, T)                                                                                  \
    BLOCK_KERNEL(SUFFIX, T, 1)                                                                               \
    BLOCK_KERNEL(SUFFIX, T, 2)                                                                               \
    BLOCK_KERNEL(SUFFIX, T, 3)                                                                               \
    BLOCK_KERNEL(SUFFIX, T, 4)                                                                               \
    BLOCK_KERNEL(SUFFIX, T, 5)                                                                               \
    BLOCK_KERNEL(SUFFIX, T, 6)                                                                               \
    BLOCK_KERNEL(SUFFIX, T, 7)                                                                               \
    BLOCK_KERNEL(SUFFIX, T, 8)                                                                               \
    typedef void (*team_##SUFFIX##_fn)(const T *, long, const T *, long, long, const float *, void *, int); \
    static const team_##SUFFIX##_fn TEAM_##SUFFIX[MAX_ROWS + 1] = {                                         \
        0, team_##SUFFIX##_1, team_##SUFFIX##_2, team_##SUFFIX##_3, team_##SUFFIX##_4,                      \
        team_##SUFFIX##_5, team_##SUFFIX##_6, team_##SUFFIX##_7, team_##SUFFIX##_8};

ALL_ROWS(f32, float)
ALL_ROWS(bf16, uint16_t)

/* The products below share their blocks among the threads of an OpenMP team (an orphaned loop ending in a
 * barrier, team_* above): fewrows_linear and fewrows_linear_bf16 start a team of their own, fewrows_in_team runs
 * in the caller's. */

/* y [rows, out] (contiguous, float32) = x [rows, in] (row stride ldx) @ w.T + b, w packed by fewrows_pack;
 * b (float32) may be NULL. Returns 0, or -1 for a row count outside 1 .. MAX_ROWS. */
int fewrows_linear(const float *x, long rows, long ldx, const float *p, long out, long in, const float *b,
                   float *y, int threads) {
    if (rows < 1 || rows > MAX_ROWS) return -1;
#pragma omp parallel num_threads(threads)
    TEAM_f32[rows](x, ldx, p, out, in, b, y, 0);
    return 0;
}

/* The same for bfloat16 x and w (packed by fewrows_pack_bf16); y is bfloat16 where ybf16, else float32. */
int fewrows_linear_bf16(const uint16_t *x, long rows, long ldx, const uint16_t *p, long out, long in,
                        const float *b, void *y, int ybf16, int threads) {
    if (rows < 1 || rows > MAX_ROWS) return -1;
#pragma omp parallel num_threads(threads)
    TEAM_bf16[rows](x, ldx, p, out, in, b, y, ybf16);
    return 0;
}

/* rows (1 .. MAX_ROWS) of x (row stride ldx; float32, or bfloat16 where bf16) times a weight packed by
 * fewrows_pack or fewrows_pack_bf16, plus b (float32, or NULL): the float32 sums into y [rows, out], unrounded.
 * Called by every thread of the caller's OpenMP team: the decoder step of a few rows (rowstep.c) runs it among its
 * other work. Returns 0, or -1 for another row count. */
int fewrows_in_team(const void *x, long rows, long ldx, const void *p, long out, long in, const float *b, float *y,
                    int bf16) {
    if (rows < 1 || rows > MAX_ROWS) return -1;
    if (bf16) TEAM_bf16[rows]((const uint16_t *)x, ldx, (const uint16_t *)p, out, in, b, y, 0);
    else TEAM_f32[rows]((const float *)x, ldx, (const float *)p, out, in, b, y, 0);
    return 0;
}
