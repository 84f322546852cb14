/* bench_kinds_c.c -- one fused pass per observation kind in C, relative to
 * exact data (no Python), N = 1e6, K = 3, one thread, best of 9 interleaved
 * rounds.  Build and run from the repository root:
 *   cc -O3 -std=gnu11 -fno-math-errno -fno-trapping-math -fopenmp -Icsrc \
 *      csrc/pass.c csrc/fit.c benchmarks/bench_kinds_c.c -lm -o /tmp/bk && /tmp/bk
 * To compare with another version of pass.c, build it the same way with that
 * file and run both programs alternately (a shared machine is noisy: only
 * ratios measured side by side mean anything). */
#include "expmix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+1e-9*t.tv_nsec;}
int main(void){
  int64_t N=1000000; int K=3;
  double *x=malloc(N*8),*lo=malloc(N*8),*hi=malloc(N*8),*t=malloc(N*8);
  srand(1);
  for(int64_t i=0;i<N;i++){double u=(rand()+1.0)/(RAND_MAX+2.0); x[i]=-log(u)*(i%3==0?0.1:i%3==1?1:10); lo[i]=floor(x[i]*20)/20; hi[i]=lo[i]+0.05; t[i]=0.05*(rand()/(double)RAND_MAX);}
  double w[3]={1/3.,1/3.,1/3.}, mu[3]={10,1,0.1}, R[3], X[3];
  em_stats s={3,0,0,R,X};
  em_data de={0}, di={0}, dt={0};
  de.n_exact=N; de.exact=x; di.n_interval=N; di.lower=lo; di.upper=hi; dt.n_trunc=N; dt.trunc=t;
  double be=1e9,bi=1e9,bt=1e9;
  for(int r=0;r<9;r++){
    double t0=now(); em_pass(&de, K, w, mu, 1, &s); double t1=now(); em_pass(&di, K, w, mu, 1, &s); double t2=now(); em_pass(&dt, K, w, mu, 1, &s); double t3=now();
    if (t1 - t0 < be) be = t1 - t0;
    if (t2 - t1 < bi) bi = t2 - t1;
    if (t3 - t2 < bt) bt = t3 - t2;
  }
  printf("exact %.1f ms  interval %.1f ms (%.2fx)  trunc %.1f ms (%.2fx)\n", be*1e3, bi*1e3, bi/be, bt*1e3, bt/be);
  return 0;
}
