/* pass.c -- the fused E-step + M-statistics pass of expmix.
 *
 * One read of the data computes, at parameters (w, mu), the observed-data
 * log-likelihood and, per component k, R_k = sum_i v_i r_ik and
 * X_k = sum_i v_i r_ik E[x_i | obs_i, k], for every observation kind.
 *
 * Layout of the work
 *   segment  -> blocks of EM_BLOCK observations (the unit of reduction)
 *   block    -> tiles of EM_TILE observations (the unit of vectorization)
 * A tile is processed component by component over its EM_TILE points, so every
 * inner loop is a straight loop over points with no dependence on K; those
 * loops vectorize for any K.  Per-lane accumulators (EM_LANES of them) are
 * combined in a fixed order at the end of the block, and blocks are combined
 * by a fixed pairwise tree, so the sums never depend on the thread count.
 *
 * Per-kind log-likelihood terms and expected sufficient statistics, for one
 * component with rate mu (u = mu*d, d = b - a):
 *   exact x        log mu - mu x                  E = x
 *   right c        -mu c                          E = c + 1/mu
 *   interval (a,b) -mu a + log(1 - e^{-u})        E = a + d g(u)
 *   truncation t   -log S(t), S(t) = sum_k w_k e^{-mu_k t} (in log space)
 *                  missing mass below t: R_k += v w_k (1 - e^{-mu_k t}) / S(t),
 *                  X_k += the same times t g(mu_k t)  (capped when not
 *                  representable: EM_GHOST_LOG_CAP)
 * with g(u) = 1/u - 1/(e^u - 1), the mean of a unit-width truncated exponential
 * (a series near u = 0, where the difference cancels).
 */
#include "em_internal.h"

#include <time.h>
#include "em_dispatch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Parameters in the form the kernels use                                    */

int em_par_set(em_par *p, int K, const double *w, const double *mu)
{
    double wsum = 0.0;
    if (K < 1 || K > EM_MAX_COMPONENTS || w == NULL || mu == NULL) return EM_ERR_ARGUMENT;
    for (int k = 0; k < K; k++) {
        if (!(w[k] >= 0.0) || !(w[k] <= 1.0 + 1e-9)) return EM_ERR_ARGUMENT;
        if (!(mu[k] > 0.0) || !(mu[k] < INFINITY)) return EM_ERR_ARGUMENT;
        wsum += w[k];
    }
    if (!(wsum > 0.0)) return EM_ERR_ARGUMENT;
    p->K = K;
    for (int k = 0; k < K; k++) {
        double wk = w[k] / wsum;
        p->w[k] = wk;
        p->mu[k] = mu[k];
        p->logw[k] = wk > 0.0 ? log(wk) : -INFINITY;
        p->logw_mu[k] = p->logw[k] + log(mu[k]);
        p->inv_mu[k] = 1.0 / mu[k];
    }
    return EM_OK;
}

/* ------------------------------------------------------------------------ */
/* Tile kernels.  Each processes nt <= EM_TILE points and adds into the lane
 * accumulators of the block (acc layout: see em_internal.h).                */

/* Log-sum-exp over components of the tile buffer A[k*EM_TILE + i] (already
 * holding a_ik), leaving responsibilities times weight in A and returning the
 * per-point normalizer in m[] (max) and s[] (sum of exponentials).  Points
 * i >= nt are padding and end with r = 0 and m + log s = 0. */
static inline void tile_lse(int K, int nt, const double *restrict wt,
                            double *restrict A, double *restrict m,
                            double *restrict s, double *restrict q)
{
    for (int i = 0; i < EM_TILE; i++) m[i] = A[i];
    for (int k = 1; k < K; k++) {
        const double *restrict a = A + (size_t)k * EM_TILE;
        for (int i = 0; i < EM_TILE; i++) m[i] = a[i] > m[i] ? a[i] : m[i];
    }
    for (int i = 0; i < EM_TILE; i++) s[i] = 0.0;
    for (int k = 0; k < K; k++) {
        double *restrict a = A + (size_t)k * EM_TILE;
        for (int i = 0; i < EM_TILE; i++) {
            double d = a[i] - m[i];
            d = d < -708.0 ? -708.0 : d;     /* no subnormal results (slow); maps -inf too */
            double e = em_exp(d);
            a[i] = e;
            s[i] += e;
        }
    }
    /* q_i = v_i / s_i; padding gets q = 0, s = 1, m = 0 */
    for (int i = 0; i < EM_TILE; i++) {
        double v = i < nt ? (wt ? wt[i] : 1.0) : 0.0;
        int pad = i >= nt;
        s[i] = pad ? 1.0 : s[i];
        m[i] = pad ? 0.0 : m[i];
        q[i] = v / s[i];
    }
}

/* Accumulate R and X from responsibilities e_ik * q_i and expectations.
 * E == NULL: expectation is x_i + off_k (exact: off = 0; right: off = 1/mu). */
