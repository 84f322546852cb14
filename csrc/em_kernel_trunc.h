/* em_kernel_trunc.h -- truncation pairs (t_j, v_j), small K (template).
 *
 * Included once per CPU code path by em_dispatch_*.c with EMK(name)
 * appending the path suffix.  It defines
 *   int64_t EMK(em_trunc_fast)(const em_par *p, const double *t,
 *                              const double *wt, int64_t n, double *acc);
 * which processes whole tiles of EMT_TILE = 64 pairs from the start of a
 * block into the lane accumulators acc, stopping at the first tile it cannot
 * take (the caller runs that tile through block_trunc of pass.c and calls
 * again); -1 when it can take none (K > 8, a zero weight, weights too
 * unequal).
 *
 * A pair contributes -v log S(t) to the log-likelihood and, per component,
 * the missing mass below t: R_k += v w_k p_k / S, X_k += that times t g(u),
 * with u = mu_k t, p_k = 1 - e^{-u}, S = sum_k w_k e^{-mu_k t}.  With the
 * reference component 0' of smallest rate, c_k = w_k / w_0' and
 * e_k = e^{-Dmu_k t} (Dmu_k = mu_k - mu_0' >= 0):
 *   S = w_0' e^{-mu_0' t} s,   s = 1 + sum_{k != 0'} c_k e_k  in [1, K max c]
 *   log S = log w_0' - mu_0' t + log s       (no max; product of sums)
 *   v w_k p_k / S = (v / s) c_k e^{mu_0' t} p_k
 *                 = (v / s) c_k (expm1(mu_0' t) - expm1(-Dmu_k t))
 * -- a sum of two non-negative terms, so the missing mass has full relative
 * precision for every t (near t = 0 too) -- and
 *   X_k += R_k t g(u) = R_k / mu_k - (v / s) t c_k e_k      (u >= 0.1)
 *        = R_k t g_series(u)                                 (u <  0.1).
 * e_k and expm1(-Dmu_k t) come from one range reduction (em_exp_expm1_neg
 * of em_vmath.h),
 * so a pair costs K exponentials (K - 1 exact data), one log per 8 pairs
 * and, for unit weights, one division per 8 pairs (prefix/suffix products).
 * A tile whose mu_0' t + log max c exceeds EMT_UMAX (e^{mu_0' t} would
 * overflow; S underflows), or whose missing mass could come near the cap of
 * pass.c (emt_tmax), goes to the general kernel, which works in log space
 * there and caps.
 */

#define EMT_TILE 64
#ifndef EMT_DMAX
#define EMT_DMAX 80.0
#define EMT_UMAX 700.0
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define EMT_VECLOOP _Pragma("GCC unroll 1")
#else
#define EMT_VECLOOP
#endif

/* The bodies are separate (not inlined) functions, one per KK and weighting
 * (in one big function gcc 12 runs out of inlining budget and calls em_log
 * and em_expm1 out of line).  Each adds its lane sums to tot
 * (EMT_NTOT doubles: R[8][8], X[8][8], L[8], components in the order of
 * perm); em_trunc_fast scatters them into acc at the end. */
#if defined(__GNUC__) || defined(__clang__)
#define EMT_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define EMT_NOINLINE __declspec(noinline)
#else
#define EMT_NOINLINE
#endif
#define EMT_KMAX 8
#define EMT_NTOT ((2 * EMT_KMAX + 1) * EM_LANES)
#define EMT_R(k) ((k) * EM_LANES)
#define EMT_X(k) ((EMT_KMAX + (k)) * EM_LANES)
#define EMT_L (2 * EMT_KMAX * EM_LANES)

#ifndef EMT_CONST_DEFINED
#define EMT_CONST_DEFINED
typedef struct emt_const {
    double cw[8], md[8], imu[8], mus[8];   /* components in the order of perm */
    double lw0, mu0;
} emt_const;

/* Weights above EMT_VMAX send their tile to the general kernel. */
#define EMT_VMAX 18446744073709551616.0   /* 2^64 */

