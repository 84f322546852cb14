"""Warnings and exceptions of expmix."""

__all__ = ["ConvergenceWarning", "DegenerateFitWarning", "DegenerateFitError", "NotFittedError"]


class ConvergenceWarning(UserWarning):
    """No restart of a fit met the convergence tolerance within max_iter."""


class DegenerateFitWarning(UserWarning):
    """Some restarts degenerated (a rate diverged or a weight vanished) and were
    set aside, or the chosen fit has a component whose weight vanished."""


class DegenerateFitError(ValueError):
    """Every restart degenerated: the likelihood is unbounded on these data for
    this number of components (typically exact zeros with K >= 2)."""


class NotFittedError(ValueError, AttributeError):
    """The estimator is used before fit (subclasses ValueError and
    AttributeError, as scikit-learn's NotFittedError)."""
