"""Solvers: numerical methods over a prepared :class:`~shrinkage.solvers.design.Design`.

They take lowered penalties and already-validated arrays, call the numba kernels, and never
import the estimator layer.
"""

from .cd import EnetResult, solve_enet
from .closed_form import ridge_svd_path, solve_ridge
from .design import Design, make_design

__all__ = ["Design", "EnetResult", "make_design", "ridge_svd_path", "solve_enet", "solve_ridge"]
