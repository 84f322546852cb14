/* fit.c -- the EM loop of expmix: plain EM, SQUAREM or Anderson, convergence,
 * degeneracy guards, interruption, and batches of independent fits.
 *
 * SQUAREM (Varadhan & Roland 2008, scheme S3) works on unconstrained
 * parameters theta = (log w_k - log w_0 ..., log mu_k).  One cycle:
 *   theta1 = F(theta0), theta2 = F(theta1), r = theta1 - theta0,
 *   v = theta2 - 2 theta1 + theta0, alpha = -|r|/|v| clamped to [-stepmax, -1],
 *   theta' = theta0 - 2 alpha r + alpha^2 v, then one EM step from theta'.
 * stepmax starts at 1, grows by EM_SQ_STEP_FACTOR when alpha reaches it and
 * shrinks by it (not below 1) when theta' is rejected.
 * Safeguard: theta' is kept only when its log-likelihood is not below that of
 * theta0 (as in Varadhan & Roland; an earlier version compared with the
 * stricter F(theta0), which rejected useful steps on flat, over-fitted
 * likelihoods) and it passes the degeneracy guards; otherwise the cycle falls back to
 * theta2, a plain EM iterate.  So the accepted sequence never decreases the
 * log-likelihood (up to rounding of the sums).
 */
#include "em_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* SQUAREM's stepmax factor.  Varadhan & Roland's default is 4; 2 takes fewer
 * passes to the optimum on the benchmark mixture (18 against 20) and on
 * overlapping rates (1,529 against 2,085 at N = 1e5, 800 against 1,092 at
 * N = 1e6) and about as many on random problems (docs/performance.md,
 * "SQUAREM"). */
#define EM_SQ_STEP_FACTOR 2.0

void em_options_default(em_options *opt)
{
    opt->max_iter = 1000;
    opt->tol = 1e-10;
    opt->n_threads = 1;
    opt->accel = 2;
    opt->weight_floor = 1e-12;
    opt->rate_ceiling = 1e14;
    opt->scale = 1.0;
    opt->interrupt = NULL;
    opt->interrupt_ctx = NULL;
    opt->interrupt_seconds = 0.2;
}

static double now_seconds(void)
{
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC) return 0.0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One EM evaluation at parameters (w, mu): the pass and the M-step. */
typedef struct em_state {
    double w[EM_MAX_COMPONENTS];
    double mu[EM_MAX_COMPONENTS];
    double ll;                      /* log-likelihood at (w, mu) */
} em_state;

typedef struct em_ctx {
    const em_data *d;
    em_workspace ws;
    int K;
    double weight;
    double resp[EM_MAX_COMPONENTS];
    double resp_x[EM_MAX_COMPONENTS];
    int64_t n_passes;
    const em_options *opt;
    int stop;                       /* the interrupt callback asked to stop */
} em_ctx;

/* Poll the interrupt callback after a pass (never inside the parallel pass),
 * at most every opt->interrupt_seconds.  A SQUAREM cycle is three passes, so
 * polling between passes (not only between iterations) bounds the latency by
 * one pass plus interrupt_seconds. */
static void poll_interrupt(em_ctx *c)
{
    const em_options *o = c->opt;
    double t;
    if (c->ws.stop) c->stop = 1;            /* fired inside the pass */
    if (!o->interrupt || c->stop) return;
    t = now_seconds();
    if (t - c->ws.last_check < o->interrupt_seconds) return;
    c->ws.last_check = t;                    /* shared with the pass's polls */
    if (o->interrupt(o->interrupt_ctx)) c->stop = c->ws.stop = 1;
}

/* Evaluate log-likelihood at s and the EM map F(s) into next (may be NULL). */
static int em_eval(em_ctx *c, em_state *s, em_state *next)
{
    em_par p;
    int st = em_par_set(&p, c->K, s->w, s->mu);
    if (st != EM_OK) return EM_ERR_NUMERIC;
    st = em_pass_ws(c->d, &p, &c->ws, &s->ll, &c->weight, c->resp, c->resp_x);
    c->n_passes++;
    if (st == EM_INTERRUPTED) c->stop = 1;  /* s, c->weight, resp: not updated */
    if (st != EM_OK) return st;
    if (next) em_mstep(c->K, c->resp, c->resp_x, next->w, next->mu);
    poll_interrupt(c);
    return EM_OK;
}

