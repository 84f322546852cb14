"""expmix quickstart: fit a 3-component exponential mixture to generated
dwell times and choose the number of components by BIC."""
import numpy as np

import expmix

rng = np.random.default_rng(2026)
true_w, true_rates = np.array([0.25, 0.45, 0.30]), np.array([8.0, 1.0, 0.1])
n = 200_000
labels = rng.choice(3, size=n, p=true_w)
x = rng.standard_exponential(n) / true_rates[labels]

model = expmix.ExponentialMixture(n_components=3, n_init=4, random_state=0).fit(x)
print(f"expmix {expmix.__version__}: fitted {n} points in {model.n_iter_} passes "
      f"(converged: {model.converged_})")
print("component   weight        rate        mean   (true weight, rate)")
for k in range(3):
    print(f"{k:>9d} {model.weights_[k]:8.4f} {model.rates_[k]:11.5f} {model.means_[k]:11.5f}"
          f"   ({true_w[k]:.2f}, {true_rates[k]:g})")
print(f"log-likelihood {model.log_likelihood_:.4f}, BIC {model.bic(x):.4f}\n")

result = expmix.select_components(x, n_components=range(1, 6), n_init=3, random_state=0)
print(result)
