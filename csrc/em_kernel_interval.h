/* em_kernel_interval.h -- interval-censored observations, small K (template).
 *
 * Included once per CPU code path by em_dispatch_*.c (after em_kernel_exact.h)
 * with EMK(name) appending the path suffix.  It defines
 *   int64_t EMK(em_interval_fast)(const em_par *p, const double *lo,
 *                                 const double *hi, const double *wt,
 *                                 int64_t n, double *acc);
 * which processes whole tiles of EMI_TILE = 64 intervals (a_i, b_i) from the
 * start of a block into the lane accumulators acc (layout of em_internal.h),
 * and returns how many points it consumed: it stops at the first tile it
 * cannot take (the caller runs that tile through the general kernel of
 * pass.c and calls again), and returns -1 when it cannot take any (K > 8, a
 * zero weight, parameters outside the range below).
 *
 * Per point and component (u = mu_k d, d = b - a, p_k = 1 - e^{-u}):
 *   a_ik = log w_k - mu_k a + log p_k,     E_ik = a + d g(u),
 *   g(u) = 1/u - 1/(e^u - 1)  (series below u = 0.1, as in pass.c).
 * Reference component 0' = the smallest rate, Dmu_k = mu_k - mu_0' >= 0.
 *
 * 1. Tiles of (nearly) equal widths -- histograms with equal bins, values
 *    rounded to a grid: |d_i - d0| <= 2^-32 d0 for every point of the tile,
 *    d0 the first width.  With delta_i = d_i - d0, per component
 *      log p_k(d_i) = f0_k + delta_i f1_k,   f0 = log p(d0), f1 = mu e^{-u0}/p0
 *      d_i g(mu d_i) = h0_k + delta_i h1_k,  h0 = d0 g(u0), h1 = (u g)'(u0)
 *    (first order in delta; |f''| d0^2 <= 1 and |h''| d0 <= 1, so the
 *    neglected terms are below 2^-65 relative: far below rounding).  The
 *    per-tile constants (K expm1 + K log, scalar) cost nothing per point,
 *    and the tile is exact data in disguise: a_ik = c_ik - mu_k a_i with
 *    c_ik = log w_k + f0_k + delta_i f1_k.  The algebra of
 *    em_kernel_exact.h applies unchanged: s_i = 1 + sum_{k != 0'} e^{d_ik},
 *    d_ik = (c_ik - c_i0') - Dmu_k a_i <= log(w_k mu_k / w_0' mu_0') (since
 *    p_k / p_0' <= mu_k / mu_0'), K - 1 exps per point, no max, and for unit
 *    weights one log and one division per 8 points (product of sums and
 *    prefix/suffix reciprocals).
 * 2. Other tiles (widths that differ): per point K expm1 (p_k) and K - 1 exps
 *      t_k = e^{log(w_k/w_0') - Dmu_k a},  S = p_0' + sum t_k p_k,
 *      log L = log w_0' - mu_0' a + log S,  r_k = v t_k p_k / S,
 *      r_k d g_k = (v t_k / S) G_k,  G_k = p_k / mu_k - d e^{-u}  (u >= 0.1)
 *                                        = p_k d g_series(u)      (u <  0.1)
 *    (no division per component); one log and one division per point.
 * Far-tail bins stay in log space (-mu_0' a enters additively), narrow bins
 * keep relative precision through expm1, exp arguments are clamped at -708
 * (no subnormal results) as in the other kernels.  Only em_exp_k (its
 * domain [-708.3, 709] holds: arguments in [-708, 80]), em_expm1 and em_log
 * (em_vmath.h, tested bounds) are used.
 */

#define EMI_TILE 64
/* keep the lane loop (it is the vector); see em_kernel_exact.h */
#if defined(__GNUC__) && !defined(__clang__)
#define EMI_VECLOOP _Pragma("GCC unroll 1")
#else
#define EMI_VECLOOP
#endif
#ifndef EMI_DMAX
#define EMI_DMAX 80.0          /* the same range as the exact kernel */
#define EMI_UNIFORM_TOL 2.3283064365386963e-10   /* 2^-32 */
#endif