/* 0 if fine; else 1 (weight vanished) or 2 (rate diverged / non-finite),
 * with the component index in *which. */
static int em_guard(int K, const em_state *s, const em_options *o, int *which)
{
    /* no responsibility at all (every term of the component below the
     * kernels' e^-600 drop, R_k = 0): empty, whatever its rate (0/0) */
    for (int k = 0; k < K; k++) {
        if (s->w[k] == 0.0) {
            *which = k;
            return 1;
        }
    }
    for (int k = 0; k < K; k++) {
        if (!(s->mu[k] > 0.0) || !(s->mu[k] * o->scale <= o->rate_ceiling) || !isfinite(s->mu[k])) {
            *which = k;
            return 2;
        }
    }
    for (int k = 0; k < K; k++) {
        if (!(s->w[k] >= o->weight_floor) || !isfinite(s->w[k])) {
            *which = k;
            return 1;
        }
    }
    return 0;
}

static void to_theta(int K, const em_state *s, double *th)
{
    double lw0 = log(s->w[0]);
    for (int k = 0; k < K; k++) {
        th[k] = log(s->w[k]) - lw0;
        th[K + k] = log(s->mu[k]);
    }
}

static void from_theta(int K, const double *th, em_state *s)
{
    double mx = th[0], z = 0.0;
    for (int k = 1; k < K; k++) mx = th[k] > mx ? th[k] : mx;
    for (int k = 0; k < K; k++) { s->w[k] = exp(th[k] - mx); z += s->w[k]; }
    for (int k = 0; k < K; k++) {
        s->w[k] /= z;
        s->mu[k] = exp(th[K + k]);
    }
}

static int check_options(const em_options *o)
{
    if (!o) return EM_ERR_ARGUMENT;
    if (o->max_iter < 0 || !(o->tol >= 0.0) || o->n_threads < 1) return EM_ERR_ARGUMENT;
    if (!(o->weight_floor >= 0.0) || !(o->rate_ceiling > 0.0) || !(o->scale > 0.0))
        return EM_ERR_ARGUMENT;
    if (o->accel < 0 || o->accel > 2) return EM_ERR_ARGUMENT;
    return EM_OK;
}

/* Whether the data can identify finite, positive rates at all. */
static int has_information(const em_data *d)
{
    for (int64_t i = 0; i < d->n_exact; i++)
        if (!d->exact_w || d->exact_w[i] > 0.0) return 1;
    int left = 0, right = 0;
    for (int64_t i = 0; i < d->n_interval; i++) {
        if (d->interval_w && !(d->interval_w[i] > 0.0)) continue;
        if (d->lower[i] > 0.0) return 1;
        left = 1;                       /* [0, b): bounds the rate from below */
    }
    for (int64_t i = 0; i < d->n_right && left && !right; i++)
        right = d->right[i] > 0.0 && (!d->right_w || d->right_w[i] > 0.0);
    return left && right;               /* e.g. current-status data */
}

static void record(em_result *r, const em_ctx *c, int64_t max_hist, double ll)
{
    if (r->history && r->n_history < max_hist)
        r->history[r->n_history++] = c->weight > 0.0 ? ll / c->weight : ll;
}

