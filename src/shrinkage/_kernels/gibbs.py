"""Numba kernels of the Bayesian lasso's Gibbs sampler (Park & Casella 2008).

Plain ``@njit(cache=True)`` functions over arrays and scalars. The randomness is drawn by the
caller in bulk with numpy's ``Generator`` (vectorised, seeded, and it keeps numba's compile time
down) and passed in as standard normals, uniforms and unit-rate gammas; the kernels turn them into
the conditional draws. The estimator (:mod:`shrinkage.bayes._lasso`) owns the model; these only
run sweeps. Chains run one after the other (the chain state lives in the arrays passed in and is
updated in place, so the next block of sweeps continues the chains).

One sweep of chain c (``D = diag(tau^2)``, ``A = X'X + D^-1``):

1. ``beta | . ~ N(A^-1 X'y, sigma^2 A^-1)``: ``gibbs_gram`` factors ``A = L L'`` (Cholesky from
   the precomputed X'X: O(p^3 / 3)) and sets ``m = L^-1 X'y + sigma z``, ``beta = L'^-1 m``;
   ``gibbs_bcm`` (p > n) uses Bhattacharya, Chakraborty & Mallick (2016): ``u ~ N(0, sigma^2 D)``,
   ``v = X u / sigma + e``, ``(X D X' + I) w = y / sigma - v``, ``beta = u + sigma D X' w``: O(n^2 p).
2. ``sigma^2 | . ~ InvGamma((n' + p) / 2, (||y - X beta||^2 + beta' D^-1 beta) / 2)``; in the Gram
   kernel the scale is ``y'y - 2 beta'X'y + ||m||^2`` since ``||m||^2 = beta' A beta``.
3. ``1 / tau_j^2 | . ~ InvGaussian(mean lambda sigma / |beta_j|, shape lambda^2)``.
4. ``lambda^2 | . ~ Gamma(p + r, rate sum_j tau_j^2 / 2 + delta)`` (with the hyperprior only).
"""

import math

import numpy as np

from .. import _kernels  # noqa: F401  (points numba's cache at a writable directory if needed)
from ._jit import njit

TINY = 1e-150  # floors for |beta_j|, sigma^2, lambda^2; the inverse-Gaussian mean is capped at 1/TINY


@njit(cache=True, fastmath={"reassoc", "contract"})
def dot_prefix(a, b, k):
    """``sum_{i < k} a[i] b[i]``; reassociation lets LLVM vectorise the reduction (the only
    floating-point licence taken: the sum's rounding, not its value, depends on the order)."""
    acc = 0.0
    for i in range(k):
        acc += a[i] * b[i]
    return acc


@njit(cache=True)
def cholesky_lower(A, L):
    """``A = L L'`` for symmetric positive definite ``A`` (lower triangle read); L's strict upper
    triangle is left untouched. Row-oriented (Cholesky-Crout): every inner product runs over two
    contiguous row prefixes of L."""
    p = A.shape[0]
    for i in range(p):
        Li = L[i]
        for j in range(i):
            Li[j] = (A[i, j] - dot_prefix(Li, L[j], j)) / L[j, j]
        d = A[i, i] - dot_prefix(Li, Li, i)
        if not d > 0.0:
            raise ValueError("Gibbs sweep: the conditional precision of beta is numerically "
                             "singular (sigma^2 -> 0 or tau^2 -> inf: a posterior that "
                             "interpolates y; fix lambda or sigma, or check the data)")
        Li[i] = math.sqrt(d)


@njit(cache=True)
def solve_lower(L, b):
    """Solve ``L x = b`` in place of ``b`` (forward substitution, row inner products)."""
    for i in range(L.shape[0]):
        b[i] = (b[i] - dot_prefix(L[i], b, i)) / L[i, i]


@njit(cache=True)
def solve_lower_transposed(L, b):
    """Solve ``L' x = b`` in place of ``b`` (back substitution as row axpys)."""
    for i in range(L.shape[0] - 1, -1, -1):
        b[i] /= L[i, i]
        bi = b[i]
        Li = L[i]
        for j in range(i):
            b[j] -= bi * Li[j]


@njit(cache=True)
def inverse_gaussian(mean, shape, z, u):
    """InvGaussian(mean, shape) from a standard normal ``z`` and a uniform ``u`` (Michael,
    Schucany & Haas 1976), in the form ``x = mean q``, ``q = 1 / (1 + t + sqrt(t (t + 2)))``,
    ``t = mean z^2 / (2 shape)``: the textbook ``mean + mean t - mean sqrt(t^2 + 2t)`` cancels to
    nothing when ``t`` is large (beta_j near 0 gives a huge mean). The draw is ``mean q`` when
    ``u (1 + q) <= 1`` (probability ``mean / (mean + x)``), else ``mean / q``."""
    t = mean * z * z / (2.0 * shape)
    q = 1.0 / (1.0 + t + math.sqrt(t) * math.sqrt(t + 2.0))
    if u * (1.0 + q) <= 1.0:
        return mean * q
    return mean / q


