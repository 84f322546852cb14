/* em_internal.h -- internal declarations of the expmix core (not installed API). */
#ifndef EM_INTERNAL_H
#define EM_INTERNAL_H

#include "expmix.h"
#include "em_vmath.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Allocation of the core's workspaces.  Tests build with
 * -DEM_TEST_MALLOC_HOOK and define em_test_malloc to inject allocation
 * failures (csrc/tests/test_alloc.c); the library itself uses malloc. */
#include <stdlib.h>
#ifdef EM_TEST_MALLOC_HOOK
void *em_test_malloc(size_t n);
#define EM_MALLOC(n) em_test_malloc(n)
#endif
#ifndef EM_MALLOC
#define EM_MALLOC(n) malloc(n)
#endif

/* Fewest blocks (of EM_BLOCK observations) worth one more thread in a pass. */
#define EM_MIN_BLOCKS_PER_THREAD 8

/* Observations per tile (unit of vectorization) and lanes per accumulator. */
#define EM_TILE 64
#define EM_LANES 8

/* Per-block slot: [loglik, weight, R_0..R_{K-1}, X_0..X_{K-1}] */
#define EM_SLOT(K) (2 * (K) + 2)
#define EM_SLOT_L 0
#define EM_SLOT_W 1
#define EM_SLOT_R(k) (2 + (k))
#define EM_SLOT_X(k, K) (2 + (K) + (k))

/* Lane accumulators: value v of the slot has lanes [v*EM_LANES, (v+1)*EM_LANES) */
#define EM_ACC_SIZE(K) (EM_SLOT(K) * EM_LANES)
#define EM_ACC_L (EM_SLOT_L * EM_LANES)
#define EM_ACC_W (EM_SLOT_W * EM_LANES)
#define EM_ACC_R(k) (EM_SLOT_R(k) * EM_LANES)
#define EM_ACC_X(k, K) (EM_SLOT_X(k, K) * EM_LANES)

/* Per-thread scratch: A[K][TILE], E[K][TILE], six point vectors, accumulators */
#define EM_SCR_A 0
#define EM_SCR_E(K) ((K) * EM_TILE)
#define EM_SCR_X(K) (2 * (K) * EM_TILE)
#define EM_SCR_D(K) (EM_SCR_X(K) + EM_TILE)
#define EM_SCR_V(K) (EM_SCR_X(K) + 2 * EM_TILE)
#define EM_SCR_M(K) (EM_SCR_X(K) + 3 * EM_TILE)
#define EM_SCR_S(K) (EM_SCR_X(K) + 4 * EM_TILE)
#define EM_SCR_Q(K) (EM_SCR_X(K) + 5 * EM_TILE)
#define EM_SCR_ACC(K) (EM_SCR_X(K) + 6 * EM_TILE)
#define EM_SCR_SIZE(K) (EM_SCR_ACC(K) + EM_ACC_SIZE(K))

/* Parameters prepared for the kernels. */
typedef struct em_par {
    int K;
    double w[EM_MAX_COMPONENTS];
    double mu[EM_MAX_COMPONENTS];
    double logw[EM_MAX_COMPONENTS];
    double logw_mu[EM_MAX_COMPONENTS];   /* log w_k + log mu_k */
    double inv_mu[EM_MAX_COMPONENTS];
} em_par;

typedef struct em_layout {
    int64_t nb_exact, nb_right, nb_interval, nb_trunc, n_blocks;
} em_layout;

/* Buffers of one fit, allocated once before the iterations. */
typedef struct em_workspace {
    em_layout layout;
    int K;
    int n_threads;          /* effective: capped by the number of blocks */
    double *slots;          /* n_blocks * EM_SLOT(K) */
    double *scratch;        /* n_threads * EM_SCR_SIZE(K) */
    /* Interrupt polling (em_fit sets these; zero from em_workspace_init: off).
     * The calling thread (OpenMP thread 0) polls between blocks too, at most
     * every interrupt_seconds, so a long pass stops within about that time. */
    em_interrupt_fn interrupt;
    void *interrupt_ctx;
    double interrupt_seconds;
    double last_check;      /* time of the last poll (em_now_seconds) */
    int stop;               /* the callback asked to stop */
} em_workspace;

/* Wall-clock seconds (TIME_UTC), 0 if unavailable. */
double em_now_seconds(void);

/* The fast kernels' reference component (shared prologue): perm[0] = the
 * smallest rate (first index on ties), perm[1..K-1] = the others in index
 * order.  Returns 1 when the fast path applies: every c[k] finite (no zero
 * weight) and D + log K <= dmax, where D = max_k (c[k] - c[perm[0]]) >= 0 is
 * stored in *D.  Returns 0 otherwise (the caller takes the general path). */
static inline int em_fast_reference(const double *mu, const double *c, int K, double dmax,
                                    int *perm, double *D)
{
    double d = 0.0;
    perm[0] = 0;
    for (int k = 1; k < K; k++)
        if (mu[k] < mu[perm[0]]) perm[0] = k;
    for (int k = 0, j = 1; k < K; k++)
        if (k != perm[0]) perm[j++] = k;
    for (int k = 0; k < K; k++) {
        double dk = c[k] - c[perm[0]];
        if (!(dk > -INFINITY)) return 0;   /* a zero weight */
        d = dk > d ? dk : d;
    }
    *D = d;
    return d + log((double)K) <= dmax;
}

int em_par_set(em_par *p, int K, const double *w, const double *mu);
void em_layout_init(em_layout *L, const em_data *d);
int em_workspace_init(em_workspace *ws, const em_data *d, int K, int n_threads);
void em_workspace_free(em_workspace *ws);
/* One pass with preallocated workspace; p must be valid. */
int em_pass_ws(const em_data *d, const em_par *p, em_workspace *ws,
               double *loglik, double *weight, double *resp, double *resp_x);

#endif /* EM_INTERNAL_H */
