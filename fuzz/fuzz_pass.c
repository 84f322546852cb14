/* fuzz_pass.c -- fuzz target for the expmix C core (libFuzzer).
 *
 * The input bytes are read as: K (1..16), a mode byte, segment sizes, then
 * IEEE doubles for the data and the parameters.  Mode 0 passes the doubles
 * raw (NaN, inf, negative, subnormal, 1e308 ...: exercises em_data_check and
 * the parameter checks); mode 1 maps them to valid data (|x|, non-finite ->
 * 1) at any magnitude, so that em_pass and em_fit run on wild but legal data.
 * Invariants (abort on violation, which libFuzzer reports as a crash):
 *   - every status is one of enum em_status;
 *   - em_pass returns EM_OK only with a finite log-likelihood and finite
 *     statistics, R_k >= 0 and X_k >= 0;
 *   - em_fit with a non-negative status returns weights in [0, 1] summing to 1
 *     and positive finite rates, and a finite log-likelihood.
 * Run under ASan/UBSan (.ci/sanitizers.sh):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Icsrc csrc/pass.c csrc/fit.c \
 *         fuzz/fuzz_pass.c -lm -o /tmp/fuzz_pass && /tmp/fuzz_pass -max_total_time=30
 * Without libFuzzer (gcc), -DFUZZ_STANDALONE builds a driver that feeds
 * random inputs from a fixed-seed generator for argv[1] seconds.
 */
#include "expmix.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 600

static size_t take(const uint8_t **p, size_t *left, void *dst, size_t n)
{
    size_t m = n < *left ? n : *left;
    memset(dst, 0, n);
    memcpy(dst, *p, m);
    *p += m;
    *left -= m;
    return m;
}

static double get_double(const uint8_t **p, size_t *left, int mode)
{
    double x;
    take(p, left, &x, sizeof x);
    if (mode == 1) {
        x = fabs(x);
        if (!isfinite(x)) x = 1.0;
    }
    return x;
}

static int valid_status(int s)
{
    return s >= EM_ERR_NO_INFO && s <= EM_INTERRUPTED;
}

#define REQUIRE(c)                                                             \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static double ex[MAXN], exw[MAXN], rc[MAXN], lo[MAXN], hi[MAXN], tr[MAXN], trw[MAXN];
    const uint8_t *p = data;
    size_t left = size;
    uint8_t hdr[6];
    int K, mode, use_w;
    int64_t ne, nr, ni, nt;
    double w[16], mu[16], R[16], X[16], wsum = 0.0;
    em_data d;
    em_stats st;
    int s;

    take(&p, &left, hdr, sizeof hdr);
    K = 1 + hdr[0] % 16;
    mode = hdr[1] & 1;
    use_w = (hdr[1] >> 1) & 1;
    ne = hdr[2] % 200 + (hdr[1] & 4 ? 300 : 0);
    nr = hdr[3] % 40;
    ni = hdr[4] % 40;
    nt = hdr[5] % 4;
    for (int64_t i = 0; i < ne; i++) {
        ex[i] = get_double(&p, &left, mode);
        exw[i] = use_w ? get_double(&p, &left, mode) : 1.0;
    }
    for (int64_t i = 0; i < nr; i++) rc[i] = get_double(&p, &left, mode);
    for (int64_t i = 0; i < ni; i++) {
        double a = get_double(&p, &left, mode), b = get_double(&p, &left, mode);
        if (mode == 1) {   /* a valid interval: a < b */
            double l = a < b ? a : b, h = a < b ? b : a;
            if (!(h > l)) h = l > 0 ? l * 2.0 : 1.0;
            if (!isfinite(h)) { h = l; l = l * 0.5; }
            a = l;
            b = h;
        }
        lo[i] = a;
        hi[i] = b;
    }
    for (int64_t i = 0; i < nt; i++) {
        tr[i] = get_double(&p, &left, mode);
        trw[i] = get_double(&p, &left, mode);
    }
    for (int k = 0; k < K; k++) {
        w[k] = fabs(get_double(&p, &left, 1));
        mu[k] = get_double(&p, &left, mode);
        if (mode == 1 && !(mu[k] > 0.0)) mu[k] = 1.0;
        wsum += w[k];
    }
    if (mode == 1 && wsum > 0.0 && isfinite(wsum))
        for (int k = 0; k < K; k++) w[k] /= wsum;

    memset(&d, 0, sizeof d);
    d.n_exact = ne; d.exact = ex; d.exact_w = use_w ? exw : NULL;
    d.n_right = nr; d.right = rc;
    d.n_interval = ni; d.lower = lo; d.upper = hi;
    d.n_trunc = nt; d.trunc = tr; d.trunc_w = trw;

    s = em_data_check(&d);
    REQUIRE(s == EM_OK || s == EM_ERR_DATA || s == EM_ERR_ARGUMENT);
    (void)em_data_scale(&d);

    st.resp = R;
    st.resp_x = X;
    s = em_pass(&d, K, w, mu, 1 + (hdr[0] & 1), &st);
    REQUIRE(valid_status(s) && s <= 0);
    if (s == EM_OK) {
        REQUIRE(isfinite(st.loglik));
        for (int k = 0; k < K; k++) REQUIRE(isfinite(R[k]) && isfinite(X[k]) && R[k] >= 0.0 && X[k] >= 0.0);
    }

    {
        em_options o;
        em_result r;
        double w2[16], mu2[16];
        memcpy(w2, w, sizeof w2);
        memcpy(mu2, mu, sizeof mu2);
        em_options_default(&o);
        o.max_iter = 20;
        o.scale = em_data_scale(&d);
        memset(&r, 0, sizeof r);
        s = em_fit(&d, K, w2, mu2, &o, &r);
        REQUIRE(valid_status(s) && s == r.status);
        if (s >= 0) {
            double t = 0.0;
            REQUIRE(isfinite(r.loglik));
            for (int k = 0; k < K; k++) {
                REQUIRE(w2[k] >= 0.0 && w2[k] <= 1.0 + 1e-12);
                REQUIRE(mu2[k] > 0.0 && isfinite(mu2[k]));
                t += w2[k];
            }
            REQUIRE(fabs(t - 1.0) < 1e-9);
        }
    }
    return 0;
}

#ifdef FUZZ_STANDALONE
#include <time.h>
int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10.0;
    uint64_t z = 0x9E3779B97F4A7C15ULL;
    static uint8_t buf[16384];
    long runs = 0;
    clock_t t0 = clock();
    while ((double)(clock() - t0) / CLOCKS_PER_SEC < seconds) {
        size_t n = (size_t)((z >> 33) % sizeof buf);
        for (size_t i = 0; i < n; i++) {
            z = z * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[i] = (uint8_t)(z >> 56);
            /* bias some doubles towards ordinary magnitudes */
            if ((i & 7) == 7 && (z & 3) == 0) buf[i] = 0x3f;
        }
        LLVMFuzzerTestOneInput(buf, n);
        runs++;
    }
    printf("%ld runs, no invariant violated\n", runs);
    return 0;
}
#endif
