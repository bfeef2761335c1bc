"""Numba kernels: plain ``@njit(cache=True)`` functions over arrays and scalars.

Nothing here knows about estimators, datafit objects or penalty objects: penalties are lowered to
per-feature arrays (``l1``, ``l2``) and a ``positive`` flag before they reach a kernel, so one cached
kernel serves lasso, ridge, elastic net, unpenalized columns and non-negativity.

Importing this package points numba's on-disk cache at a writable directory when the installed
package directory is read-only (a system-wide install, a container image), so that import and
``cache=True`` keep working there.
"""

import os
import sys
import tempfile


def _writable_cache_dir() -> str | None:
    """Return a cache directory to use, or None when numba's default (next to the source) works."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    package_dir = os.path.dirname(os.path.abspath(__file__))
    if os.access(package_dir, os.W_OK):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for candidate in (os.path.join(base, "shrinkage", "numba"),
                      os.path.join(tempfile.gettempdir(), "shrinkage-numba")):
        try:
            os.makedirs(candidate, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    return None


_cache_dir = _writable_cache_dir()
if _cache_dir is not None:
    os.environ["NUMBA_CACHE_DIR"] = _cache_dir
    if "numba" in sys.modules:  # numba read its config already: tell it directly
        import numba

        numba.config.CACHE_DIR = _cache_dir