/* g(u) = 1/u - 1/(e^u - 1) from m1 = expm1(-u) (the formula of pass.c) */
static inline double EMK(em_k_gfun)(double u, double m1)
{
    double p1 = -m1, u2 = u * u;
    double series = 0.5 + u * (-1.0 / 12.0 + u2 * (1.0 / 720.0
                    + u2 * (-1.0 / 30240.0 + u2 * (1.0 / 1209600.0))));
    double direct = (p1 - u * (1.0 + m1)) / (u * p1);
    return em_vm_selm(em_vm_signmask(u - 0.1), series, direct);
}

/* Per-tile constants of a bin of width d0 under rate mu (scalar). */
static inline void EMK(em_k_bin_consts)(double mu, double d0, double *f0, double *f1,
                                        double *h0, double *h1)
{
    double u = mu * d0;
    double m1 = em_expm1(-u), p = -m1, e = 1.0 + m1;
    *f0 = em_log(p);
    *f1 = mu * e / p;
    *h0 = d0 * EMK(em_k_gfun)(u, m1);
    if (u < 0.1) {
        double u2 = u * u;
        *h1 = 0.5 + u * (-1.0 / 6.0 + u2 * (1.0 / 180.0 + u2 * (-1.0 / 5040.0
              + u2 * (1.0 / 151200.0))));
    } else {
        *h1 = (u / p - 1.0) * e / p;
    }
}

/* The tile bodies are separate (not inlined) functions, one per KK and
 * weighting: in one big function gcc 12 runs out of inlining budget and
 * calls em_log out of line.  Each body adds its lane sums to tot
 * (EMI_NTOT doubles: R[8][8], X[8][8], L[8], W[8], component order of perm);
 * em_interval_fast scatters them into acc at the end. */
#if defined(__GNUC__) || defined(__clang__)
#define EMI_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define EMI_NOINLINE __declspec(noinline)
#else
#define EMI_NOINLINE
#endif
#define EMI_KMAX 8
#define EMI_NTOT ((2 * EMI_KMAX + 2) * EM_LANES)
#define EMI_R(k) ((k) * EM_LANES)
#define EMI_X(k) ((EMI_KMAX + (k)) * EM_LANES)
#define EMI_L (2 * EMI_KMAX * EM_LANES)
#define EMI_W ((2 * EMI_KMAX + 1) * EM_LANES)

#ifndef EMI_CONST_DEFINED
#define EMI_CONST_DEFINED
/* constants of one call (components in the order of perm, 0' first) and of
 * the reference width */
typedef struct emi_const {
    double lwd[8], md[8], imu[8], mus[8], kp[8];    /* per call */
    double lw0, mu0;
    double cd[8], fd[8], h0[8], h1[8], c0, f10;     /* per reference width */
} emi_const;
#endif

#define EMI_BODY_BEGIN                                                        \
    double A[EMI_NTOT];                                                      \
    double cd[8], fd[8], md[8], h0[8], h1[8], kp[8], lwd[8], imu[8], mus[8]; \
    const double c0 = C->c0, f10 = C->f10, mu0 = C->mu0, lw0 = C->lw0;       \
    for (int k = 0; k < EMI_KMAX; k++) {                                     \
        cd[k] = C->cd[k]; fd[k] = C->fd[k]; md[k] = C->md[k];                \
        h0[k] = C->h0[k]; h1[k] = C->h1[k]; kp[k] = C->kp[k];                \
        lwd[k] = C->lwd[k]; imu[k] = C->imu[k]; mus[k] = C->mus[k];          \
    }                                                                        \
    (void)c0; (void)f10; (void)mu0; (void)lw0; (void)lwd; (void)imu; (void)mus; \
    (void)cd; (void)fd; (void)md; (void)h0; (void)h1; (void)kp;             \
    for (int i = 0; i < EMI_NTOT; i++) A[i] = 0.0;
