"""expmix: maximum-likelihood mixtures of exponential distributions.

    p(x) = sum_k w_k mu_k exp(-mu_k x),  x >= 0

fitted by EM in C (one fused pass per iteration, SQUAREM acceleration,
OpenMP threads, bitwise-reproducible results), for exact, right-censored,
interval-censored (binned) and left-truncated data.
"""
from ._version import __version__
from .exceptions import ConvergenceWarning, DegenerateFitError, DegenerateFitWarning, NotFittedError
from .mixture import ExponentialMixture
from .selection import (SelectionResult, select_components, select_components_histogram,
                        select_components_intervals)

__all__ = [
    "__version__",
    "ExponentialMixture",
    "select_components",
    "select_components_intervals",
    "select_components_histogram",
    "SelectionResult",
    "ConvergenceWarning",
    "DegenerateFitWarning",
    "DegenerateFitError",
    "NotFittedError",
]
from .batch import FitManyResult, fit_many  # noqa: E402  (issue 4)
__all__ += ["fit_many", "FitManyResult"]
