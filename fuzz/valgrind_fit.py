"""A small tour of expmix for the valgrind memcheck run (.ci/sanitizers.sh):
every observation kind, restarts on threads (fit_batch), the block-parallel
pass, errors raised from C, and the evaluation functions."""
import warnings

import numpy as np

import expmix

warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
x = rng.standard_exponential(3000) * np.where(rng.random(3000) < 0.4, 0.2, 2.0)
m = expmix.ExponentialMixture(2, n_init=3, random_state=0, n_threads=2).fit(x)
m.fit(x, event_observed=np.arange(x.size) % 4 != 0, entry=0.0)
m.fit_intervals(x, np.where(x > 3, np.inf, x + 0.1))
m.fit_histogram([0, 0.5, 1, 2, np.inf], [10, 5, 3, 1])
expmix.ExponentialMixture(2, n_threads=2).fit(np.tile(x, 4))     # > 1 block per thread
m.score(x), m.predict_proba(x[:10]), m.ppf([0.1, 0.9]), m.bic(x)
expmix.select_components(x[:500], [1, 2], n_threads=1)
for bad in (np.zeros(5), [1.0, np.nan]):
    try:
        expmix.ExponentialMixture(2).fit(bad)
    except ValueError:
        pass
try:
    expmix._core.pass_stats(expmix.observations.from_samples(x), np.ones(1), -np.ones(1))
except ValueError:
    pass
print("ok", m.rates_)
