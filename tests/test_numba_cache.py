"""numba's on-disk cache: a second process loads the kernels instead of compiling them, and the
package imports when its directory is read-only."""

import subprocess
import sys

SCRIPT = """
import numpy as np, scipy.sparse as sp
import shrinkage as sh
from shrinkage._kernels import cd_dense, cd_sparse, gibbs
rng = np.random.default_rng(0)
X = rng.standard_normal((30, 10)); y = rng.standard_normal(30)
wide = rng.standard_normal((30, 150))  # too wide for the numba-free homotopy of small problems
sh.Lasso(alpha=0.01).fit(wide, y)
sh.Lasso(alpha=0.01).fit(sp.csc_matrix(X), y)
for rows in (30, 8):  # n >= p: the Cholesky sweep; p > n: the Bhattacharya et al. draw
    sh.BayesianLasso(lam=1.0, lam_method="fixed", n_draws=20, burn_in=5, n_chains=1,
                     random_state=0).fit(X[:rows], y[:rows])
kernels = (cd_dense.enet_cd_dense, cd_sparse.enet_cd_sparse, gibbs.gibbs_gram, gibbs.gibbs_bcm)
misses = sum(sum(k.stats.cache_misses.values()) for k in kernels)
hits = sum(sum(k.stats.cache_hits.values()) for k in kernels)
print(misses, hits)
"""


def _run(env_extra, tmp_path):
    import os

    env = dict(os.environ, **env_extra)
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    misses, hits = map(int, out.stdout.split())
    return misses, hits


def test_second_process_reuses_the_compiled_kernels(tmp_path):
    # the package's own cache location: the first run compiles what this test session has not
    # compiled yet (usually nothing), the second must only load
    _run({}, tmp_path)
    misses, hits = _run({}, tmp_path)
    assert misses == 0 and hits >= 4
