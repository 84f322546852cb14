/* em_kernel_exact.h -- the hot loop of expmix: exact observations, small K.
 *
 * A template, included once per CPU code path by em_dispatch_*.c with
 *   EMK(name)  a macro appending the path suffix to a function name.
 * It defines
 *   int64_t EMK(em_exact_fast)(const em_par *p, const double *x,
 *                              const double *wt, int64_t n, double *acc);
 * which processes the first floor(n / 64) * 64 points of a block of exact
 * observations (wt == NULL: unit weights) into the lane accumulators acc
 * (layout of em_internal.h) and returns how many points it consumed (0 when
 * the fast path does not apply: K > 8 or parameters outside its range).  The
 * caller finishes the remaining points with the general tile kernel.
 *
 * Algebra (why it is fast).  Let component 0' be the one of smallest rate and
 * d_k = a_k - a_0' = (c_k - c_0') - (mu_k - mu_0') x with c_k = log w_k mu_k.
 * Because mu_k >= mu_0', d_k <= D = max_k (c_k - c_0'), so with
 *     s = 1 + sum_{k != 0'} exp(d_k)   in [1, 1 + (K-1) e^D]
 * no maximum is needed (the reference term is exp(0) = 1: K - 1 exps per
 * point, no compare), the log-likelihood is a_0' + log s, and the
 * responsibilities are r_0' = v/s, r_k = exp(d_k) v/s.  When D is moderate
 * (D + log K <= EM_FAST_DMAX) a product of 8 consecutive s of a lane cannot
 * overflow, so unit-weight data take one log per 8 points (product of sums).
 * exp terms below e^-600 are dropped (exactly 0: no subnormal results or
 * responsibilities; e^-600 relative to s >= 1 is far below rounding).  Only em_exp/em_log (em_vmath.h, tested
 * bounds) are used; no libm, no division other than one per point.
 */

#define EM_FAST_TILE 64

/* gcc must unroll the loops over k (trip count KK - 1) before vectorizing
 * the loop over lanes; for KK = 2 it does not on its own, and it must not
 * unroll the lane loop itself (then nothing is left to vectorize). */
#if defined(__GNUC__) && !defined(__clang__)
#define EMK_UNROLL _Pragma("GCC unroll 4")
#define EMK_VECLOOP _Pragma("GCC unroll 1") /* keep the lane loop: it is the vector */
#else
#define EMK_UNROLL
#define EMK_VECLOOP
#endif
#define EM_FAST_DMAX 80.0
/* exp terms below e^EM_FAST_DMIN are dropped (exactly 0): negligible against
 * s >= 1, and the responsibilities e/s then never go subnormal, whose
 * arithmetic is slow on x86 (microcode assists) */
#define EM_FAST_DMIN (-600.0)