/* The largest t of a tile the fast kernels take (every t <= tmax and, for
 * weighted pairs, every v <= EMT_VMAX), or a value <= 0 when they can take
 * none.  Two conditions:
 *  - e^{mu_0' t} c_k stays finite: mu_0' t <= EMT_UMAX - Dw;
 *  - the missing mass stays below e^(EM_GHOST_LOG_CAP - EM_TRUNC_FAST_MARGIN)
 *    (pass.c caps beyond e^EM_GHOST_LOG_CAP; within the cap both kernels are
 *    exact): with w_k / S(t) <= e^{mu_0' t} / w_0' and t g <= min(t, 1/mu_0'),
 *    the log of a pair's R_k and X_k is at most
 *      lb = log v + mu_0' t - log w_0' + max(0, log min(t, 1/mu_0')),
 *    With vq = 1 (unit weights) or EMT_VMAX (weighted, v <= vq),
 *    B = cap - margin - log vq + log w_0' and
 *    L = max(0, min(log(B / mu_0'), -log mu_0')), every t <= tc = (B - L) / mu_0'
 *    has mu_0' t <= B - L and max(0, log min(t, 1/mu_0')) <= L (t <= B / mu_0'),
 *    so lb <= log vq + B - log w_0' = cap - margin.
 * (This test per tile replaced a per-block scan for max t and max v, a
 * scalar maximum chain: ~4 cycles per pair, a third of the pass.) */
static inline double emt_tmax(double lw0, double mu0, double Dw, int weighted)
{
    double tu = (EMT_UMAX - Dw) / mu0;
    double B = EM_GHOST_LOG_CAP - EM_TRUNC_FAST_MARGIN + lw0
               - (weighted ? 44.361419555836500 : 0.0);   /* log 2^64 */
    if (!(B > 0.0)) return 0.0;
    double lbm = em_log(B / mu0), lmu = -em_log(mu0);
    double L = lbm < lmu ? lbm : lmu;
    L = L > 0.0 ? L : 0.0;
    double tc = (B - L) / mu0;
    return tc < tu ? tc : tu;
}
#endif

/* one component k != 0' of the first sweep */
#define EMT_EXP(k, KK)                                                        \
    if ((k) < KK) {                                                          \
        double xx = -md[k] * ti;                                             \
        double ek, mk;                                                       \
        xx = xx < -708.0 ? -708.0 : xx;                                      \
        em_exp_expm1_neg(xx, &ek, &mk);                                   \
        double tk = cw[k] * ek;                                              \
        T[k][j + l] = tk;                                                    \
        M[k][j + l] = mk;                                                    \
        s += tk;                                                             \
    }
/* missing mass of component k (k = 0': T = 1, M = 0) */
#define EMT_ACC(k, KK, TK, MK)                                                \
    if ((k) < KK) {                                                          \
        double u = mus[k] * ti;                                              \
        double rc = q * cw[k] * (e1 - (MK));                                 \
        double u2 = u * u;                                                   \
        double ser = rc * ti * (0.5 + u * (-1.0 / 12.0 + u2 * (1.0 / 720.0   \
                     + u2 * (-1.0 / 30240.0 + u2 * (1.0 / 1209600.0)))));    \
        double dir = rc * imu[k] - q * ti * (TK);                            \
        A[EMT_R(k) + l] += rc;                                               \
        A[EMT_X(k) + l] += em_vm_selm(em_vm_signmask(u - 0.1), ser, dir);   \
    }

