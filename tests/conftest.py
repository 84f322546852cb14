import numpy as np
import pytest


def draw(rng, n, w, mu):
    """n draws from the mixture (w, mu)."""
    w = np.asarray(w, float)
    mu = np.asarray(mu, float)
    lab = rng.choice(len(w), size=n, p=w / w.sum())
    return rng.standard_exponential(n) / mu[lab]


@pytest.fixture
def rng():
    return np.random.default_rng(20261201)