#define EMI_BODY_END                                                          \
    for (int i = 0; i < EMI_NTOT; i++) tot[i] += A[i];

/* ---- uniform-width tiles, one component step (compile-time k < KK) ---- */
#define EMI_UEXP(k, KK)                                                       \
    if ((k) < KK) {                                                          \
        double dd = cd[k] + del * fd[k] - md[k] * ai;                        \
        dd = dd < -708.0 ? -708.0 : dd;                                      \
        double e = em_exp_k(dd) * kp[k];                                     \
        E[k][j + l] = e;                                                     \
        s += e;                                                              \
    }
#define EMI_UACC(k, KK)                                                       \
    if ((k) < KK) {                                                          \
        double r = E[k][j + l] * q;                                          \
        A[EMI_R(k) + l] += r;                                                \
        A[EMI_X(k) + l] += r * (ai + (h0[k] + del * h1[k]));                 \
    }

/* KK components, WEIGHTED 0/1.  Unit weights: prefix/suffix reciprocals
 * (em_kernel_exact.h); weights: one division and one log per point. */
#define EMI_DEF_UNIFORM(KK, WEIGHTED)                                         \
static EMI_NOINLINE void EMK(emi_uniform_##KK##_##WEIGHTED)(                 \
    const emi_const *C, const double *restrict at, const double *restrict DL, \
    const double *restrict vt, double *restrict tot)                         \
{                                                                            \
    double E[8][EMI_TILE], S[EMI_TILE], PRE[EMI_TILE];                       \
    double prod[EM_LANES], suf[EM_LANES];                                    \
    EMI_BODY_BEGIN                                                           \
    (void)vt;                                                                \
    for (int l = 0; l < EM_LANES; l++) prod[l] = 1.0;                        \
    for (int j = 0; j < EMI_TILE; j += EM_LANES)                             \
        EMI_VECLOOP                                                          \
        for (int l = 0; l < EM_LANES; l++) {                                 \
            double ai = at[j + l], del = DL[j + l];                          \
            double s = 1.0;                                                  \
            EMI_UEXP(1, KK) EMI_UEXP(2, KK) EMI_UEXP(3, KK) EMI_UEXP(4, KK)  \
            EMI_UEXP(5, KK) EMI_UEXP(6, KK) EMI_UEXP(7, KK)                  \
            double a0 = c0 + del * f10 - mu0 * ai;                           \
            if (WEIGHTED) {                                                  \
                double v = vt[j + l];                                        \
                S[j + l] = v / s;                                            \
                A[EMI_L + l] += v * (a0 + em_log(s));                        \
                A[EMI_W + l] += v;                                           \
            } else {                                                         \
                S[j + l] = s;                                                \
                PRE[j + l] = prod[l];                                        \
                prod[l] *= s;                                                \
                A[EMI_L + l] += a0;                                          \
            }                                                                \
        }                                                                    \
    if (!WEIGHTED)                                                           \
        for (int l = 0; l < EM_LANES; l++) {                                 \
            suf[l] = 1.0 / prod[l];                                          \
            A[EMI_L + l] += em_log(prod[l]);                                 \
        }                                                                    \
    for (int j = EMI_TILE - EM_LANES; j >= 0; j -= EM_LANES)                 \
        EMI_VECLOOP                                                          \
        for (int l = 0; l < EM_LANES; l++) {                                 \
            double ai = at[j + l], del = DL[j + l];                          \
            double q;                                                        \
            if (WEIGHTED) {                                                  \
                q = S[j + l];                                                \
            } else {                                                         \
                q = suf[l] * PRE[j + l];                                     \
                suf[l] *= S[j + l];                                          \
            }                                                                \
            A[EMI_R(0) + l] += q;                                            \
            A[EMI_X(0) + l] += q * (ai + (h0[0] + del * h1[0]));             \
            EMI_UACC(1, KK) EMI_UACC(2, KK) EMI_UACC(3, KK) EMI_UACC(4, KK)  \
            EMI_UACC(5, KK) EMI_UACC(6, KK) EMI_UACC(7, KK)                  \
        }                                                                    \
    if (!WEIGHTED) A[EMI_W] += (double)EMI_TILE;                             \
    EMI_BODY_END                                                             \
}