#define EMT_DEF_BODY(KK, WEIGHTED)                                            \
static EMT_NOINLINE void EMK(emt_body_##KK##_##WEIGHTED)(                    \
    const emt_const *C, const double *restrict tt, const double *restrict vt, \
    double *restrict tot)                                                    \
{                                                                            \
    double T[8][EMT_TILE], M[8][EMT_TILE], E1[EMT_TILE], S[EMT_TILE];        \
    double PRE[EMT_TILE], prod[EM_LANES], suf[EM_LANES], A[EMT_NTOT];        \
    double cw[8], md[8], imu[8], mus[8];                                     \
    const double lw0 = C->lw0, mu0 = C->mu0;                                 \
    for (int k = 0; k < EMT_KMAX; k++) {                                            \
        cw[k] = C->cw[k]; md[k] = C->md[k]; imu[k] = C->imu[k];              \
        mus[k] = C->mus[k];                                                  \
    }                                                                        \
    (void)vt;                                                                \
    for (int i = 0; i < EMT_NTOT; i++) A[i] = 0.0;                           \
    for (int l = 0; l < EM_LANES; l++) prod[l] = 1.0;                        \
    for (int j = 0; j < EMT_TILE; j += EM_LANES)                             \
        EMT_VECLOOP                                                          \
        for (int l = 0; l < EM_LANES; l++) {                                 \
            double ti = tt[j + l];                                           \
            double s = 1.0;                                                  \
            EMT_EXP(1, KK) EMT_EXP(2, KK) EMT_EXP(3, KK) EMT_EXP(4, KK)      \
            EMT_EXP(5, KK) EMT_EXP(6, KK) EMT_EXP(7, KK)                     \
            E1[j + l] = em_expm1_pos(mu0 * ti);                       \
            double a0 = lw0 - mu0 * ti;                                      \
            if (WEIGHTED) {                                                  \
                double v = vt[j + l];                                        \
                S[j + l] = v / s;                                            \
                A[EMT_L + l] -= v * (a0 + em_log(s));                        \
            } else {                                                         \
                S[j + l] = s;                                                \
                PRE[j + l] = prod[l];                                        \
                prod[l] *= s;                                                \
                A[EMT_L + l] -= a0;                                          \
            }                                                                \
        }                                                                    \
    if (!WEIGHTED)                                                           \
        for (int l = 0; l < EM_LANES; l++) {                                 \
            suf[l] = 1.0 / prod[l];                                          \
            A[EMT_L + l] -= em_log(prod[l]);                                 \
        }                                                                    \
    for (int j = EMT_TILE - EM_LANES; j >= 0; j -= EM_LANES)                 \
        EMT_VECLOOP                                                          \
        for (int l = 0; l < EM_LANES; l++) {                                 \
            double ti = tt[j + l], e1 = E1[j + l];                           \
            double q;                                                        \
            if (WEIGHTED) {                                                  \
                q = S[j + l];                                                \
            } else {                                                         \
                q = suf[l] * PRE[j + l];                                     \
                suf[l] *= S[j + l];                                          \
            }                                                                \
            EMT_ACC(0, KK, 1.0, 0.0)                                         \
            EMT_ACC(1, KK, T[1][j + l], M[1][j + l])                         \
            EMT_ACC(2, KK, T[2][j + l], M[2][j + l])                         \
            EMT_ACC(3, KK, T[3][j + l], M[3][j + l])                         \
            EMT_ACC(4, KK, T[4][j + l], M[4][j + l])                         \
            EMT_ACC(5, KK, T[5][j + l], M[5][j + l])                         \
            EMT_ACC(6, KK, T[6][j + l], M[6][j + l])                         \
            EMT_ACC(7, KK, T[7][j + l], M[7][j + l])                         \
        }                                                                    \
    for (int i = 0; i < EMT_NTOT; i++) tot[i] += A[i];                       \
}

/* K = 5..7 run the K = 8 bodies with phantom components (c_k = 0: exactly
 * zero terms; one body instead of four: compile time, above all under the
 * sanitizers; the AVX-512 path has per-K bodies in em_kernel_trunc_avx512.h) */
EMT_DEF_BODY(1, 0)
EMT_DEF_BODY(2, 0)
EMT_DEF_BODY(3, 0)
EMT_DEF_BODY(4, 0)
EMT_DEF_BODY(8, 0)
EMT_DEF_BODY(1, 1)
EMT_DEF_BODY(2, 1)
EMT_DEF_BODY(3, 1)
EMT_DEF_BODY(4, 1)
EMT_DEF_BODY(8, 1)