@njit(cache=True)
def finish_sweep(c, s, beta, sigma2, inv_tau2, lam2, scale_sum, n_dof, sample_sigma,
                 sample_lambda, delta, z_ig, u_ig, g_sigma, g_lam, out_beta, out_sigma2, out_lam2):
    """Steps 2-4 of sweep ``s`` of chain ``c``, then store the state as draw ``s``.
    ``scale_sum = ||y - X beta||^2 + beta' D^-1 beta`` with the ``inv_tau2`` that drew beta;
    ``g_sigma`` ~ Gamma((n' + p) / 2, 1) and ``g_lam`` ~ Gamma(p + r, 1) are the unit-rate draws."""
    p = beta.shape[1]
    if sample_sigma:
        sigma2[c] = max(0.5 * max(scale_sum, 0.0) / g_sigma[c, s], TINY)
    lam_sigma = math.sqrt(lam2[c] * sigma2[c])
    for j in range(p):
        mean = min(lam_sigma / max(abs(beta[c, j]), TINY), 1.0 / TINY)
        draw = inverse_gaussian(mean, lam2[c], z_ig[c, s, j], u_ig[c, s, j])
        inv_tau2[c, j] = min(max(draw, TINY), 1.0 / TINY)
    if sample_lambda:
        rate = delta
        for j in range(p):
            rate += 0.5 / inv_tau2[c, j]
        lam2[c] = max(g_lam[c, s] / rate, TINY)
    # element loops: numba compiles a slice assignment into far more code
    for j in range(p):
        out_beta[c, s, j] = beta[c, j]
    out_sigma2[c, s] = sigma2[c]
    out_lam2[c, s] = lam2[c]


@njit(cache=True)
def gibbs_gram(gram, xty, yy, n_dof, beta, sigma2, inv_tau2, lam2, sample_sigma, sample_lambda,
               delta, z_beta, z_ig, u_ig, g_sigma, g_lam, out_beta, out_sigma2, out_lam2):
    """Run every chain for ``n_sweeps = z_beta.shape[1]`` sweeps from X'X, X'y and y'y (n >= p),
    storing the state after sweep s in ``out_*[c, s]``.

    ``beta (n_chains, p)``, ``sigma2 (n_chains,)``, ``inv_tau2 (n_chains, p)``, ``lam2 (n_chains,)``
    are the chain states, updated in place. The randomness comes in: standard normals
    ``z_beta, z_ig (n_chains, n_sweeps, p)``, uniforms ``u_ig`` (same shape), unit-rate gammas
    ``g_sigma, g_lam (n_chains, n_sweeps)`` (see :func:`finish_sweep`)."""
    n_chains, n_sweeps, p = z_beta.shape
    A = np.empty((p, p))
    L = np.zeros((p, p))
    m = np.empty(p)
    b = np.empty(p)
    for c in range(n_chains):
        for s in range(n_sweeps):
            # 1. A = X'X + D^-1 = L L';  m = L^-1 X'y + sigma z;  beta = L'^-1 m
            for i in range(p):
                for j in range(i + 1):
                    A[i, j] = gram[i, j]
                A[i, i] += inv_tau2[c, i]
            cholesky_lower(A, L)
            for i in range(p):
                m[i] = xty[i]
            solve_lower(L, m)
            sigma = math.sqrt(sigma2[c])
            for i in range(p):
                m[i] += sigma * z_beta[c, s, i]
                b[i] = m[i]
            solve_lower_transposed(L, b)
            # ||y - X beta||^2 + beta' D^-1 beta = y'y - 2 beta'X'y + beta'A beta, beta'A beta = ||m||^2
            scale_sum = yy
            for i in range(p):
                beta[c, i] = b[i]
                scale_sum += m[i] * m[i] - 2.0 * b[i] * xty[i]
            finish_sweep(c, s, beta, sigma2, inv_tau2, lam2, scale_sum, n_dof, sample_sigma,
                         sample_lambda, delta, z_ig, u_ig, g_sigma, g_lam, out_beta, out_sigma2,
                         out_lam2)


@njit(cache=True)
def gibbs_bcm(X, XT, y, n_dof, beta, sigma2, inv_tau2, lam2, sample_sigma, sample_lambda, delta,
              z_beta, z_v, z_ig, u_ig, g_sigma, g_lam, out_beta, out_sigma2, out_lam2):
    """As :func:`gibbs_gram`, drawing beta by Bhattacharya et al. (2016) from X (n, p), its
    C-contiguous transpose XT and y (n,): O(n^2 p) per sweep, for p > n; ``z_v (n_chains,
    n_sweeps, n)`` are the extra standard normals."""
    n_chains, n_sweeps, p = z_beta.shape
    n = X.shape[0]
    L = np.zeros((n, n))
    tau2 = np.empty(p)
    u = np.empty(p)
    b = np.empty(p)
    rhs = np.empty(n)
    XD = np.empty((n, p))
    for c in range(n_chains):
        for s in range(n_sweeps):
            sigma = math.sqrt(sigma2[c])
            # u ~ N(0, sigma^2 D);  v = X u / sigma + e;  rhs = y / sigma - v
            for j in range(p):
                tau2[j] = 1.0 / inv_tau2[c, j]
                u[j] = sigma * math.sqrt(tau2[j]) * z_beta[c, s, j]
            Xu = X @ u
            for i in range(n):
                rhs[i] = (y[i] - Xu[i]) / sigma - z_v[c, s, i]
            # (X D X' + I) w = rhs  (BLAS for the O(n^2 p) product)
            for i in range(n):
                for j in range(p):
                    XD[i, j] = X[i, j] * tau2[j]
            M = XD @ XT
            for i in range(n):
                M[i, i] += 1.0
            cholesky_lower(M, L)
            solve_lower(L, rhs)
            solve_lower_transposed(L, rhs)
            # beta = u + sigma D X' w
            Xtw = XT @ rhs
            scale_sum = 0.0
            for j in range(p):
                b[j] = u[j] + sigma * tau2[j] * Xtw[j]
                beta[c, j] = b[j]
                scale_sum += b[j] * b[j] * inv_tau2[c, j]
            fitted = X @ b
            for i in range(n):
                scale_sum += (y[i] - fitted[i]) ** 2
            finish_sweep(c, s, beta, sigma2, inv_tau2, lam2, scale_sum, n_dof, sample_sigma,
                         sample_lambda, delta, z_ig, u_ig, g_sigma, g_lam, out_beta, out_sigma2,
                         out_lam2)