/* ---- tiles of differing widths, one component step ---- */
#define EMI_GEXP(k, KK)                                                       \
    if ((k) < KK) {                                                          \
        double u = mus[k] * di;                                              \
        double m1 = em_expm1(-u);                                            \
        double pk = -m1;                                                     \
        double dd = lwd[k] - md[k] * ai;                                     \
        dd = dd < -708.0 ? -708.0 : dd;                                      \
        double t = ((k) == 0 ? 1.0 : em_exp_k(dd)) * kp[k];                  \
        double u2 = u * u;                                                   \
        double ser = pk * di * (0.5 + u * (-1.0 / 12.0 + u2 * (1.0 / 720.0   \
                     + u2 * (-1.0 / 30240.0 + u2 * (1.0 / 1209600.0)))));    \
        double dir = pk * imu[k] - di * (1.0 + m1);                          \
        double G = em_vm_selm(em_vm_signmask(u - 0.1), ser, dir);           \
        T[k] = t * pk;                                                       \
        TG[k] = t * (pk * ai + G);                                           \
        s += T[k];                                                           \
    }
#define EMI_GACC(k, KK)                                                       \
    if ((k) < KK) {                                                          \
        A[EMI_R(k) + l] += q * T[k];                                         \
        A[EMI_X(k) + l] += q * TG[k];                                        \
    }

/* weights only (unit weights come as a vector of ones: this body divides
 * per point anyway, and gcc 12 vectorizes only its weighted form) */
#define EMI_DEF_GENERAL(KK)                                                   \
static EMI_NOINLINE void EMK(emi_general_##KK)(                              \
    const emi_const *C, const double *restrict at, const double *restrict ht, \
    const double *restrict vt, double *restrict tot)                         \
{                                                                            \
    EMI_BODY_BEGIN                                                           \
    for (int j = 0; j < EMI_TILE; j += EM_LANES)                             \
        EMI_VECLOOP                                                          \
        for (int l = 0; l < EM_LANES; l++) {                                 \
            double ai = at[j + l], di = ht[j + l] - ai;                      \
            double T[8], TG[8];                                              \
            double s = 0.0;                                                  \
            EMI_GEXP(0, KK) EMI_GEXP(1, KK) EMI_GEXP(2, KK) EMI_GEXP(3, KK)  \
            EMI_GEXP(4, KK) EMI_GEXP(5, KK) EMI_GEXP(6, KK) EMI_GEXP(7, KK)  \
            double v = vt[j + l];                                            \
            double q = v / s;                                                \
            A[EMI_L + l] += v * (lw0 - mu0 * ai + em_log(s));                \
            A[EMI_W + l] += v;                                               \
            EMI_GACC(0, KK) EMI_GACC(1, KK) EMI_GACC(2, KK) EMI_GACC(3, KK)  \
            EMI_GACC(4, KK) EMI_GACC(5, KK) EMI_GACC(6, KK) EMI_GACC(7, KK)  \
        }                                                                    \
    EMI_BODY_END                                                             \
}

/* K = 2 runs the K = 3 bodies with a phantom component (kp = 0: exactly
 * zero terms), as in em_kernel_exact.h: gcc 12 leaves the two-component
 * uniform lane loop scalar ("control flow in loop").  K = 5..7 run the
 * K = 8 bodies with phantom components likewise (one body instead of four:
 * compile time, above all under the sanitizers; the AVX-512 path has its
 * own per-K bodies in em_kernel_interval_avx512.h). */