static double dist2(int n, const double *a, const double *b)
{
    double s = 0.0;
    for (int j = 0; j < n; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

/* The stopping rule's estimate of the log-likelihood still to gain, from one
 * plain EM step q -> p = F(q): d = ll(p) - ll(q) is the gain of that step, dq2
 * and dp2 the squared lengths (in theta) of the steps q -> p and p -> F(p).
 * Near the optimum EM converges linearly, e_{n+1} ~ rho e_n, so the gain
 * still available from q is about d / (1 - rho^2) and from p about
 * d rho^2 / (1 - rho^2), with rho^2 estimated by dp2 / dq2.  Returns 1 when
 * |d| < tolw and that estimate (from q if from_q, else from p) is < tolw.  A
 * gain <= 0 (rounding level) or a fixed point (dp2 = 0) counts as converged
 * when |d| < tolw; steps that do not shrink (dp2 >= dq2) do not.
 * *rho2_max keeps the largest rate estimate seen at earlier tests with
 * |d| < tolw, and the test uses the larger of it and the current one: right
 * after a SQUAREM extrapolation the step is dominated by fast directions and
 * its ratio alone would hide a slow one. */
static int em_converged(double d, double dq2, double dp2, double tolw, int from_q,
                        double *rho2_max)
{
    double rho2;
    if (!(fabs(d) < tolw)) return 0;
    if (!isfinite(dq2) || !isfinite(dp2)) return 1;   /* a weight exactly 0: |d| alone */
    if (!(d > 0.0) || !(dp2 > 0.0)) return 1;
    if (!(dp2 < dq2)) return 0;
    rho2 = dp2 / dq2;
    if (rho2 > *rho2_max) *rho2_max = rho2;
    else rho2 = *rho2_max;
    return (from_q ? d : d * rho2) < tolw * (1.0 - rho2);
}

/* ------------------------------------------------------------------------ */
/* Anderson acceleration (accel = 2)                                          */
/*
 * Type-II Anderson acceleration (Walker & Ni 2011) of the EM map F on the
 * same unconstrained parameters theta as SQUAREM, with a monotonicity
 * safeguard and restarts (as in DAAREM, Henderson & Varadhan 2019, without the
 * damping).  Every pass evaluates ll(x) and F(x) at one point x.  With the
 * last m + 1 accepted points x_j and residuals g_j = F(x_j) - x_j (m <= EM_AA_DEPTH),
 *   gamma = argmin | g_m - sum_j gamma_j (g_{j+1} - g_j) |,
 *   x_new = F(x_m) - sum_j gamma_j (F(x_{j+1}) - F(x_j)).
 * x_new is kept when ll(x_new) >= ll(x_m) (and it passes the degeneracy
 * guards); otherwise the history restarts from x_m and the next point is the
 * plain EM step F(x_m), already known from x_m's pass: a rejected
 * extrapolation costs exactly one pass.  Plain EM steps are always kept (EM
 * is monotone up to the rounding of the sums).
 * Stopping: the rule of em_converged, tested on plain EM steps only.  When an
 * extrapolation gains less than tol per unit weight, the next point is a
 * plain EM step (a check step, kept in the history), so a fit never ends on
 * an extrapolation alone.  The first time the rule holds, the history is
 * restarted from there and the fit ends only when it holds again after an
 * extrapolation from that fresh history gained less than tol (or was
 * rejected): a stale history can stall on a crawling likelihood (overlapping
 * rates), where plain steps gain below tol although the optimum is still
 * ~1e-9 N away.  The confirmation costs a few passes (benchmark mixture: 20
 * instead of 16 at tol = 1e-10).
 */
#define EM_AA_DEPTH 3

/* Least squares min |g - D gamma| over the nc columns of D (column j at
 * D + j*n), by modified Gram-Schmidt; a column whose remaining norm is below
 * 1e-12 of its own norm is dropped (gamma_j = 0).  q: scratch of nc*n. */
static void aa_lstsq(int n, int nc, const double *D, const double *g, double *q,
                     double *gamma)
{
    double R[EM_AA_DEPTH][EM_AA_DEPTH], b[EM_AA_DEPTH];
    int keep[EM_AA_DEPTH];
    for (int j = 0; j < nc; j++) {
        double *qj = q + (size_t)j * (size_t)n, nrm0 = 0.0, nrm = 0.0;
        memcpy(qj, D + (size_t)j * (size_t)n, sizeof(double) * (size_t)n);
        for (int i = 0; i < n; i++) nrm0 += qj[i] * qj[i];
        for (int l = 0; l < j; l++) {
            const double *ql = q + (size_t)l * (size_t)n;
            double dot = 0.0;
            R[l][j] = 0.0;
            if (!keep[l]) continue;
            for (int i = 0; i < n; i++) dot += ql[i] * qj[i];
            R[l][j] = dot;
            for (int i = 0; i < n; i++) qj[i] -= dot * ql[i];
        }
        for (int i = 0; i < n; i++) nrm += qj[i] * qj[i];
        keep[j] = nrm > 1e-24 * nrm0 && nrm > 0.0;
        R[j][j] = keep[j] ? sqrt(nrm) : 0.0;
        b[j] = 0.0;
        if (keep[j]) {
            double dot = 0.0;
            for (int i = 0; i < n; i++) qj[i] /= R[j][j];
            for (int i = 0; i < n; i++) dot += qj[i] * g[i];
            b[j] = dot;
        }
    }
    for (int j = nc - 1; j >= 0; j--) {
        double s = b[j];
        gamma[j] = 0.0;
        if (!keep[j]) continue;
        for (int l = j + 1; l < nc; l++) s -= R[j][l] * gamma[l];
        gamma[j] = s / R[j][j];
    }
}

/* The loop of em_fit for accel = 2.  On entry s0 holds the start and its
 * log-likelihood, s1 = F(s0).  Sets res->status; returns EM_OK, or an error
 * status of a pass at a plain EM step (or EM_ERR_NOMEM). */
static int anderson_loop(em_ctx *c, em_state *s0, em_state *s1, em_result *res,
                         int64_t hist_cap, double tolw)
{
    const em_options *opt = c->opt;
    const int K = c->K, n2 = 2 * K, M = EM_AA_DEPTH;
    /* history: points X[j], their EM images FX[j] (theta), j < nh <= M + 1 */
    double *buf = (double *)EM_MALLOC(sizeof(double) * (size_t)n2 * (size_t)(5 * M + 5));
    double *X, *FX, *D, *DF, *Q, *g, *thn, *thq;
    double gamma[EM_AA_DEPTH], rho2_max = 0.0;
    em_state sx, sf;
    int nh = 0, check = 0, last_plain = 0, fresh = 0, which, kind, st = EM_OK;
    if (!buf) return EM_ERR_NOMEM;
    X = buf;
    FX = X + (size_t)(M + 1) * n2;
    D = FX + (size_t)(M + 1) * n2;
    DF = D + (size_t)M * n2;
    Q = DF + (size_t)M * n2;
    g = Q + (size_t)M * n2;
    thn = g + n2;
    thq = thn + n2;
    to_theta(K, s0, X);
    to_theta(K, s1, FX);
    nh = 1;
    while (c->n_passes - 1 < opt->max_iter) {
        const double *xl = X + (size_t)(nh - 1) * n2, *fl = FX + (size_t)(nh - 1) * n2;
        int plain = nh < 2 || check;
        if (c->stop) { res->status = EM_INTERRUPTED; break; }
        if ((kind = em_guard(K, s1, opt, &which)) != 0) {
            res->status = EM_DEGENERATE;          /* s0 is the last sound iterate */
            res->degenerate_component = which;
            res->degenerate_kind = kind;
            break;
        }
        if (plain) {
            sx = *s1;                              /* F(x_last), no theta round trip */
            memcpy(thn, fl, sizeof(double) * (size_t)n2);
        } else {
            int nc = nh - 1;
            for (int j = 0; j < nc; j++)
                for (int i = 0; i < n2; i++) {
                    size_t a = (size_t)j * n2 + i, b1 = (size_t)(j + 1) * n2 + i;
                    D[a] = (FX[b1] - X[b1]) - (FX[a] - X[a]);
                    DF[a] = FX[b1] - FX[a];
                }
            for (int i = 0; i < n2; i++) g[i] = fl[i] - xl[i];
            aa_lstsq(n2, nc, D, g, Q, gamma);
            for (int i = 0; i < n2; i++) {
                double v = fl[i];
                for (int j = 0; j < nc; j++) v -= gamma[j] * DF[(size_t)j * n2 + i];
                thn[i] = v;
            }
            from_theta(K, thn, &sx);
            if (em_guard(K, &sx, opt, &which) != 0) {
                /* restart from x_last: the next point is the plain step */
                memmove(X, xl, sizeof(double) * (size_t)n2);
                memmove(FX, fl, sizeof(double) * (size_t)n2);
                nh = 1;
                continue;
            }
        }
        st = em_eval(c, &sx, &sf);
        if (st == EM_INTERRUPTED) {
            st = EM_OK;                            /* stop at s0 */
            res->status = EM_INTERRUPTED;
            break;
        }
        if (st != EM_OK) {
            if (plain) break;                      /* a plain EM step failed: an error */
            st = EM_OK;
            sx.ll = -INFINITY;                     /* rejected below */
        }
        if (!plain && !(sx.ll >= s0->ll)) {        /* rejected: restart from x_last */
            if (c->stop) { res->status = EM_INTERRUPTED; break; }
            if (fresh) fresh = 2;                  /* a fresh history found no gain */
            memmove(X, xl, sizeof(double) * (size_t)n2);
            memmove(FX, fl, sizeof(double) * (size_t)n2);
            nh = 1;
            continue;
        }
        {
            double d = sx.ll - s0->ll;
            memcpy(thq, xl, sizeof(double) * (size_t)n2);
            *s0 = sx;
            *s1 = sf;
            record(res, c, hist_cap, s0->ll);
            if (nh == M + 1) {                      /* drop the oldest point */
                memmove(X, X + n2, sizeof(double) * (size_t)M * n2);
                memmove(FX, FX + n2, sizeof(double) * (size_t)M * n2);
                nh = M;
            }
            memcpy(X + (size_t)nh * n2, thn, sizeof(double) * (size_t)n2);
            to_theta(K, s1, FX + (size_t)nh * n2);
            nh++;
            if (plain) {
                /* s0 = F(q): the stopping rule at s0.  It ends the fit only
                 * when q itself came from a plain step: the ratio of the step
                 * right after an extrapolation can hide a slow direction, so
                 * a pass there asks for one more plain step to confirm. */
                const double *fx = FX + (size_t)(nh - 1) * n2;
                check = 0;
                if (em_converged(d, dist2(n2, thn, thq), dist2(n2, fx, thn), tolw, 0,
                                 &rho2_max)) {
                    if (last_plain && fresh == 2) {
                        res->status = EM_CONVERGED;
                        break;
                    }
                    if (last_plain && !fresh) {
                        /* confirm with a fresh history from here */
                        memmove(X, X + (size_t)(nh - 1) * n2, sizeof(double) * (size_t)n2);
                        memmove(FX, FX + (size_t)(nh - 1) * n2, sizeof(double) * (size_t)n2);
                        nh = 1;
                        fresh = 1;
                    } else if (!last_plain) {
                        check = 1;
                    }
                }
                last_plain = 1;
            } else {
                last_plain = 0;
                if (fabs(d) < tolw) {
                    check = 1;                     /* next: a plain step to test */
                    if (fresh) fresh = 2;
                } else {
                    fresh = 0;
                }
            }
        }
    }
    free(buf);
    return st;
}

int em_fit(const em_data *data, int K, double *w, double *mu,
           const em_options *opt, em_result *res)
{
    /* Invariant at the top of the loop: s0 holds the current parameters and
     * their log-likelihood, s1 = F(s0) is the EM update from them.  Every
     * pass evaluates one log-likelihood and one EM update; n_iter counts the
     * passes after the first.  The interrupt callback is polled after every
     * pass (em_eval); once it fires the loop stops at s0. */
    em_ctx c;
    em_state s0, s1, s2, sx, sf;
    double th0[2 * EM_MAX_COMPONENTS], th1[2 * EM_MAX_COMPONENTS], th2[2 * EM_MAX_COMPONENTS];
    double thx[2 * EM_MAX_COMPONENTS], thq[2 * EM_MAX_COMPONENTS];
    double stepmax = 1.0, tolw, llq, rho2_max = 0.0;
    int st, which = -1, kind, n2, near, have_s0 = 0;
    int64_t hist_cap;
    if (!res) return EM_ERR_ARGUMENT;
    memset(&c, 0, sizeof(c));
    res->n_iter = 0;
    res->n_passes = 0;
    res->n_history = 0;
    res->degenerate_component = -1;
    res->degenerate_kind = 0;
    res->loglik = NAN;
    res->weight = 0.0;
    res->status = EM_ERR_ARGUMENT;
    if (!data || !w || !mu || K < 1 || K > EM_MAX_COMPONENTS) return res->status;
    if ((st = check_options(opt)) != EM_OK) return res->status = st;
    if ((st = em_data_check(data)) != EM_OK) return res->status = st;
    if (!has_information(data)) return res->status = EM_ERR_NO_INFO;
    {
        em_par p;
        if ((st = em_par_set(&p, K, w, mu)) != EM_OK) return res->status = st;
        for (int k = 0; k < K; k++) { s0.w[k] = p.w[k]; s0.mu[k] = p.mu[k]; }
    }
    hist_cap = opt->max_iter + 1;
    n2 = 2 * K;
    c.d = data;
    c.K = K;
    c.opt = opt;
    if ((st = em_workspace_init(&c.ws, data, K, opt->n_threads)) != EM_OK)
        return res->status = st;

    c.ws.interrupt = opt->interrupt;
    c.ws.interrupt_ctx = opt->interrupt_ctx;
    c.ws.interrupt_seconds = opt->interrupt_seconds;
    c.ws.last_check = now_seconds();
    st = em_eval(&c, &s0, &s1);
    if (st != EM_OK) goto done_error;
    have_s0 = 1;
    res->weight = c.weight;
    tolw = opt->tol * c.weight;
    record(res, &c, hist_cap, s0.ll);
    res->status = EM_MAX_ITER;
    if (opt->accel == 2) {
        if ((st = anderson_loop(&c, &s0, &s1, res, hist_cap, tolw)) != EM_OK)
            goto done_error;
        goto finish;
    }

    while (c.n_passes - 1 < opt->max_iter) {
        int64_t remaining = opt->max_iter - (c.n_passes - 1);
        const em_state *cand = &s1;
        if (c.stop) { res->status = EM_INTERRUPTED; break; }
        if ((kind = em_guard(K, &s1, opt, &which)) != 0) {
            res->status = EM_DEGENERATE;        /* s0 is the last sound iterate */
            res->degenerate_component = which;
            res->degenerate_kind = kind;
            break;
        }
        to_theta(K, &s0, th0);
        to_theta(K, &s1, th1);
        /* q: the point the next plain EM step starts from (for the stopping rule) */
        llq = s0.ll;
        memcpy(thq, th0, sizeof(double) * (size_t)n2);
        if (opt->accel == 1 && remaining >= 3) {
            st = em_eval(&c, &s1, &s2);
            if (st != EM_OK) goto done_error;
            if ((kind = em_guard(K, &s2, opt, &which)) != 0) {
                s0 = s1;
                record(res, &c, hist_cap, s0.ll);
                res->status = EM_DEGENERATE;
                res->degenerate_component = which;
                res->degenerate_kind = kind;
                break;
            }
            to_theta(K, &s2, th2);
            /* the EM step s0 -> s1 -> s2 shows how far s0 is from the optimum */
            near = em_converged(s1.ll - s0.ll, dist2(n2, th1, th0), dist2(n2, th2, th1), tolw, 1, &rho2_max);
            if (c.stop) { res->status = EM_INTERRUPTED; break; }
            {
                double rr = 0.0, vv = 0.0, alpha;
                for (int j = 0; j < n2; j++) {
                    double r = th1[j] - th0[j], v = th2[j] - 2.0 * th1[j] + th0[j];
                    rr += r * r;
                    vv += v * v;
                }
                alpha = vv > 0.0 ? -sqrt(rr / vv) : -1.0;
                if (alpha > -1.0) alpha = -1.0;
                if (alpha < -stepmax) alpha = -stepmax;
                if (alpha == -stepmax) stepmax *= EM_SQ_STEP_FACTOR;
                if (alpha < -1.0) {
                    for (int j = 0; j < n2; j++) {
                        double r = th1[j] - th0[j], v = th2[j] - 2.0 * th1[j] + th0[j];
                        thx[j] = th0[j] - 2.0 * alpha * r + alpha * alpha * v;
                    }
                    from_theta(K, thx, &sx);
                    if (em_guard(K, &sx, opt, &which) == 0 &&
                        em_eval(&c, &sx, &sf) == EM_OK && sx.ll >= s0.ll) {
                        /* accepted.  Converged only if the gain is below tol
                         * and the EM step from s0 showed s0 itself within tol
                         * of the optimum: a stalled extrapolation on a flat
                         * likelihood does not end the fit. */
                        double prev = s0.ll;
                        s0 = sx;
                        s1 = sf;
                        record(res, &c, hist_cap, s0.ll);
                        if (near && fabs(s0.ll - prev) < tolw) {
                            res->status = EM_CONVERGED;
                            break;
                        }
                        continue;
                    }
                    if (c.stop) { res->status = EM_INTERRUPTED; break; }
                    stepmax = stepmax / EM_SQ_STEP_FACTOR > 1.0 ? stepmax / EM_SQ_STEP_FACTOR : 1.0;
                }
            }
            cand = &s2;   /* fall back to the plain EM iterate F(F(s0)) = F(s1) */
            llq = s1.ll;
            memcpy(thq, th1, sizeof(double) * (size_t)n2);
            if (c.n_passes - 1 >= opt->max_iter) {
                s0 = s1;  /* no pass left to evaluate s2: stop at s1 */
                record(res, &c, hist_cap, s0.ll);
                break;
            }
        }
        {
            em_state keep = s0;
            s0 = *cand;
            st = em_eval(&c, &s0, &s1);
            if (st == EM_INTERRUPTED) s0 = keep;   /* cand's pass did not finish */
        }
        if (st != EM_OK) goto done_error;
        record(res, &c, hist_cap, s0.ll);
        /* s0 = F(q): the stopping rule at s0 */
        to_theta(K, &s0, th0);
        to_theta(K, &s1, th1);
        if (em_converged(s0.ll - llq, dist2(n2, th0, thq), dist2(n2, th1, th0), tolw, 0, &rho2_max)) {
            res->status = EM_CONVERGED;
            break;
        }
    }
finish:
    if (c.stop) res->status = EM_INTERRUPTED;  /* the callback may have set a Python exception */
    for (int k = 0; k < K; k++) { w[k] = s0.w[k]; mu[k] = s0.mu[k]; }
    res->loglik = s0.ll;
    res->n_passes = c.n_passes;
    res->n_iter = c.n_passes - 1;
    em_workspace_free(&c.ws);
    return res->status;

done_error:
    if (st == EM_INTERRUPTED && have_s0) {
        /* interrupted inside a pass: stop at the last evaluated iterate s0 */
        res->status = EM_INTERRUPTED;
        goto finish;
    }
    res->n_passes = c.n_passes;
    res->n_iter = c.n_passes > 0 ? c.n_passes - 1 : 0;
    em_workspace_free(&c.ws);
    return res->status = st;
}

/* Interrupt state shared by the fits of one batch.  Only the thread that
 * called em_fit_batch (OpenMP thread 0) calls the user's callback (which may
 * need the caller's thread, e.g. to take the Python GIL and check signals);
 * every fit polls the shared flag, so all of them stop soon after. */
typedef struct em_batch_stop {
    em_interrupt_fn fn;
    void *ctx;
    int stop;
} em_batch_stop;

static int batch_stop_get(em_batch_stop *b)
{
    int v;
#ifdef _OPENMP
#pragma omp critical(em_batch_stop)
#endif
    v = b->stop;
    return v;
}

static int batch_interrupt(void *p)
{
    em_batch_stop *b = (em_batch_stop *)p;
#ifdef _OPENMP
    int master = omp_get_thread_num() == 0;
#else
    int master = 1;
#endif
    if (master && b->fn(b->ctx)) {
#ifdef _OPENMP
#pragma omp critical(em_batch_stop)
#endif
        b->stop = 1;
    }
    return batch_stop_get(b);
}

int em_fit_batch(int64_t n_problems, const em_data *data, int K,
                 double *w, double *mu, const em_options *opts, int same_options,
                 em_result *results, int n_threads)
{
    int64_t i;
    em_batch_stop bs;
    if (n_problems < 0 || (n_problems > 0 && (!data || !w || !mu || !opts || !results)))
        return EM_ERR_ARGUMENT;
    if (K < 1 || K > EM_MAX_COMPONENTS || n_threads < 1) return EM_ERR_ARGUMENT;
    if (n_problems == 0) return EM_OK;
    if ((int64_t)n_threads > n_problems) n_threads = (int)n_problems;
    bs.fn = opts[0].interrupt;
    bs.ctx = opts[0].interrupt_ctx;
    bs.stop = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads) if (n_threads > 1)
#endif
    for (i = 0; i < n_problems; i++) {
        em_options o = same_options ? opts[0] : opts[i];
        o.n_threads = 1;
        if (bs.fn) {
            o.interrupt = batch_interrupt;
            o.interrupt_ctx = &bs;
            o.interrupt_seconds = opts[0].interrupt_seconds;
        } else {
            o.interrupt = NULL;
        }
        if (bs.fn && batch_stop_get(&bs)) {    /* interrupted: do not start this fit */
            em_result *r = &results[i];
            r->status = EM_INTERRUPTED;
            r->n_iter = r->n_passes = r->n_history = 0;
            r->loglik = NAN;
            r->weight = 0.0;
            r->degenerate_component = -1;
            r->degenerate_kind = 0;
            continue;
        }
        em_fit(&data[i], K, w + (size_t)i * (size_t)K, mu + (size_t)i * (size_t)K,
               &o, &results[i]);
    }
    return EM_OK;
}