int64_t EMK(em_trunc_fast)(const em_par *p, const double *restrict t,
                           const double *restrict wt, int64_t n, double *restrict acc)
{
    const int K = p->K;
    const double *mu = p->mu;
    int perm[EMT_KMAX];
    double Dw = 0.0, tot[EMT_NTOT];
    emt_const C;
    int64_t i0;
    if (K > EMT_KMAX) return -1;
    if (!em_fast_reference(mu, p->logw, K, EMT_DMAX, perm, &Dw)) return -1;
    for (int k = 0; k < EMT_KMAX; k++) {
        int pk = perm[k < K ? k : 0];
        C.cw[k] = k == 0 ? 1.0 : k < K ? em_exp(p->logw[pk] - p->logw[perm[0]]) : 0.0;
        C.md[k] = k < K ? mu[pk] - mu[perm[0]] : 0.0;
        C.imu[k] = p->inv_mu[pk];
        C.mus[k] = mu[pk];
    }
    C.lw0 = p->logw[perm[0]];
    C.mu0 = mu[perm[0]];
    for (int i = 0; i < EMT_NTOT; i++) tot[i] = 0.0;
    /* e^{mu_0' t} c_k finite and the missing mass within the cap: t <= tmax,
     * v <= EMT_VMAX (t, v >= 0, so the tests are integer compares of the bit
     * patterns) */
    const double tmax = emt_tmax(C.lw0, C.mu0, Dw, wt != NULL);
    const uint64_t tmaxbits = em_vm_bits(tmax), vmaxbits = em_vm_bits(EMT_VMAX);
    if (!(tmax > 0.0)) return -1;

    for (i0 = 0; i0 + EMT_TILE <= n; i0 += EMT_TILE) {
        const double *restrict tt = t + i0;
        uint64_t far = 0;
        for (int i = 0; i < EMT_TILE; i++) far |= (tmaxbits - em_vm_bits(tt[i])) >> 63;
        if (wt)
            for (int i = 0; i < EMT_TILE; i++) far |= (vmaxbits - em_vm_bits(wt[i0 + i])) >> 63;
        if (far) break;
        if (wt) {
            const double *restrict vt = wt + i0;
            switch (K) {
            case 1: EMK(emt_body_1_1)(&C, tt, vt, tot); break;
            case 2: EMK(emt_body_2_1)(&C, tt, vt, tot); break;
            case 3: EMK(emt_body_3_1)(&C, tt, vt, tot); break;
            case 4: EMK(emt_body_4_1)(&C, tt, vt, tot); break;
            default: EMK(emt_body_8_1)(&C, tt, vt, tot); break;
            }
        } else {
            switch (K) {
            case 1: EMK(emt_body_1_0)(&C, tt, NULL, tot); break;
            case 2: EMK(emt_body_2_0)(&C, tt, NULL, tot); break;
            case 3: EMK(emt_body_3_0)(&C, tt, NULL, tot); break;
            case 4: EMK(emt_body_4_0)(&C, tt, NULL, tot); break;
            default: EMK(emt_body_8_0)(&C, tt, NULL, tot); break;
            }
        }
    }
    for (int k = 0; k < K; k++)
        for (int l = 0; l < EM_LANES; l++) {
            acc[EM_ACC_R(perm[k]) + l] += tot[EMT_R(k) + l];
            acc[EM_ACC_X(perm[k], K) + l] += tot[EMT_X(k) + l];
        }
    for (int l = 0; l < EM_LANES; l++) acc[EM_ACC_L + l] += tot[EMT_L + l];
    return i0;
}

#undef EMT_EXP
#undef EMT_ACC
#undef EMT_DEF_BODY
#undef EMT_NOINLINE
#undef EMT_NTOT
#undef EMT_R
#undef EMT_X
#undef EMT_L
#undef EMT_KMAX
#undef EMT_VECLOOP
