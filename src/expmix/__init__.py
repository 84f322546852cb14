"""expmix: maximum-likelihood mixtures of exponential distributions.

    p(x) = sum_k w_k mu_k exp(-mu_k x),  x >= 0

fitted by EM in C (one fused pass per iteration, SQUAREM acceleration,
OpenMP threads, bitwise-reproducible results), for exact, right-censored,
interval-censored (binned) and left-truncated data.
"""
from ._version import __version__
from .exceptions import ConvergenceWarning, DegenerateFitError, DegenerateFitWarning, NotFittedError
from .batch import FitManyResult, fit_many, fit_many_intervals
from .mixture import ExponentialMixture
from .io import ModelFileError, load
from .selection import (SelectionResult, select_components, select_components_histogram,
                        select_components_intervals)
from .inference import (BootstrapResult, ConfidenceIntervals, SingularInformationWarning,
                        StandardErrors)
from .gof import GoodnessOfFitResult, goodness_of_fit

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
    "ModelFileError",
    "load",
    "goodness_of_fit",
    "GoodnessOfFitResult",
    "StandardErrors",
    "ConfidenceIntervals",
    "BootstrapResult",
    "SingularInformationWarning",
]


def get_include():
    """Directories a C/Cython build against the expmix Cython API needs.

    Returns
    -------
    list of str
        ``[headers, packages]``: the directory of the C header ``expmix.h``
        (for the C compiler) and the directory that contains the ``expmix``
        package with ``core.pxd`` (for Cython's ``include_path``).  Pass the
        whole list both as ``include_dirs`` of the ``Extension`` and as
        ``include_path`` of ``cythonize``.  Nothing needs to be linked: the
        functions of ``expmix.core`` are reached through its C-API capsules.

    Examples
    --------
    >>> import expmix
    >>> from setuptools import Extension
    >>> ext = Extension("mymod", ["mymod.pyx"], include_dirs=expmix.get_include())
    """
    import os
    pkg = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(pkg, "include"), os.path.dirname(pkg)]


__all__ += ["get_include", "fit_many", "fit_many_intervals", "FitManyResult"]