static inline void tile_accumulate(int K, const double *restrict x,
                                   const double *restrict off,
                                   const double *restrict A,
                                   const double *restrict E,
                                   const double *restrict q, double *restrict acc)
{
    for (int k = 0; k < K; k++) {
        const double *restrict e = A + (size_t)k * EM_TILE;
        double *restrict accR = acc + EM_ACC_R(k);
        double *restrict accX = acc + EM_ACC_X(k, K);
        if (E) {
            const double *restrict ek = E + (size_t)k * EM_TILE;
            for (int j = 0; j < EM_TILE; j += EM_LANES)
                for (int l = 0; l < EM_LANES; l++) {
                    double r = e[j + l] * q[j + l];
                    accR[l] += r;
                    accX[l] += r * ek[j + l];
                }
        } else {
            double o = off[k];
            for (int j = 0; j < EM_TILE; j += EM_LANES)
                for (int l = 0; l < EM_LANES; l++) {
                    double r = e[j + l] * q[j + l];
                    accR[l] += r;
                    accX[l] += r * (x[j + l] + o);
                }
        }
    }
}

/* Log-likelihood of a tile: sum_i v_i (m_i + log s_i).  Unweighted tiles use
 * one log per lane of a product of EM_TILE/EM_LANES sums (each s_i lies in
 * [1, K], so the product cannot overflow for K <= EM_MAX_COMPONENTS). */
static inline void tile_loglik(int unweighted, const double *restrict wt, int nt,
                               const double *restrict m, const double *restrict s,
                               double *restrict acc)
{
    double *restrict accL = acc + EM_ACC_L;
    double *restrict accW = acc + EM_ACC_W;
    if (unweighted) {
        double prod[EM_LANES], msum[EM_LANES];
        for (int l = 0; l < EM_LANES; l++) { prod[l] = 1.0; msum[l] = 0.0; }
        for (int j = 0; j < EM_TILE; j += EM_LANES)
            for (int l = 0; l < EM_LANES; l++) {
                prod[l] *= s[j + l];
                msum[l] += m[j + l];
            }
        for (int l = 0; l < EM_LANES; l++) accL[l] += msum[l] + em_log(prod[l]);
        accW[0] += (double)nt;
    } else {
        for (int j = 0; j < EM_TILE; j += EM_LANES)
            for (int l = 0; l < EM_LANES; l++) {
                int i = j + l;
                double v = i < nt ? wt[i] : 0.0;
                accL[l] += v * (m[i] + em_log(s[i]));
                accW[l] += v;
            }
    }
}

/* Load up to EM_TILE values, padding with 0. */
static inline void tile_load(double *restrict dst, const double *restrict src, int nt)
{
    for (int i = 0; i < EM_TILE; i++) dst[i] = i < nt ? src[i] : 0.0;
}

/* exact (right == 0) or right-censored (right == 1) points */
static void block_point(const em_par *p, int right, const double *x, const double *wt,
                        int64_t n, double *scratch, double *acc)
{
    const int K = p->K;
    double *A = scratch + EM_SCR_A;
    double *xs = scratch + EM_SCR_X(K);
    double *ws = scratch + EM_SCR_V(K);
    double *m = scratch + EM_SCR_M(K);
    double *s = scratch + EM_SCR_S(K);
    double *q = scratch + EM_SCR_Q(K);
    double zero_off[EM_MAX_COMPONENTS];
    const double *c = right ? p->logw : p->logw_mu;
    const double *off = right ? p->inv_mu : zero_off;
    if (!right) for (int k = 0; k < K; k++) zero_off[k] = 0.0;

    for (int64_t i0 = 0; i0 < n; i0 += EM_TILE) {
        int nt = (int)(n - i0 < EM_TILE ? n - i0 : EM_TILE);
        tile_load(xs, x + i0, nt);
        if (wt) tile_load(ws, wt + i0, nt);
        for (int k = 0; k < K; k++) {
            double *restrict a = A + (size_t)k * EM_TILE;
            const double ck = c[k], muk = p->mu[k];
            for (int i = 0; i < EM_TILE; i++) a[i] = ck - muk * xs[i];
        }
        tile_lse(K, nt, wt ? ws : NULL, A, m, s, q);
        tile_loglik(wt == NULL, ws, nt, m, s, acc);
        tile_accumulate(K, xs, off, A, NULL, q, acc);
    }
}

