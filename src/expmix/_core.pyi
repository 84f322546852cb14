"""Type stubs for the Cython bridge ``expmix._core`` (see _core.pyx).

An *observation set* is any object with the attributes of
:class:`expmix.observations.Observations` (``exact, exact_w, right, right_w,
lower, upper, interval_w, trunc, trunc_w``: None or 1-D C-contiguous float64).
Other helpers may add functions to _core.pyx; add their signatures here.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

_F64 = npt.NDArray[np.float64]

STATUS_NAMES: Dict[int, str]
BLOCK_SIZE: int
MAX_COMPONENTS: int
C_API_VERSION: int

def openmp_enabled() -> bool: ...
def omp_max_threads() -> int: ...
def _raise_status(st: int, what: str) -> None: ...
def data_scale(obs: Any) -> float: ...
def fit(obs: Any, w: _F64, mu: _F64, *, max_iter: int = ..., tol: float = ...,
        n_threads: int = ..., accel: int = ..., weight_floor: float = ...,
        rate_ceiling: float = ..., scale: float = ..., history: bool = ...,
        interruptible: bool = ...) -> Dict[str, Any]: ...
def fit_batch(problems: List[Any], w: _F64, mu: _F64, *, max_iter: int = ..., tol: float = ...,
              accel: int = ..., weight_floor: float = ..., rate_ceiling: float = ...,
              scales: Optional[Sequence[float]] = ..., n_threads: int = ...,
              history: bool = ...) -> Dict[str, Any]: ...
def pass_stats(obs: Any, w: _F64, mu: _F64, n_threads: int = ...
               ) -> Tuple[float, float, _F64, _F64]: ...
def log_joint(obs: Any, w: _F64, mu: _F64, n_threads: int = ...) -> _F64: ...
def log_survival(t: _F64, w: _F64, mu: _F64) -> _F64: ...
def __getattr__(name: str) -> Any: ...  # functions added by other modules of the bridge
