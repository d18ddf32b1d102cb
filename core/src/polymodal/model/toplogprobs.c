/* The k best columns of rows of logits and their log-probabilities (log_softmax), in one pass per part of a row.
 * Built and loaded by native.py; ranking.py documents why. Each part (one per thread) keeps its k best values,
 * its maximum and the sum of e^(x - maximum), rescaled when the maximum grows; the parts of a row are merged
 * after. The exponential is a polynomial of our own (below), within 3 ulp of e^x on the range it is used on.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__)
#define LANES 16
#else
#define LANES 8
#endif
typedef float vec __attribute__((vector_size(LANES * 4), aligned(4)));
typedef int ivec __attribute__((vector_size(LANES * 4), aligned(4)));
#define MAX_K 64
#define SPAN (4 * LANES)

long top_log_probs_max_k(void) { return MAX_K; }

/* e^x for x <= 0, flushed to (almost) 0 below -87: 2^n times a degree-6 polynomial of the rest. */
static inline vec exp_nonpositive(vec x) {
    const vec lo = (vec){0} - 87.0f;
    ivec below = x < lo;
    x = (vec)(((ivec)x & ~below) | ((ivec)lo & below));
    vec t = x * 1.44269504088896341f;
    ivec n = __builtin_convertvector(t - 0.5f, ivec); /* t <= 0: truncation rounds to nearest */
    vec nf = __builtin_convertvector(n, vec);
    vec r = x - nf * 0.693145751953125f - nf * 1.428606765330187e-06f;
    vec p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    return p * (vec)((n + 127) << 23);
}

static inline float hmax(vec v) { float m = v[0]; for (int i = 1; i < LANES; i++) m = v[i] > m ? v[i] : m; return m; }
static inline float hsum(vec v) { float s = 0; for (int i = 0; i < LANES; i++) s += v[i]; return s; }

/* keep the k best (value, index) in descending order */
static inline void insert(float *tv, long *ti, long k, float v, long i) {
    long j = k - 1;
    while (j > 0 && tv[j - 1] < v) { tv[j] = tv[j - 1]; ti[j] = ti[j - 1]; j--; }
    tv[j] = v; ti[j] = i;
}

typedef struct { float max, sum; float tv[MAX_K]; long ti[MAX_K]; } part_t;

/* One part of a row: its k best, its maximum and sum of e^(x - max), in one pass. */
static void scan(const float *x, long begin, long end, long k, part_t *out) {
    float m = -INFINITY, s = 0.f;
    for (long j = 0; j < k; j++) { out->tv[j] = -INFINITY; out->ti[j] = -1; }
    float thr = -INFINITY;
    long i = begin;
    vec acc = (vec){0};
    for (; i + SPAN <= end; i += SPAN) {
        vec v[4];
        memcpy(v, x + i, sizeof v);
        vec bm = v[0];
        for (int q = 1; q < 4; q++) { ivec gt = v[q] > bm; bm = (vec)(((ivec)v[q] & gt) | ((ivec)bm & ~gt)); }
        float block = hmax(bm);
        if (block > thr) {
            for (long j = i; j < i + SPAN; j++)
                if (x[j] > thr) { insert(out->tv, out->ti, k, x[j], j); thr = out->tv[k - 1]; }
        }
        if (block > m) {
            if (m > -INFINITY) { s += hsum(acc); s *= expf(m - block); acc = (vec){0}; }
            m = block;
        }
        if (m > -INFINITY)
            for (int q = 0; q < 4; q++) acc += exp_nonpositive(v[q] - m);
    }
    s += hsum(acc);
    for (; i < end; i++) {
        if (x[i] > thr) { insert(out->tv, out->ti, k, x[i], i); thr = out->tv[k - 1]; }
        if (x[i] > m) { s = (m > -INFINITY ? s * expf(m - x[i]) : 0.f); m = x[i]; }
        if (m > -INFINITY) s += expf(x[i] - m);
    }
    out->max = m; out->sum = s;
}

/* For rows of logits [rows, cols] (banned columns set to -inf here, in place): the k best columns of each
 * row and their log-probabilities (log_softmax), best first, into values and indices [rows, k]. Returns 0,
 * -1 for a k outside 1 .. min(MAX_K, cols), -2 when out of memory. */
int top_log_probs(float *logits, long rows, long cols, long k, const long *banned, long n_banned,
                  float *values, long *indices, int threads) {
    if (k < 1 || k > MAX_K || k > cols) return -1;
    /* a few rows are split in one part per thread, to keep every thread busy; many rows are not split */
    long parts = threads > 1 && rows < 4 * threads ? threads : 1;
    part_t *res = malloc(sizeof(part_t) * rows * parts);
    if (!res) return -2;
    for (long r = 0; r < rows; r++) for (long b = 0; b < n_banned; b++) logits[r * cols + banned[b]] = -INFINITY;
    long width = (cols + parts - 1) / parts;
    width = (width + SPAN - 1) / SPAN * SPAN;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (long t = 0; t < rows * parts; t++) {
        long r = t / parts, p = t % parts;
        long b = p * width, e = b + width < cols ? b + width : cols;
        scan(logits + r * cols, b < cols ? b : cols, e, k, &res[t]);
    }
    for (long r = 0; r < rows; r++) {
        part_t *pr = res + r * parts;
        float m = -INFINITY, s = 0.f;
        for (long p = 0; p < parts; p++) m = pr[p].max > m ? pr[p].max : m;
        for (long p = 0; p < parts; p++) if (pr[p].max > -INFINITY) s += pr[p].sum * expf(pr[p].max - m);
        /* (x - max) - log(sum), in that order: max + log(sum) would round away log(sum) at large logits */
        float shift = m > -INFINITY ? m : 0.f, log_sum = m > -INFINITY ? logf(s) : 0.f; /* none allowed: -inf */
        float tv[MAX_K]; long ti[MAX_K];
        for (long j = 0; j < k; j++) { tv[j] = -INFINITY; ti[j] = -1; }
        for (long p = 0; p < parts; p++)
            for (long j = 0; j < k && pr[p].ti[j] >= 0; j++)
                if (pr[p].tv[j] > tv[k - 1] || ti[k - 1] < 0) insert(tv, ti, k, pr[p].tv[j], pr[p].ti[j]);
        /* fewer than k columns allowed: the rest are the first other columns, at -inf */
        for (long j = 0, c = 0; j < k; j++) {
            if (ti[j] >= 0) continue;
            for (;; c++) {
                long used = 0;
                for (long q = 0; q < j; q++) used |= ti[q] == c;
                if (!used) break;
            }
            tv[j] = -INFINITY; ti[j] = c++;
        }
        for (long j = 0; j < k; j++) { values[r * k + j] = (tv[j] - shift) - log_sum; indices[r * k + j] = ti[j]; }
    }
    free(res);
    return 0;
}