/* interval-censored points a < x < b */
static void block_interval(const em_par *p, const double *lo, const double *hi,
                           const double *wt, int64_t n, double *scratch, double *acc)
{
    const int K = p->K;
    double *A = scratch + EM_SCR_A;
    double *E = scratch + EM_SCR_E(K);
    double *as = scratch + EM_SCR_X(K);
    double *ds = scratch + EM_SCR_D(K);
    double *ws = scratch + EM_SCR_V(K);
    double *m = scratch + EM_SCR_M(K);
    double *s = scratch + EM_SCR_S(K);
    double *q = scratch + EM_SCR_Q(K);

    for (int64_t i0 = 0; i0 < n; i0 += EM_TILE) {
        int nt = (int)(n - i0 < EM_TILE ? n - i0 : EM_TILE);
        tile_load(as, lo + i0, nt);
        for (int i = 0; i < EM_TILE; i++)
            ds[i] = i < nt ? hi[i0 + i] - lo[i0 + i] : 1.0;   /* pad: a = 0, d = 1 */
        if (wt) tile_load(ws, wt + i0, nt);
        for (int k = 0; k < K; k++) {
            double *restrict a = A + (size_t)k * EM_TILE;
            double *restrict ek = E + (size_t)k * EM_TILE;
            const double lwk = p->logw[k], muk = p->mu[k];
            for (int i = 0; i < EM_TILE; i++) {
                /* one expm1 and one log per point and component, branch-free:
                 * p = 1 - e^{-u} = -expm1(-u) has full relative precision for
                 * narrow bins (u -> 0); log p is then exact to an absolute
                 * ~1e-16 everywhere (bins far in the tail stay in log space
                 * through -mu a).  g(u) = 1/u - e^{-u} / (1 - e^{-u}), with
                 * the series below u = 0.1 (selected by a bit mask). */
                double u = muk * ds[i];
                double m1 = em_expm1(-u);             /* e^{-u} - 1 in [-1, 0) */
                double p1 = -m1;
                double u2 = u * u;
                double series = 0.5 + u * (-1.0 / 12.0 + u2 * (1.0 / 720.0
                                + u2 * (-1.0 / 30240.0 + u2 * (1.0 / 1209600.0))));
                double direct = (p1 - u * (1.0 + m1)) / (u * p1);
                double g = em_vm_selm(em_vm_signmask(u - 0.1), series, direct);
                a[i] = lwk - muk * as[i] + em_log(p1);
                ek[i] = as[i] + ds[i] * g;
            }
        }
        tile_lse(K, nt, wt ? ws : NULL, A, m, s, q);
        tile_loglik(wt == NULL, ws, nt, m, s, acc);
        tile_accumulate(K, NULL, NULL, A, E, q, acc);
    }
}

/* Largest log of a truncation pair's missing ("ghost") statistics.  The
 * log-likelihood term -v log S(t) is always exact (log-sum-exp).  The missing
 * mass below t, r = v (w_k / S(t)) (1 - e^{-mu_k t}), grows like e^{mu_k t}
 * and is not representable for mu t > ~709, and X's r t g(mu_k t) sooner.
 * With lf = log(w_k / S(t)) and the bound
 *     lb = log v + min(0, log(mu_k t)) + max(0, min(log t, -log mu_k))
 * (r <= v e^lf min(1, mu_k t), t g <= min(t, 1/mu_k)), lf is lowered to
 * min(lf, EM_GHOST_LOG_CAP - lb, 700): each pair then adds at most
 * e^EM_GHOST_LOG_CAP (~1e282) to R_k and to X_k, so a pass of up to 2^63
 * pairs stays finite.  Pairs within the cap (lf + lb <= 650 and lf <= 700)
 * are exact; beyond it the pass is exact in its log-likelihood but its R, X
 * are those of fewer missing points, and EM from them is an ascent heuristic,
 * not EM.  The Python fit checks stationarity by the gradient and finishes by
 * a Newton polish of the exact truncated likelihood
 * (expmix.inference.polish_truncated). */
/* EM_GHOST_LOG_CAP: em_dispatch.h (650) */

/* truncation pairs (t_j, v_j), in tiles of EM_TILE pairs so that every inner
 * loop is a straight, vectorizable loop over pairs (only per-pair vectors on
 * the stack: log S(t) is formed by a max pass and a sum pass over k).
 *   loglik      -= v log S(t)
 *   R_k         += v e^{log w_k - log S(t)} (1 - e^{-u})     u = mu_k t
 *   X_k         += the same times t g(u)
 * (w_k / S(t) as one exponential: no 0 * inf for w_k = 0, and no overflow of
 * 1/S(t) when S(t) underflows but w_k / S(t) does not)
 * Pairs with t = 0 or v = 0 (and the padding) contribute exactly 0. */