EMI_DEF_UNIFORM(1, 0)
EMI_DEF_UNIFORM(3, 0)
EMI_DEF_UNIFORM(4, 0)
EMI_DEF_UNIFORM(8, 0)
EMI_DEF_UNIFORM(1, 1)
EMI_DEF_UNIFORM(3, 1)
EMI_DEF_UNIFORM(4, 1)
EMI_DEF_UNIFORM(8, 1)
EMI_DEF_GENERAL(1)
EMI_DEF_GENERAL(3)
EMI_DEF_GENERAL(4)
EMI_DEF_GENERAL(8)

int64_t EMK(em_interval_fast)(const em_par *p, const double *restrict lo,
                              const double *restrict hi, const double *restrict wt,
                              int64_t n, double *restrict acc)
{
    const int K = p->K;
    const double *mu = p->mu;
    int perm[EMI_KMAX];
    double D = 0.0, tot[EMI_NTOT];
    emi_const C;
    /* unit weights of the general (differing widths) tiles: that body
     * divides per point anyway, and gcc 12 vectorizes only its weighted form */
    static const double ones[EMI_TILE] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    int64_t i0;
    if (K > EMI_KMAX) return -1;
    if (!em_fast_reference(mu, p->logw_mu, K, EMI_DMAX, perm, &D)) return -1;
    for (int k = 0; k < EMI_KMAX; k++) {
        int pk = perm[k < K ? k : 0];
        C.lwd[k] = k < K ? p->logw[pk] - p->logw[perm[0]] : 0.0;
        C.md[k] = k < K ? mu[pk] - mu[perm[0]] : 0.0;
        C.imu[k] = p->inv_mu[pk];
        C.mus[k] = mu[pk];
        C.kp[k] = k < K ? 1.0 : 0.0;     /* k >= K: phantom component */
        C.cd[k] = C.fd[k] = C.h0[k] = C.h1[k] = 0.0;
    }
    C.c0 = C.f10 = 0.0;
    const double lw0 = p->logw[perm[0]], mu0 = mu[perm[0]];
    C.lw0 = lw0;
    C.mu0 = mu0;
    for (int i = 0; i < EMI_NTOT; i++) tot[i] = 0.0;

    /* constants of the reference width dref (cached across tiles: rounded
     * values and equal bins keep one dref for a whole block) */
    double dref = -1.0;
    int ok = 0;
    for (i0 = 0; i0 + EMI_TILE <= n; i0 += EMI_TILE) {
        const double *restrict at = lo + i0, *restrict ht = hi + i0;
        const double *restrict vt = wt ? wt + i0 : NULL;
        double DL[EMI_TILE];
        uint64_t big = 1;
        for (int attempt = 0; attempt < 2 && big; attempt++) {
            if (attempt == 1 || dref < 0.0) {
                /* (re)compute the constants at the first width of the tile */
                double f0[EMI_KMAX] = {0}, f1[EMI_KMAX] = {0};
                if (attempt == 0) attempt = 1;
                dref = ht[0] - at[0];
                ok = 1;
                for (int k = 0; k < K; k++)
                    EMK(em_k_bin_consts)(C.mus[k], dref, &f0[k], &f1[k], &C.h0[k], &C.h1[k]);
                for (int k = 0; k < K; k++) {
                    C.cd[k] = (p->logw[perm[k]] + f0[k]) - (lw0 + f0[0]);
                    C.fd[k] = f1[k] - f1[0];
                    /* finite and in range (p_k / p_0' <= mu_k / mu_0' makes cd_k
                     * <= D up to rounding; an underflowed p_0' (subnormal widths)
                     * gives a non-finite value: general kernel) */
                    ok &= (C.cd[k] <= EMI_DMAX) & (fabs(C.cd[k]) < INFINITY)
                          & (fabs(C.fd[k]) < INFINITY) & (fabs(f0[k]) < INFINITY)
                          & (fabs(f1[k]) < INFINITY);
                }
                C.c0 = lw0 + f0[0];
                C.f10 = f1[0];
            }
            /* every width within 2^-32 relative of dref?  (|delta| > tol dref
             * as an integer compare of the bit patterns, both >= 0) */
            const uint64_t tolbits = em_vm_bits(EMI_UNIFORM_TOL * dref);
            big = 0;
            for (int i = 0; i < EMI_TILE; i++) {
                double del = (ht[i] - at[i]) - dref;
                uint64_t ab = em_vm_bits(del) & UINT64_C(0x7fffffffffffffff);
                DL[i] = del;
                big |= (tolbits - ab) >> 63;     /* 1 if ab > tolbits */
            }
        }
        if (!big) {
            if (!ok) break;     /* out of range: this tile to the general kernel */
            if (vt) {
                switch (K) {
                case 1: EMK(emi_uniform_1_1)(&C, at, DL, vt, tot); break;
                case 2: case 3: EMK(emi_uniform_3_1)(&C, at, DL, vt, tot); break;
                case 4: EMK(emi_uniform_4_1)(&C, at, DL, vt, tot); break;
                default: EMK(emi_uniform_8_1)(&C, at, DL, vt, tot); break;
                }
            } else {
                switch (K) {
                case 1: EMK(emi_uniform_1_0)(&C, at, DL, NULL, tot); break;
                case 2: case 3: EMK(emi_uniform_3_0)(&C, at, DL, NULL, tot); break;
                case 4: EMK(emi_uniform_4_0)(&C, at, DL, NULL, tot); break;
                default: EMK(emi_uniform_8_0)(&C, at, DL, NULL, tot); break;
                }
            }
        } else {
            /* this body divides by the unnormalized bin probability S >= p_0':
             * keep v / S far from overflow (subnormal widths, huge weights go
             * to the general kernel, which normalizes by the largest term) */
            double dmin = INFINITY, vmax = 0.0;
            for (int i = 0; i < EMI_TILE; i++) {
                double di = ht[i] - at[i];
                dmin = di < dmin ? di : dmin;
            }
            if (vt)
                for (int i = 0; i < EMI_TILE; i++) vmax = vt[i] > vmax ? vt[i] : vmax;
            if (!(mu0 * dmin >= 1e-200) || !(vmax <= 1e100)) break;
            if (!vt) vt = ones;
            switch (K) {
            case 1: EMK(emi_general_1)(&C, at, ht, vt, tot); break;
            case 2: case 3: EMK(emi_general_3)(&C, at, ht, vt, tot); break;
            case 4: EMK(emi_general_4)(&C, at, ht, vt, tot); break;
            default: EMK(emi_general_8)(&C, at, ht, vt, tot); break;
            }
        }
    }
    for (int k = 0; k < K; k++)
        for (int l = 0; l < EM_LANES; l++) {
            acc[EM_ACC_R(perm[k]) + l] += tot[EMI_R(k) + l];
            acc[EM_ACC_X(perm[k], K) + l] += tot[EMI_X(k) + l];
        }
    for (int l = 0; l < EM_LANES; l++) {
        acc[EM_ACC_L + l] += tot[EMI_L + l];
        acc[EM_ACC_W + l] += tot[EMI_W + l];
    }
    return i0;
}

#undef EMI_UEXP
#undef EMI_UACC
#undef EMI_DEF_UNIFORM
#undef EMI_GEXP
#undef EMI_GACC
#undef EMI_DEF_GENERAL
#undef EMI_BODY_BEGIN
#undef EMI_BODY_END
#undef EMI_NOINLINE
#undef EMI_NTOT
#undef EMI_R
#undef EMI_X
#undef EMI_L
#undef EMI_W
#undef EMI_KMAX
#undef EMI_VECLOOP