/* One specialization per K: KK components, WEIGHTED 0/1. */
#define EMK_BODY(KK, WEIGHTED)                                                       \
    {                                                                                \
        double cd[KK], md[KK];                                                       \
        double aR[KK][EM_LANES], aX[KK][EM_LANES], aL[EM_LANES], aW[EM_LANES];       \
        for (int k = 0; k < KK; k++) {                                               \
            cd[k] = c[perm[k]] - c[perm[0]];                                         \
            md[k] = mu[perm[k]] - mu[perm[0]];                                       \
            for (int l = 0; l < EM_LANES; l++) aR[k][l] = aX[k][l] = 0.0;           \
        }                                                                            \
        for (int l = 0; l < EM_LANES; l++) aL[l] = aW[l] = 0.0;                      \
        const double c0 = c[perm[0]], mu0 = mu[perm[0]];                             \
        for (int64_t i0 = 0; i0 < nfast; i0 += EM_FAST_TILE) {                       \
            double prod[EM_LANES];                                                   \
            for (int l = 0; l < EM_LANES; l++) prod[l] = 1.0;                        \
            for (int j = 0; j < EM_FAST_TILE; j += EM_LANES) {                       \
                const double *restrict xj = x + i0 + j;                              \
                const double *restrict vj = WEIGHTED ? wt + i0 + j : xj;             \
                for (int l = 0; l < EM_LANES; l++) {                                 \
                    double xi = xj[l];                                               \
                    double e[KK];                                                    \
                    double s = 1.0;                                                  \
                    EMK_UNROLL                                                       \
                    for (int k = 1; k < KK; k++) {                                   \
                        double d = cd[k] - md[k] * xi;                               \
                        double dc = d < EM_FAST_DMIN ? EM_FAST_DMIN : d;             \
                        e[k] = em_vm_selm(em_vm_signmask(d - EM_FAST_DMIN), 0.0,     \
                                          em_exp_k(dc));                             \
                        s += e[k];                                                   \
                    }                                                                \
                    double a0 = c0 - mu0 * xi;                                       \
                    double v = WEIGHTED ? vj[l] : 1.0;                               \
                    double q = v / s;                                                \
                    aR[0][l] += q;                                                   \
                    aX[0][l] += q * xi;                                              \
                    EMK_UNROLL                                                       \
                    for (int k = 1; k < KK; k++) {                                   \
                        double r = e[k] * q;                                         \
                        aR[k][l] += r;                                               \
                        aX[k][l] += r * xi;                                          \
                    }                                                                \
                    if (WEIGHTED) {                                                  \
                        aL[l] += v * (a0 + em_log(s));                               \
                        aW[l] += v;                                                  \
                    } else {                                                         \
                        aL[l] += a0;                                                 \
                        prod[l] *= s;                                                \
                    }                                                                \
                }                                                                    \
            }                                                                        \
            if (!WEIGHTED)                                                           \
                for (int l = 0; l < EM_LANES; l++) aL[l] += em_log(prod[l]);         \
        }                                                                            \
        for (int k = 0; k < KK; k++)                                                 \
            for (int l = 0; l < EM_LANES; l++) {                                     \
                acc[EM_ACC_R(perm[k]) + l] += aR[k][l];                              \
                acc[EM_ACC_X(perm[k], K) + l] += aX[k][l];                           \
            }                                                                        \
        for (int l = 0; l < EM_LANES; l++) {                                         \
            acc[EM_ACC_L + l] += aL[l];                                              \
            acc[EM_ACC_W + l] += WEIGHTED ? aW[l] : 0.0;                             \
        }                                                                            \
        if (!WEIGHTED) acc[EM_ACC_W] += (double)nfast;                               \
    }

/* Per-component steps of the unit-weight body, written out (the conditions
 * are compile-time constants): gcc 12 does not vectorize the lane loop when
 * it holds a loop over k with one trip (K = 2). */
#define EMK_EXP1(k, KK)                                                                 \
    if ((k) < KK) {                                                                  \
        double d = cd[k] - md[k] * xi;                                               \
        double dc = d < EM_FAST_DMIN ? EM_FAST_DMIN : d;                             \
        double e = em_vm_selm(em_vm_signmask(d - EM_FAST_DMIN), 0.0, em_exp_k(dc))   \
                   * kp[k];                                                          \
        E[k][j + l] = e;                                                             \
        s += e;                                                                      \
    }
#define EMK_ACC1(k, KK)                                                                 \
    if ((k) < KK) {                                                                  \
        double r = E[k][j + l] * q;                                                  \
        aR[k][l] += r;                                                               \
        aX[k][l] += r * xi;                                                          \
    }

/* Unit weights: no division per point.  Within a tile each lane holds 8
 * points (chunks j = 0..7); with P = prod_j s_j (one division per lane and
 * tile) 1/s_j = (1/P) * prod_{i<j} s_i * prod_{i>j} s_i (prefix and suffix
 * products), and log P gives the sum of the 8 logs. */