static void block_trunc(const em_par *p, const double *t, const double *wt,
                        int64_t n, double *acc)
{
    const int K = p->K;
    double ts[EM_TILE], vs[EM_TILE], mx[EM_TILE], sm[EM_TILE], ls[EM_TILE], ltv[EM_TILE],
           lvv[EM_TILE];
    double *restrict accL = acc + EM_ACC_L;
    for (int64_t i0 = 0; i0 < n; i0 += EM_TILE) {
        int nt = (int)(n - i0 < EM_TILE ? n - i0 : EM_TILE);
        for (int i = 0; i < EM_TILE; i++) {
            ts[i] = i < nt ? t[i0 + i] : 0.0;
            vs[i] = i < nt ? (wt ? wt[i0 + i] : 1.0) : 0.0;
            mx[i] = -INFINITY;
            sm[i] = 0.0;
        }
        for (int k = 0; k < K; k++) {
            const double lwk = p->logw[k], muk = p->mu[k];
            for (int i = 0; i < EM_TILE; i++) {
                double a = lwk - muk * ts[i];
                mx[i] = a > mx[i] ? a : mx[i];
            }
        }
        for (int k = 0; k < K; k++) {
            const double lwk = p->logw[k], muk = p->mu[k];
            for (int i = 0; i < EM_TILE; i++) {
                double d = lwk - muk * ts[i] - mx[i];
                d = d < -708.0 ? -708.0 : d;    /* no subnormals; maps -inf too */
                sm[i] += em_exp(d);
            }
        }
        for (int i = 0; i < EM_TILE; i++) ls[i] = mx[i] + em_log(sm[i]);
        for (int j = 0; j < EM_TILE; j += EM_LANES)
            for (int l = 0; l < EM_LANES; l++) accL[l] -= vs[j + l] * ls[j + l];
        /* log t and log v per pair, for the cap (see EM_GHOST_LOG_CAP);
         * -inf at t = 0 or v = 0 (no cap: such pairs add exactly 0) */
        for (int i = 0; i < EM_TILE; i++) {
            ltv[i] = em_log(ts[i]);
            lvv[i] = em_log(vs[i]);
        }
        for (int k = 0; k < K; k++) {
            const double lwk = p->logw[k], muk = p->mu[k], lmuk = log(p->mu[k]);
            double *restrict accR = acc + EM_ACC_R(k);
            double *restrict accX = acc + EM_ACC_X(k, K);
            for (int j = 0; j < EM_TILE; j += EM_LANES)
                for (int l = 0; l < EM_LANES; l++) {
                    int i = j + l;
                    double u = muk * ts[i];
                    double m1 = em_expm1(-u);           /* e^{-u} - 1 */
                    double p1 = -m1;                    /* 1 - e^{-u}, 0 at t = 0 */
                    double u2 = u * u;
                    double series = 0.5 + u * (-1.0 / 12.0 + u2 * (1.0 / 720.0
                                    + u2 * (-1.0 / 30240.0 + u2 * (1.0 / 1209600.0))));
                    double direct = (p1 - u * (1.0 + m1)) / (u * p1);
                    double g = em_vm_selm(em_vm_signmask(u - 0.1), series, direct);
                    /* bound of log r (r <= v e^lf min(1, u)) plus log of
                     * the X factor t g(u) <= min(t, 1/mu_k): lowering lf by
                     * its excess over the cap keeps both below e^cap */
                    double lt = ltv[i], lu = lmuk + lt;
                    double lx = lt < -lmuk ? lt : -lmuk;
                    double lb = lvv[i] + (lu < 0.0 ? lu : 0.0) + (lx > 0.0 ? lx : 0.0);
                    double lf = lwk - ls[i], cap = EM_GHOST_LOG_CAP - lb;
                    lf = lf < cap ? lf : cap;           /* -inf (w_k = 0) stays */
                    lf = lf < 700.0 ? lf : 700.0;
                    double r = vs[i] * em_exp(lf) * p1;
                    accR[l] += r;
                    accX[l] += r * (ts[i] * g);   /* t g <= min(t, 1/mu): no overflow */
                }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Blocks, slots and the reduction                                           */

void em_layout_init(em_layout *L, const em_data *d)
{
    L->nb_exact = (d->n_exact + EM_BLOCK - 1) / EM_BLOCK;
    L->nb_right = (d->n_right + EM_BLOCK - 1) / EM_BLOCK;
    L->nb_interval = (d->n_interval + EM_BLOCK - 1) / EM_BLOCK;
    L->nb_trunc = (d->n_trunc + EM_BLOCK - 1) / EM_BLOCK;
    L->n_blocks = L->nb_exact + L->nb_right + L->nb_interval + L->nb_trunc;
}

/* Evaluate block b into slot (EM_SLOT(K) doubles). */
/* Fast kernels for the other kinds (em_kernel_interval.h, em_kernel_trunc.h):
 * they consume whole tiles and stop at a tile outside their range; that tile
 * (and the block's last n % 64 points) run through the general tile kernel. */
static void run_interval(const em_par *p, const double *lo, const double *hi,
                         const double *wt, int64_t n, double *scratch, double *acc, int path)
{
    int64_t i = 0;
    while (i < n) {
        int64_t done = path >= 0 ? em_interval_fast(path, p, lo + i, hi + i,
                                                    wt ? wt + i : NULL, n - i, acc) : -1;
        int64_t m;
        if (done < 0) {          /* parameters outside the fast range */
            path = -1;
            done = 0;
        }
        i += done;
        if (i >= n) break;
        m = path < 0 ? n - i : (n - i < EM_TILE ? n - i : EM_TILE);
        block_interval(p, lo + i, hi + i, wt ? wt + i : NULL, m, scratch, acc);
        i += m;
    }
}

static void run_trunc(const em_par *p, const double *t, const double *wt, int64_t n,
                      double *acc, int path)
{
    /* the fast kernels take the tiles whose missing mass provably stays
     * below e^EM_GHOST_LOG_CAP (their tile test, emt_tmax of
     * em_kernel_trunc.h); the other tiles run the general kernel, which caps */
    int64_t i = 0;
    while (i < n) {
        int64_t done = path >= 0 ? em_trunc_fast(path, p, t + i, wt ? wt + i : NULL,
                                                 n - i, acc) : -1;
        int64_t m;
        if (done < 0) {
            path = -1;
            done = 0;
        }
        i += done;
        if (i >= n) break;
        m = path < 0 ? n - i : (n - i < EM_TILE ? n - i : EM_TILE);
        block_trunc(p, t + i, wt ? wt + i : NULL, m, acc);
        i += m;
    }
}

/* The tail of an exact or right-censored segment (fewer than EM_TILE
 * points, left by the dispatched kernel's whole tiles) through the same
 * vector kernel: copied into one tile padded with weight-0 copies of its
 * last point, which add exactly 0 to every sum (weighted body: w (log s +
 * ...) with w = 0 and s finite; the fast kernel's bound on the log-weight
 * spread keeps s finite for every x >= 0).  Small data sets are mostly tail:
 * at 500 points per fit the scalar tile kernel took ~60 % of the pass.
 * Tails shorter than EM_TAIL_MIN stay with the tile kernel (a padded tile
 * costs more than a few scalar points).  Returns the points consumed: n, or
 * 0 when the fast kernel declined (extreme parameters: the tile kernel). */
#define EM_TAIL_MIN 8
static int64_t exact_tail_padded(int path, const em_par *p, const double *x,
                                 const double *wt, int64_t n, double *acc)
{
    double xp[EM_TILE], wp[EM_TILE];
    if (n < EM_TAIL_MIN || n >= EM_TILE) return 0;
    for (int64_t i = 0; i < n; i++) {
        xp[i] = x[i];
        wp[i] = wt ? wt[i] : 1.0;
    }
    for (int64_t i = n; i < EM_TILE; i++) {
        xp[i] = x[n - 1];
        wp[i] = 0.0;
    }
    return em_exact_fast(path, p, xp, wp, EM_TILE, acc) == EM_TILE ? n : 0;
}

/* pr: the parameters with logw_mu replaced by logw (right-censored points are
 * exact points of density constant log w_k and expectation c + 1/mu_k), or
 * NULL when the fast kernels are off; kpath: the CPU path of the interval and
 * truncation kernels, -1 when they are off. */
static void eval_block(const em_data *d, const em_layout *L, const em_par *p,
                       const em_par *pr, int64_t b, double *scratch, double *slot, int path,
                       int kpath)
{
    const int K = p->K;
    double *acc = scratch + EM_SCR_ACC(K);
    int64_t i0, n;
    memset(acc, 0, sizeof(double) * (size_t)EM_ACC_SIZE(K));
    if (b < L->nb_exact) {
        i0 = b * EM_BLOCK;
        n = d->n_exact - i0 < EM_BLOCK ? d->n_exact - i0 : EM_BLOCK;
        {
            /* the dispatched fast kernel takes whole tiles; the tile kernel the rest */
            const double *x = d->exact + i0, *xw = d->exact_w ? d->exact_w + i0 : NULL;
            int64_t done = em_exact_fast(path, p, x, xw, n, acc);
            if (done < n)
                done += exact_tail_padded(path, p, x + done, xw ? xw + done : NULL, n - done, acc);
            if (done < n)
                block_point(p, 0, x + done, xw ? xw + done : NULL, n - done, scratch, acc);
        }
    } else if ((b -= L->nb_exact) < L->nb_right) {
        i0 = b * EM_BLOCK;
        n = d->n_right - i0 < EM_BLOCK ? d->n_right - i0 : EM_BLOCK;
        {
            /* the exact kernel on c with constants log w_k gives R_k and
             * sum r c; the 1/mu_k part of E[x | x > c] is added from R_k (acc
             * holds only this block's sums here: it was zeroed above) */
            const double *c = d->right + i0, *cw = d->right_w ? d->right_w + i0 : NULL;
            int64_t done = pr ? em_exact_fast(path, pr, c, cw, n, acc) : 0;
            if (pr && done < n)
                done += exact_tail_padded(path, pr, c + done, cw ? cw + done : NULL, n - done, acc);
            if (done > 0)
                for (int k = 0; k < K; k++)
                    for (int l = 0; l < EM_LANES; l++)
                        acc[EM_ACC_X(k, K) + l] += acc[EM_ACC_R(k) + l] * p->inv_mu[k];
            if (done < n)
                block_point(p, 1, c + done, cw ? cw + done : NULL, n - done, scratch, acc);
        }
    } else if ((b -= L->nb_right) < L->nb_interval) {
        i0 = b * EM_BLOCK;
        n = d->n_interval - i0 < EM_BLOCK ? d->n_interval - i0 : EM_BLOCK;
        run_interval(p, d->lower + i0, d->upper + i0,
                     d->interval_w ? d->interval_w + i0 : NULL, n, scratch, acc,
                     kpath);
    } else {
        b -= L->nb_interval;
        i0 = b * EM_BLOCK;
        n = d->n_trunc - i0 < EM_BLOCK ? d->n_trunc - i0 : EM_BLOCK;
        run_trunc(p, d->trunc + i0, d->trunc_w ? d->trunc_w + i0 : NULL, n, acc,
                  kpath);
    }
    /* fold lanes in a fixed pairwise order */
    for (int v = 0; v < EM_SLOT(K); v++) {
        double *lane = acc + (size_t)v * EM_LANES;
        double s01 = lane[0] + lane[1], s23 = lane[2] + lane[3];
        double s45 = lane[4] + lane[5], s67 = lane[6] + lane[7];
        slot[v] = (s01 + s23) + (s45 + s67);
    }
}

int em_workspace_init(em_workspace *ws, const em_data *d, int K, int n_threads)
{
    size_t nslot, nscr;
    memset(ws, 0, sizeof(*ws));
    em_layout_init(&ws->layout, d);
    if (n_threads < 1) n_threads = 1;
    /* Waking a thread costs more than a few blocks of work (and far more on
     * a busy machine, where a pass waits for a descheduled thread), so each
     * thread gets at least EM_MIN_BLOCKS_PER_THREAD blocks.  The summation
     * order is fixed by the blocks, so the result does not change. */
    if ((int64_t)n_threads * EM_MIN_BLOCKS_PER_THREAD > ws->layout.n_blocks) {
        int64_t cap = ws->layout.n_blocks / EM_MIN_BLOCKS_PER_THREAD;
        n_threads = cap > 1 ? (int)cap : 1;
    }
    ws->n_threads = n_threads;
    ws->K = K;
    nslot = (size_t)(ws->layout.n_blocks > 0 ? ws->layout.n_blocks : 1) * (size_t)EM_SLOT(K);
    nscr = (size_t)n_threads * (size_t)EM_SCR_SIZE(K);
    ws->slots = (double *)EM_MALLOC(nslot * sizeof(double));
    ws->scratch = (double *)EM_MALLOC(nscr * sizeof(double));
    if (!ws->slots || !ws->scratch) {
        em_workspace_free(ws);
        return EM_ERR_NOMEM;
    }
    return EM_OK;
}

void em_workspace_free(em_workspace *ws)
{
    free(ws->slots);
    free(ws->scratch);
    ws->slots = NULL;
    ws->scratch = NULL;
}

/* Interrupt polling inside a pass.  Only the calling thread (OpenMP thread 0,
 * which may need to be the caller's thread, e.g. to take the Python GIL)
 * calls the callback, at most every interrupt_seconds; every thread reads the
 * shared flag every EM_POLL_BLOCKS blocks and skips its remaining blocks once
 * it is set.  A pass that was not interrupted is unchanged (bitwise). */
#define EM_POLL_BLOCKS 16

double em_now_seconds(void)
{
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC) return 0.0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int pass_stop_get(em_workspace *ws)
{
    int v;
#ifdef _OPENMP
#pragma omp critical(em_pass_stop)
#endif
    v = ws->stop;
    return v;
}

static int pass_poll(em_workspace *ws, int caller)
{
    if (caller) {
        double t = em_now_seconds();
        if (t - ws->last_check >= ws->interrupt_seconds) {
            int fired;
            ws->last_check = t;
            fired = ws->interrupt(ws->interrupt_ctx) != 0;
            if (fired) {
#ifdef _OPENMP
#pragma omp critical(em_pass_stop)
#endif
                ws->stop = 1;
            }
        }
    }
    return pass_stop_get(ws);
}

int em_pass_ws(const em_data *d, const em_par *p, em_workspace *ws,
               double *loglik, double *weight, double *resp, double *resp_x)
{
    const int K = p->K;
    const int S = EM_SLOT(K);
    const em_layout *L = &ws->layout;
    const int64_t nb = L->n_blocks;
    double *slots = ws->slots;
    const int path = em_cpu_path();
    /* parameters of the right-censored kernel; NULL (fast kinds off) when
     * the testing hook em_kinds_force_general is set */
    em_par pr_store;
    const em_par *pr = NULL;

    if (nb == 0) {
        *loglik = 0.0;
        *weight = 0.0;
        for (int k = 0; k < K; k++) resp[k] = resp_x[k] = 0.0;
        return EM_OK;
    }
    const int kpath = em_kinds_general() ? -1 : path;
    if (kpath >= 0 && d->n_right > 0) {
        /* the first K entries only (em_par holds EM_MAX_COMPONENTS; a whole
         * copy would cost more than a small pass).  If em_par gains a field,
         * this copy must follow: the assertion below fails until it does. */
        typedef char em_par_layout_check[sizeof(em_par) == sizeof(double) * 5 * EM_MAX_COMPONENTS
                                         + sizeof(double) ? 1 : -1];
        (void)sizeof(em_par_layout_check);
        pr_store.K = K;
        for (int k = 0; k < K; k++) {
            pr_store.w[k] = p->w[k];
            pr_store.mu[k] = p->mu[k];
            pr_store.logw[k] = p->logw[k];
            pr_store.logw_mu[k] = p->logw[k];
            pr_store.inv_mu[k] = p->inv_mu[k];
        }
        pr = &pr_store;
    }
#ifdef _OPENMP
    if (ws->n_threads > 1) {
#pragma omp parallel num_threads(ws->n_threads)
        {
            const int tid = omp_get_thread_num();
            double *scratch = ws->scratch + (size_t)tid * (size_t)EM_SCR_SIZE(K);
            int64_t b;
#pragma omp for schedule(static)
            for (b = 0; b < nb; b++) {
                if (ws->interrupt && (b & (EM_POLL_BLOCKS - 1)) == 0 &&
                    pass_poll(ws, tid == 0))
                    continue;                 /* interrupted: skip the rest */
                eval_block(d, L, p, pr, b, scratch, slots + (size_t)b * (size_t)S, path, kpath);
            }
        }
    } else
#endif
    {
        for (int64_t b = 0; b < nb; b++) {
            if (ws->interrupt && (b & (EM_POLL_BLOCKS - 1)) == 0 && pass_poll(ws, 1))
                break;
            eval_block(d, L, p, pr, b, ws->scratch, slots + (size_t)b * (size_t)S, path, kpath);
        }
    }
    if (ws->interrupt && pass_stop_get(ws)) return EM_INTERRUPTED;
    /* fixed pairwise tree over blocks */
    for (int64_t stride = 1; stride < nb; stride *= 2)
        for (int64_t b = 0; b + stride < nb; b += 2 * stride) {
            double *dst = slots + (size_t)b * (size_t)S;
            const double *src = slots + (size_t)(b + stride) * (size_t)S;
            for (int v = 0; v < S; v++) dst[v] += src[v];
        }
    *loglik = slots[EM_SLOT_L];
    *weight = slots[EM_SLOT_W];
    for (int k = 0; k < K; k++) {
        resp[k] = slots[EM_SLOT_R(k)];
        resp_x[k] = slots[EM_SLOT_X(k, K)];
    }
    if (!isfinite(*loglik)) return EM_ERR_NUMERIC;
    for (int k = 0; k < K; k++)
        if (!isfinite(resp[k]) || !isfinite(resp_x[k])) return EM_ERR_NUMERIC;
    return EM_OK;
}

/* ------------------------------------------------------------------------ */
/* Public entry points                                                       */

int em_pass(const em_data *data, int K, const double *w, const double *mu,
            int n_threads, em_stats *stats)
{
    em_par p;
    em_workspace ws;
    int st;
    if (!data || !stats || !stats->resp || !stats->resp_x) return EM_ERR_ARGUMENT;
    if ((st = em_data_check(data)) != EM_OK) return st;
    if ((st = em_par_set(&p, K, w, mu)) != EM_OK) return st;
    if ((st = em_workspace_init(&ws, data, K, n_threads)) != EM_OK) return st;
    stats->n_components = K;
    st = em_pass_ws(data, &p, &ws, &stats->loglik, &stats->weight, stats->resp, stats->resp_x);
    em_workspace_free(&ws);
    return st;
}

void em_mstep(int K, const double *resp, const double *resp_x, double *w, double *mu)
{
    double total = 0.0;
    for (int k = 0; k < K; k++) total += resp[k];
    for (int k = 0; k < K; k++) {
        w[k] = resp[k] / total;
        mu[k] = resp[k] / resp_x[k];
    }
}

static int check_array(int64_t n, const double *a, int allow_zero_len, double lo_bound)
{
    (void)allow_zero_len;
    if (n < 0) return EM_ERR_ARGUMENT;
    if (n == 0) return EM_OK;
    if (!a) return EM_ERR_ARGUMENT;
    for (int64_t i = 0; i < n; i++)
        if (!(a[i] >= lo_bound) || !(a[i] < INFINITY)) return EM_ERR_DATA;
    return EM_OK;
}

int em_data_check(const em_data *d)
{
    int st;
    if (!d) return EM_ERR_ARGUMENT;
    if ((st = check_array(d->n_exact, d->exact, 1, 0.0))) return st;
    if (d->exact_w && (st = check_array(d->n_exact, d->exact_w, 1, 0.0))) return st;
    if ((st = check_array(d->n_right, d->right, 1, 0.0))) return st;
    if (d->right_w && (st = check_array(d->n_right, d->right_w, 1, 0.0))) return st;
    if ((st = check_array(d->n_interval, d->lower, 1, 0.0))) return st;
    if ((st = check_array(d->n_interval, d->upper, 1, 0.0))) return st;
    if (d->interval_w && (st = check_array(d->n_interval, d->interval_w, 1, 0.0))) return st;
    for (int64_t i = 0; i < d->n_interval; i++)
        if (!(d->upper[i] > d->lower[i])) return EM_ERR_DATA;
    if ((st = check_array(d->n_trunc, d->trunc, 1, 0.0))) return st;
    if (d->trunc_w && (st = check_array(d->n_trunc, d->trunc_w, 1, 0.0))) return st;
    return EM_OK;
}

double em_data_scale(const em_data *d)
{
    /* mean of the finite bounds (unweighted; only a magnitude is needed) */
    double s = 0.0;
    int64_t n = 0;
    for (int64_t i = 0; i < d->n_exact; i++) s += d->exact[i];
    for (int64_t i = 0; i < d->n_right; i++) s += d->right[i];
    for (int64_t i = 0; i < d->n_interval; i++) s += 0.5 * (d->lower[i] + d->upper[i]);
    n = d->n_exact + d->n_right + d->n_interval;
    if (n > 0 && s > 0.0 && isfinite(s)) return s / (double)n;
    return 1.0;
}

int em_log_joint(const em_data *d, int K, const double *w, const double *mu,
                 double *out, int n_threads)
{
    em_par p;
    int st;
    int64_t off_r, off_i, total;
    (void)n_threads;
    if (!d || !out) return EM_ERR_ARGUMENT;
    if ((st = em_data_check(d)) != EM_OK) return st;
    if ((st = em_par_set(&p, K, w, mu)) != EM_OK) return st;
    off_r = d->n_exact;
    off_i = off_r + d->n_right;
    total = off_i + d->n_interval;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(n_threads > 0 ? n_threads : 1) if (total > 65536 && n_threads > 1)
#endif
    for (int64_t i = 0; i < total; i++) {
        double *o = out + (size_t)i * (size_t)K;
        if (i < off_r) {
            double x = d->exact[i];
            for (int k = 0; k < K; k++) o[k] = p.logw_mu[k] - p.mu[k] * x;
        } else if (i < off_i) {
            double c = d->right[i - off_r];
            for (int k = 0; k < K; k++) o[k] = p.logw[k] - p.mu[k] * c;
        } else {
            double a = d->lower[i - off_i], b = d->upper[i - off_i];
            for (int k = 0; k < K; k++)
                o[k] = p.logw[k] - p.mu[k] * a + em_log1mexp(p.mu[k] * (b - a));
        }
    }
    return EM_OK;
}

int em_log_survival(int64_t n, const double *t, int K, const double *w,
                    const double *mu, double *out)
{
    em_par p;
    int st;
    if (n < 0 || (n > 0 && (!t || !out))) return EM_ERR_ARGUMENT;
    if ((st = em_par_set(&p, K, w, mu)) != EM_OK) return st;
    for (int64_t j = 0; j < n; j++) {
        double mx = -INFINITY, sum = 0.0;
        if (!(t[j] >= 0.0)) { out[j] = t[j] < 0.0 ? 0.0 : NAN; continue; }
        if (t[j] == INFINITY) { out[j] = -INFINITY; continue; }
        for (int k = 0; k < K; k++) {
            double a = p.logw[k] - p.mu[k] * t[j];
            mx = a > mx ? a : mx;
        }
        for (int k = 0; k < K; k++) sum += exp(p.logw[k] - p.mu[k] * t[j] - mx);
        out[j] = mx + log(sum);
    }
    return EM_OK;
}

const char *em_status_name(int status)
{
    switch (status) {
    case EM_CONVERGED: return "converged";
    case EM_MAX_ITER: return "max_iter";
    case EM_DEGENERATE: return "degenerate";
    case EM_INTERRUPTED: return "interrupted";
    case EM_ERR_ARGUMENT: return "invalid argument";
    case EM_ERR_DATA: return "invalid data";
    case EM_ERR_NOMEM: return "out of memory";
    case EM_ERR_NUMERIC: return "non-finite log-likelihood";
    case EM_ERR_NO_INFO: return "no information in the data";
    default: return "unknown status";
    }
}
