"""The Bayesian lasso: Park & Casella's (2008) hierarchy and Gibbs sampler.

Model (X, y centred when ``fit_intercept``; the intercept has a flat prior and is integrated out)::

    y | beta, sigma^2        ~ N(X beta, sigma^2 I_n)
    beta | sigma^2, tau^2    ~ N(0, sigma^2 D_tau),   D_tau = diag(tau_1^2, ..., tau_p^2)
    tau_j^2 | lambda         ~ Exp(rate lambda^2 / 2)         (independent)
    sigma^2                  ~ 1 / sigma^2                    (or fixed: ``noise``)
    lambda^2                 ~ Gamma(r, rate delta)           (``lam_method="gamma"``)

Integrating the tau_j^2 out gives ``beta_j | sigma ~ Laplace(scale = sigma / lambda)``: the prior
of :class:`shrinkage.priors.Laplace`, so the posterior mode at fixed sigma is
``Lasso(alpha = sigma^2 / (n b)) = Lasso(alpha = sigma lambda / n)``.

Gibbs sweep (numba, :mod:`shrinkage._kernels.gibbs`, chain after chain):

1. ``beta | . ~ N(A^-1 X'y, sigma^2 A^-1)``, ``A = X'X + D_tau^-1``: one Cholesky ``A = L L'``,
   ``beta = L'^-1 (L^-1 X'y + sigma z)`` (X'X precomputed). When p > n, Bhattacharya, Chakraborty
   & Mallick (2016): ``u ~ N(0, sigma^2 D)``, ``v = X u / sigma + delta``, solve
   ``(X D X' + I_n) w = y / sigma - v``, ``beta = u + sigma D X' w``: O(n^2 p) per draw.
2. ``sigma^2 | . ~ InvGamma((n' + p) / 2, ||y - X beta||^2 / 2 + beta' D^-1 beta / 2)``,
   n' = N - 1 with an intercept, N - 0 without.
3. ``1 / tau_j^2 | . ~ InvGaussian(mean sqrt(lambda^2 sigma^2 / beta_j^2), shape lambda^2)``.
4. ``lambda^2 | . ~ Gamma(p + r, rate sum_j tau_j^2 / 2 + delta)`` (only under the hyperprior).

Frequency weights ``s_i`` raise each row's likelihood to the power ``s_i``: X and y are centred
with weighted means and rows scaled by ``sqrt(s_i)``, and N = sum_i s_i; a row of weight 2 is the
row twice.

Monte Carlo EM (``lam_method="em"``, empirical Bayes, Park & Casella sec. 3.1):
``lambda_(k) = sqrt(2p / sum_j E[tau_j^2])`` with the expectation under ``lambda_(k-1)``, estimated
by Rao-Blackwellised Gibbs averages ``E[tau_j^2 | beta, sigma, lambda] = |beta_j| / (lambda sigma)
+ 1 / lambda^2``.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._kernels.gibbs import gibbs_bcm, gibbs_gram
from ..linear_model._base import check_numeric_columns, validate_fit_input
from ..priors import Laplace
from ._diagnostics import effective_sample_size, split_rhat


class BayesianLasso(RegressorMixin, BaseEstimator):
    """Bayesian lasso regression (Park & Casella 2008), sampled by a blocked Gibbs sampler.

    The prior is :class:`shrinkage.priors.Laplace` with scale ``sigma / lambda`` on each
    coefficient given sigma (a scale mixture of Gaussians, see the module docstring). The posterior
    mean and median are not sparse; the posterior *mode* at fixed sigma is the lasso at
    ``alpha = sigma lambda / N`` (``MAPRegressor(prior_, noise=noise_)``), N = sum of the sample
    weights (the number of rows without them).

    Park & Casella standardise X (columns centred, unit Euclidean norm as in Efron et al.'s LARS
    paper, i.e. scikit-learn's default diabetes scaling) and centre y; lambda is on the scale of the
    columns, so standardising is the user's business, as it is for the lasso. With
    ``fit_intercept`` X and y are centred here and the intercept (flat prior) is integrated out.

    Parameters
    ----------
    lam : float, default=None
        lambda. With ``lam_method="fixed"`` the value used (required unless ``prior`` is given);
        otherwise the starting value. ``None`` starts from Park & Casella's
        ``p sqrt(s^2_LS) / sum_j |beta_LS_j|`` when n > p, else 1.
    lam_method : {"fixed", "gamma", "em"}, default="gamma"
        ``"gamma"``: lambda^2 ~ Gamma(r, delta), sampled; ``"em"``: Monte Carlo EM (empirical Bayes);
        ``"fixed"``: lambda held at ``lam``.
    r, delta : float, default=1.0, 1.78
        Shape and rate of the Gamma hyperprior on lambda^2 (Park & Casella's values for diabetes).
    prior : Laplace, default=None
        Alternative to ``lam``: a :class:`~shrinkage.priors.Laplace` of scalar scale b, with
        ``noise`` given; then lambda = noise / b is fixed.
    noise : float, default=None
        Fix sigma (the noise standard deviation) instead of sampling sigma^2.
    n_draws : int, default=1000
        Draws kept per chain (after burn-in and thinning).
    burn_in : int, default=500
        Sweeps discarded at the start of each chain (after EM, if any).
    thin : int, default=1
        Keep one sweep in ``thin``.
    n_chains : int, default=4
        Chains, started from dispersed points (tau^2 drawn from its prior).
    em_iter : int, default=50
        Monte Carlo EM iterations; lambda_ is the mean of the last half of them.
    em_sweeps : int, default=100
        Gibbs sweeps per chain in each EM iteration (each iteration continues the chains).
    fit_intercept : bool, default=True
    random_state : int, RandomState or None, default=None
        Seeds one ``numpy.random.Generator`` driving all chains: a seeded fit is reproducible.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Posterior mean.
    coef_median_ : ndarray of shape (n_features,)
    intercept_ : float
        ``ybar - xbar' coef_`` (posterior mean of the intercept).
    coef_samples_ : ndarray of shape (n_chains, n_draws, n_features)
    sigma2_samples_ : ndarray of shape (n_chains, n_draws)
    lambda_samples_ : ndarray of shape (n_chains, n_draws), only with ``lam_method="gamma"``
    lambda_ : float
        The fixed lambda, the EM estimate, or the posterior median of lambda.
    lambda_path_ : ndarray, only with ``lam_method="em"``: lambda after each EM iteration.
    noise_ : float
        The fixed sigma, or the posterior median of sigma.
    prior_ : Laplace
        ``Laplace(scale=noise_ / lambda_)``: the coefficient prior at those values.
    alpha_ : float
        ``noise_^2 / (N b) = noise_ lambda_ / N``: the lasso strength of the posterior mode
        (N = sum of the sample weights).
    rhat_, ess_ : ndarray of shape (n_features,)
        Split R-hat and effective sample size of each coefficient.
    rhat_sigma2_, ess_sigma2_ : float
        The same for sigma^2 (NaN when sigma is fixed).
    """

    _parameter_constraints: dict = {
        "lam": [Interval(Real, 0, None, closed="neither"), None],
        "lam_method": [StrOptions({"fixed", "gamma", "em"})],
        "r": [Interval(Real, 0, None, closed="neither")],
        "delta": [Interval(Real, 0, None, closed="neither")],
        "prior": [Laplace, None],
        "noise": [Interval(Real, 0, None, closed="neither"), None],
        "n_draws": [Interval(Integral, 4, None, closed="left")],
        "burn_in": [Interval(Integral, 0, None, closed="left")],
        "thin": [Interval(Integral, 1, None, closed="left")],
        "n_chains": [Interval(Integral, 1, None, closed="left")],
        "em_iter": [Interval(Integral, 1, None, closed="left")],
        "em_sweeps": [Interval(Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, lam=None, lam_method="gamma", r=1.0, delta=1.78, prior=None, noise=None,
                 n_draws=1000, burn_in=500, thin=1, n_chains=4, em_iter=50, em_sweeps=100,
                 fit_intercept=True, random_state=None):
        self.lam = lam
        self.lam_method = lam_method
        self.r = r
        self.delta = delta
        self.prior = prior
        self.noise = noise
        self.n_draws = n_draws
        self.burn_in = burn_in
        self.thin = thin
        self.n_chains = n_chains
        self.em_iter = em_iter
        self.em_sweeps = em_sweeps
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    def _check_lambda(self):
        """(lambda_start or None, mode) from lam / lam_method / prior, with prior -> fixed."""
        if self.prior is not None:
            if self.noise is None:
                raise ValueError("prior=Laplace(b) needs noise (sigma): lambda = noise / b")
            if np.ndim(self.prior.scale) != 0 or not np.isfinite(self.prior.scale):
                raise ValueError("BayesianLasso needs a Laplace prior with one finite scale")
            return self.noise / float(self.prior.scale), "fixed"
        if self.lam_method == "fixed" and self.lam is None:
            raise ValueError('lam_method="fixed" needs lam (or prior=Laplace(b) and noise)')
        return self.lam, self.lam_method

    def fit(self, X, y, sample_weight=None):
        """Run the chains.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Densified if sparse.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative frequency weights: the likelihood is ``prod_i N(y_i | x_i'beta,
            sigma^2)^s_i``, so a row of weight 2 is that row twice and ``N = sum_i s_i`` is the
            number of observations (in the sigma^2 update and in ``alpha_``). Weighted means
            centre X and y; rows of weight 0 are dropped.

        Returns
        -------
        self
        """
        self._validate_params()
        lam0, mode = self._check_lambda()
        X, y, sw = validate_fit_input(self, X, y, sample_weight, multi_output=False)
        X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        n, p = X.shape
        n_obs = float(n) if sw is None else float(sw.sum())
        if self.fit_intercept:
            x_mean = X.mean(axis=0) if sw is None else np.average(X, axis=0, weights=sw)
            y_mean = float(y.mean() if sw is None else np.average(y, weights=sw))
        else:
            x_mean, y_mean = np.zeros(p), 0.0
        Xc, yc = X - x_mean, y - y_mean
        if sw is not None:
            # frequency weights: the data enter only through X'SX, X'Sy, y'Sy and N = sum s
            keep = sw > 0
            root = np.sqrt(sw[keep])
            Xc, yc = Xc[keep] * root[:, None], yc[keep] * root
        data = _Data(np.ascontiguousarray(Xc), np.ascontiguousarray(yc),
                     n_obs - int(self.fit_intercept))
        if lam0 is None:
            lam0 = _park_casella_start(data)
        rng = np.random.default_rng(_seed(self.random_state))
        state = _initial_state(data, self.n_chains, lam0, self.noise, rng)
        sample_sigma = self.noise is None

        if mode == "em":
            path = []
            lam = lam0
            for _ in range(self.em_iter):
                state.lam2[:] = lam**2
                beta, sigma2, _ = _run_chains(state, data, rng, self.em_sweeps,
                                              sample_sigma=sample_sigma)
                # Rao-Blackwell: E[tau^2 | beta, sigma, lambda] = |beta| / (lambda sigma) + 1/lambda^2,
                # averaged over the sweeps and chains
                sigma = np.sqrt(sigma2)[..., None]
                expected = np.mean(np.abs(beta) / (lam * sigma) + 1.0 / lam**2, axis=(0, 1))
                lam = float(np.sqrt(2.0 * p / expected.sum()))
                path.append(lam)
            self.lambda_path_ = np.array(path)
            lam_em = float(np.mean(self.lambda_path_[len(path) // 2:]))
            state.lam2[:] = lam_em**2

        sample_lambda = mode == "gamma"
        coefs, sigma2, lam2 = _run_chains(state, data, rng, self.n_draws, self.burn_in, self.thin,
                                          sample_sigma, sample_lambda, self.r, self.delta)
        lams = np.sqrt(lam2)

        self.coef_samples_ = coefs
        self.sigma2_samples_ = sigma2
        pooled = coefs.reshape(-1, p)
        self.coef_ = pooled.mean(axis=0)
        self.coef_median_ = np.median(pooled, axis=0)
        self.intercept_ = y_mean - float(x_mean @ self.coef_) if self.fit_intercept else 0.0
        if sample_lambda:
            self.lambda_samples_ = lams
            self.lambda_ = float(np.median(lams))
        else:
            self.lambda_ = float(lams[0, 0])
        self.noise_ = float(self.noise) if self.noise is not None else float(
            np.median(np.sqrt(sigma2)))
        self.prior_ = Laplace(scale=self.noise_ / self.lambda_)
        self.alpha_ = self.noise_**2 / (n_obs * self.prior_.scale)
        self.rhat_ = split_rhat(coefs)
        self.ess_ = effective_sample_size(coefs)
        if self.noise is None:
            self.rhat_sigma2_ = float(split_rhat(sigma2[..., None])[0])
            self.ess_sigma2_ = float(effective_sample_size(sigma2[..., None])[0])
        else:
            self.rhat_sigma2_ = self.ess_sigma2_ = float("nan")
        self.n_iter_ = self.burn_in + self.n_draws * self.thin
        return self

    def credible_interval(self, level=0.95):
        """Equal-tailed credible intervals, shape (n_features, 2): the ``(1 -+ level) / 2``
        quantiles of the pooled draws."""
        check_is_fitted(self)
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        pooled = self.coef_samples_.reshape(-1, self.coef_samples_.shape[-1])
        return np.quantile(pooled, [(1.0 - level) / 2.0, (1.0 + level) / 2.0], axis=0).T

    def sample_posterior(self, n_samples=1, random_state=None):
        """``n_samples`` coefficient vectors drawn uniformly from the pooled chains' draws,
        shape (n_samples, n_features)."""
        check_is_fitted(self)
        pooled = self.coef_samples_.reshape(-1, self.coef_samples_.shape[-1])
        idx = np.random.default_rng(_seed(random_state)).integers(0, pooled.shape[0], n_samples)
        return pooled[idx].copy()

    def mode_estimator(self):
        """The unfitted MAP estimator of the same model at ``noise_`` and ``lambda_``:
        ``MAPRegressor(prior=prior_, noise=noise_)``, which is ``Lasso(alpha_)``."""
        from ..linear_model import MAPRegressor

        check_is_fitted(self)
        return MAPRegressor(prior=self.prior_, noise=self.noise_,
                            fit_intercept=self.fit_intercept, tol=1e-10, max_iter=100_000)

    def predict(self, X):
        """Posterior-mean prediction ``X coef_ + intercept_``."""
        check_is_fitted(self)
        check_numeric_columns(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"],
                          dtype=[np.float64, np.float32], reset=False)
        X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        return X @ self.coef_ + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = self.random_state is None
        return tags


def _seed(random_state):
    """A Generator seed from an int, a RandomState or None."""
    if isinstance(random_state, np.random.RandomState):
        return random_state.randint(np.iinfo(np.int32).max)
    return random_state


class _Data:
    """The centred problem and what each sweep reuses: X'y, X'X when n >= p (else X' contiguous
    for the p > n draw), ||y||^2."""

    def __init__(self, X, y, n_dof):
        self.X, self.y, self.n_dof = X, y, n_dof
        self.Xty = X.T @ y
        self.yy = float(y @ y)
        self.gram = X.T @ X if X.shape[0] >= X.shape[1] else None
        self.XT = np.ascontiguousarray(X.T) if self.gram is None else None


class _State:
    def __init__(self, beta, sigma2, inv_tau2, lam2):
        self.beta, self.sigma2, self.inv_tau2, self.lam2 = beta, sigma2, inv_tau2, lam2


def _park_casella_start(data):
    """``p sqrt(s^2) / sum |beta_LS|`` (Park & Casella sec. 3.1) when least squares is defined
    (full column rank, residual degrees of freedom left), else 1."""
    n, p = data.X.shape
    if n <= p + 1 or data.n_dof <= p:
        return 1.0
    beta, _, rank, _ = np.linalg.lstsq(data.X, data.y, rcond=None)
    if rank < p:  # e.g. repeated rows: s^2 = 0 would start lambda at 0 and tau^2 at infinity
        return 1.0
    resid = data.y - data.X @ beta
    s2 = resid @ resid / max(data.n_dof - p, 1)
    total = np.abs(beta).sum()
    return float(p * np.sqrt(s2) / total) if total > 0 and s2 > 0 else 1.0


def _initial_state(data, n_chains, lam, noise, rng):
    """Dispersed starts: tau^2 from its prior Exp(lambda^2 / 2), sigma^2 = Var(y) (or fixed)."""
    p = data.X.shape[1]
    sigma2 = np.full(n_chains, data.yy / max(data.n_dof, 1) if noise is None else noise**2)
    sigma2 = np.maximum(sigma2, 1e-12)
    tau2 = rng.exponential(2.0 / lam**2, size=(n_chains, p))
    return _State(np.zeros((n_chains, p)), sigma2, 1.0 / tau2, np.full(n_chains, lam**2))


_BLOCK = 256  # sweeps per kernel call: bounds the memory of the pre-drawn random numbers


def _run_chains(state, data, rng, n_keep, burn_in=0, thin=1, sample_sigma=True,
                sample_lambda=False, r=1.0, delta=1.0):
    """Continue every chain for ``burn_in + n_keep thin`` Gibbs sweeps (:mod:`shrinkage._kernels.gibbs`)
    and return the kept ``beta (n_chains, n_keep, p)``, ``sigma^2`` and ``lambda^2`` draws.

    The random numbers are drawn here, block by block, from the one seeded generator: per chain
    and sweep p + p standard normals (beta, inverse Gaussian; plus n for the p > n draw), p
    uniforms and two unit-rate gammas of the fixed shapes (n' + p) / 2 and p + r."""
    n_chains, p = state.beta.shape
    n = data.X.shape[0]
    total = burn_in + n_keep * thin
    keep_beta = np.empty((n_chains, n_keep, p))
    keep_sigma2 = np.empty((n_chains, n_keep))
    keep_lam2 = np.empty((n_chains, n_keep))
    done = 0
    while done < total:
        size = min(_BLOCK, total - done)
        z_beta = rng.standard_normal((n_chains, size, p))
        z_v = rng.standard_normal((n_chains, size, n)) if data.gram is None else None
        z_ig = rng.standard_normal((n_chains, size, p))
        u_ig = rng.random((n_chains, size, p))
        g_sigma = rng.standard_gamma(0.5 * (data.n_dof + p), (n_chains, size))
        g_lam = rng.standard_gamma(p + r, (n_chains, size))
        out_beta = np.empty((n_chains, size, p))
        out_sigma2 = np.empty((n_chains, size))
        out_lam2 = np.empty((n_chains, size))
        states = (state.beta, state.sigma2, state.inv_tau2, state.lam2, sample_sigma,
                  sample_lambda, float(delta))
        draws = (z_ig, u_ig, g_sigma, g_lam, out_beta, out_sigma2, out_lam2)
        if data.gram is not None:
            gibbs_gram(data.gram, data.Xty, data.yy, float(data.n_dof), *states, z_beta, *draws)
        else:
            gibbs_bcm(data.X, data.XT, data.y, float(data.n_dof), *states, z_beta, z_v, *draws)
        # sweep t (0-based, counted from the start) is kept when t >= burn_in and
        # (t - burn_in + 1) is a multiple of thin
        t = np.arange(done, done + size) - burn_in
        kept = np.flatnonzero((t >= 0) & ((t + 1) % thin == 0))
        index = (t[kept] + 1) // thin - 1
        keep_beta[:, index] = out_beta[:, kept]
        keep_sigma2[:, index] = out_sigma2[:, kept]
        keep_lam2[:, index] = out_lam2[:, kept]
        done += size
    return keep_beta, keep_sigma2, keep_lam2