#define EMK_BODY_UNIT(KK)                                                            \
    {                                                                                \
        double cd[8], md[8], kp[8];                                                       \
        double aR[8][EM_LANES], aX[8][EM_LANES], aL[EM_LANES];                     \
        double E[8][EM_FAST_TILE], S[EM_FAST_TILE], PRE[EM_FAST_TILE];              \
        for (int k = 0; k < KK; k++) {                                               \
            /* k >= K: a phantom component, e multiplied by kp = 0 (exactly 0,    \
             * no subnormals); kp = 1 is exact for the real ones */                 \
            cd[k] = k < K ? c[perm[k]] - c[perm[0]] : 0.0;                           \
            md[k] = k < K ? mu[perm[k]] - mu[perm[0]] : 0.0;                         \
            kp[k] = k < K ? 1.0 : 0.0;                                               \
            for (int l = 0; l < EM_LANES; l++) aR[k][l] = aX[k][l] = 0.0;           \
        }                                                                            \
        for (int l = 0; l < EM_LANES; l++) aL[l] = 0.0;                              \
        const double c0 = c[perm[0]], mu0 = mu[perm[0]];                             \
        for (int64_t i0 = 0; i0 < nfast; i0 += EM_FAST_TILE) {                       \
            const double *restrict xt = x + i0;                                      \
            double prod[EM_LANES], inv[EM_LANES], suf[EM_LANES];                     \
            for (int l = 0; l < EM_LANES; l++) prod[l] = 1.0;                        \
            for (int j = 0; j < EM_FAST_TILE; j += EM_LANES)                         \
                EMK_VECLOOP                                                          \
                for (int l = 0; l < EM_LANES; l++) {                                 \
                    double xi = xt[j + l];                                           \
                    double s = 1.0;                                                  \
                    EMK_EXP1(1, KK) EMK_EXP1(2, KK) EMK_EXP1(3, KK) EMK_EXP1(4, KK)       \
                    EMK_EXP1(5, KK) EMK_EXP1(6, KK) EMK_EXP1(7, KK)                           \
                    S[j + l] = s;                                                    \
                    PRE[j + l] = prod[l];                                            \
                    prod[l] *= s;                                                    \
                    aL[l] += c0 - mu0 * xi;                                          \
                }                                                                    \
            for (int l = 0; l < EM_LANES; l++) {                                     \
                inv[l] = 1.0 / prod[l];                                              \
                aL[l] += em_log(prod[l]);                                            \
                suf[l] = inv[l];                                                     \
            }                                                                        \
            for (int j = EM_FAST_TILE - EM_LANES; j >= 0; j -= EM_LANES)             \
                EMK_VECLOOP                                                          \
                for (int l = 0; l < EM_LANES; l++) {                                 \
                    double xi = xt[j + l];                                           \
                    double q = suf[l] * PRE[j + l];                                  \
                    suf[l] *= S[j + l];                                              \
                    aR[0][l] += q;                                                   \
                    aX[0][l] += q * xi;                                              \
                    EMK_ACC1(1, KK) EMK_ACC1(2, KK) EMK_ACC1(3, KK) EMK_ACC1(4, KK)       \
                    EMK_ACC1(5, KK) EMK_ACC1(6, KK) EMK_ACC1(7, KK)                           \
                }                                                                    \
        }                                                                            \
        for (int k = 0; k < KK && k < K; k++)                                        \
            for (int l = 0; l < EM_LANES; l++) {                                     \
                acc[EM_ACC_R(perm[k]) + l] += aR[k][l];                              \
                acc[EM_ACC_X(perm[k], K) + l] += aX[k][l];                           \
            }                                                                        \
        for (int l = 0; l < EM_LANES; l++) acc[EM_ACC_L + l] += aL[l];               \
        acc[EM_ACC_W] += (double)nfast;                                              \
    }

int64_t EMK(em_exact_fast)(const em_par *p, const double *restrict x,
                           const double *restrict wt, int64_t n, double *restrict acc)
{
    const int K = p->K;
    const double *c = p->logw_mu, *mu = p->mu;
    int perm[8];
    int64_t nfast = n - n % EM_FAST_TILE;
    double D = 0.0;
    if (K > 8 || nfast <= 0) return 0;
    if (!em_fast_reference(mu, c, K, EM_FAST_DMAX, perm, &D)) return 0;
    /* K = 2 runs the K = 3 unit-weight body with a phantom third component:
     * gcc 12 leaves the two-component lane loop scalar (one extra vector exp
     * is much cheaper than a scalar loop). */
    if (wt) {
        switch (K) {
        case 1: EMK_BODY(1, 1) break;
        case 2: EMK_BODY(2, 1) break;
        case 3: EMK_BODY(3, 1) break;
        case 4: EMK_BODY(4, 1) break;
        case 5: EMK_BODY(5, 1) break;
        case 6: EMK_BODY(6, 1) break;
        case 7: EMK_BODY(7, 1) break;
        default: EMK_BODY(8, 1) break;
        }
    } else {
        switch (K) {
        case 1: EMK_BODY_UNIT(1) break;
        case 2: EMK_BODY_UNIT(3) break;   /* see below */
        case 3: EMK_BODY_UNIT(3) break;
        case 4: EMK_BODY_UNIT(4) break;
        case 5: EMK_BODY_UNIT(5) break;
        case 6: EMK_BODY_UNIT(6) break;
        case 7: EMK_BODY_UNIT(7) break;
        default: EMK_BODY_UNIT(8) break;
        }
    }
    return nfast;
}

#undef EMK_BODY
#undef EMK_BODY_UNIT
#undef EMK_EXP1
#undef EMK_ACC1
