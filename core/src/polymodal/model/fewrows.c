/* Products of a few rows with a float32 weight: y[r, o] = b[o] + sum_i x[r, i] * w[o, i].
 *
 * Built and loaded by fewrows.py, which documents why. The weight is read from a copy packed in blocks of
 * BLOCK output columns, each block stored input-major ([blocks][in][BLOCK]), so one pass streams it from
 * memory once while every row keeps its BLOCK partial sums in vector registers. Each output is a sum in
 * input order, whatever the thread count: the result does not depend on the number of threads.
 * Threads are OpenMP's, which fewrows.py checks to be PyTorch's own runtime.
 */
#include <string.h>

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

long fewrows_block(void) { return BLOCK; }

long fewrows_max_rows(void) { return MAX_ROWS; }

/* p[q][i][j] = w[q * BLOCK + j][i], zero past the last output. */
void fewrows_pack(const float *w, long out, long in, float *p, int threads) {
    long blocks = (out + BLOCK - 1) / BLOCK;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (long q = 0; q < blocks; q++) {
        float *dst = p + q * in * BLOCK;
        for (long i = 0; i < in; i++)
            for (long j = 0; j < BLOCK; j++) {
                long o = q * BLOCK + j;
                dst[i * BLOCK + j] = o < out ? w[o * in + i] : 0.f;
            }
    }
}

/* Vectors of a block computed per pass over the input: as many as leave registers for the weight's. */
#define PER_PASS(R) ((R) * VECTORS + VECTORS <= REGISTERS ? VECTORS : (R) * 2 + 2 <= REGISTERS ? 2 : 1)

/* One block of outputs (o .. o + BLOCK - 1, clipped at out) for R rows. */
#define BLOCK_KERNEL(R)                                                                                      \
    static void block_##R(const float *x, long ldx, const float *p, long in, const float *b, float *y,       \
                          long ldy, long o, long out) {                                                       \
        enum { NV = PER_PASS(R) };                                                                            \
        long n = out - o < BLOCK ? out - o : BLOCK;                                                           \
        for (int c = 0; c < VECTORS; c += NV) {                                                               \
            vec acc[R][NV];                                                                                   \
            for (int r = 0; r < R; r++)                                                                       \
                for (int v = 0; v < NV; v++) acc[r][v] = (vec){0};                                            \
            const float *pc = p + c * LANES;                                                                  \
            for (long i = 0; i < in; i++) {                                                                   \
                vec wv[NV];                                                                                   \
                memcpy(wv, pc + i * BLOCK, sizeof wv);                                                        \
                for (int r = 0; r < R; r++) {                                                                 \
                    float xs = x[r * ldx + i];                                                                \
                    for (int v = 0; v < NV; v++) acc[r][v] += wv[v] * xs;                                     \
                }                                                                                             \
            }                                                                                                 \
            for (int r = 0; r < R; r++)                                                                       \
                for (int v = 0; v < NV; v++) {                                                                \
                    long j0 = (long)(c + v) * LANES;                                                          \
                    vec s = acc[r][v];                                                                        \
                    if (j0 + LANES <= n) {                                                                    \
                        if (b) {                                                                              \
                            vec bv;                                                                           \
                            memcpy(&bv, b + o + j0, sizeof bv);                                               \
                            s += bv;                                                                          \
                        }                                                                                     \
                        memcpy(y + r * ldy + o + j0, &s, sizeof s);                                           \
                    } else {                                                                                  \
                        for (long j = j0; j < n; j++) y[r * ldy + o + j] = s[j - j0] + (b ? b[o + j] : 0.f); \
                    }                                                                                         \
                }                                                                                             \
        }                                                                                                     \
    }                                                                                                         \
    static void rows_##R(const float *x, long ldx, const float *p, long out, long in, const float *b,         \
                         float *y, int threads) {                                                             \
        long blocks = (out + BLOCK - 1) / BLOCK;                                                              \
        _Pragma("omp parallel for schedule(static) num_threads(threads)") for (long q = 0; q < blocks; q++)  \
            block_##R(x, ldx, p + q * in * BLOCK, in, b, y, out, q * BLOCK, out);                             \
    }

BLOCK_KERNEL(1)
BLOCK_KERNEL(2)
BLOCK_KERNEL(3)
BLOCK_KERNEL(4)
BLOCK_KERNEL(5)
BLOCK_KERNEL(6)
BLOCK_KERNEL(7)
BLOCK_KERNEL(8)

typedef void (*rows_fn)(const float *, long, const float *, long, long, const float *, float *, int);
static const rows_fn ROWS[MAX_ROWS + 1] = {0, rows_1, rows_2, rows_3, rows_4, rows_5, rows_6, rows_7, rows_8};

/* y [rows, out] (contiguous) = x [rows, in] (row stride ldx) @ w.T + b, w packed by fewrows_pack; b may be
 * NULL. Returns 0, or -1 for a row count outside 1 .. MAX_ROWS. */
int fewrows_linear(const float *x, long rows, long ldx, const float *p, long out, long in, const float *b,
                   float *y, int threads) {
    if (rows < 1 || rows > MAX_ROWS) return -1;
    ROWS[rows](x, ldx, p, out, in, b, y, threads);
    return 0;
}
