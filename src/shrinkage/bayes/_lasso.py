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

Gibbs sweep (all chains at once, vectorised over chains and coefficients):

1. ``beta | . ~ N(A^-1 X'y, sigma^2 A^-1)``, ``A = X'X + D_tau^-1``: one Cholesky ``A = L L'``,
   ``beta = L'^-1 (L^-1 X'y + sigma z)`` (X'X precomputed). When p > n, Bhattacharya, Chakraborty
   & Mallick (2016): ``u ~ N(0, sigma^2 D)``, ``v = X u / sigma + delta``, solve
   ``(X D X' + I_n) w = y / sigma - v``, ``beta = u + sigma D X' w``: O(n^2 p) per draw.
2. ``sigma^2 | . ~ InvGamma((n' + p) / 2, ||y - X beta||^2 / 2 + beta' D^-1 beta / 2)``,
   n' = n - 1 with an intercept.
3. ``1 / tau_j^2 | . ~ InvGaussian(mean sqrt(lambda^2 sigma^2 / beta_j^2), shape lambda^2)``.
4. ``lambda^2 | . ~ Gamma(p + r, rate sum_j tau_j^2 / 2 + delta)`` (only under the hyperprior).

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

from ..linear_model._base import check_numeric_columns, validate_fit_input
from ..priors import Laplace
from ._diagnostics import effective_sample_size, split_rhat

_TINY = 1e-150  # |beta_j| floor: an exact zero would give an infinite inverse-Gaussian mean


class BayesianLasso(RegressorMixin, BaseEstimator):
    """Bayesian lasso regression (Park & Casella 2008), sampled by a blocked Gibbs sampler.

    The prior is :class:`shrinkage.priors.Laplace` with scale ``sigma / lambda`` on each
    coefficient given sigma (a scale mixture of Gaussians, see the module docstring). The posterior
    mean and median are not sparse; the posterior *mode* at fixed sigma is the lasso at
    ``alpha = sigma lambda / n`` (``MAPRegressor(prior_, noise=noise_)``).

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
        ``noise_^2 / (n b) = noise_ lambda_ / n``: the lasso strength of the posterior mode.
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

    def fit(self, X, y):
        """Run the chains.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Densified if sparse.
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        self._validate_params()
        lam0, mode = self._check_lambda()
        X, y, _ = validate_fit_input(self, X, y, None, multi_output=False)
        X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        n, p = X.shape
        if self.fit_intercept:
            x_mean, y_mean = X.mean(axis=0), float(y.mean())
        else:
            x_mean, y_mean = np.zeros(p), 0.0
        data = _Data(X - x_mean, y - y_mean, n - int(self.fit_intercept))
        if lam0 is None:
            lam0 = _park_casella_start(data)
        rng = np.random.default_rng(_seed(self.random_state))
        state = _initial_state(data, self.n_chains, lam0, self.noise, rng)
        fixed_sigma2 = None if self.noise is None else float(self.noise) ** 2

        if mode == "em":
            path = []
            lam = lam0
            for _ in range(self.em_iter):
                state.lam2[:] = lam**2
                expected = np.zeros(p)
                for _ in range(self.em_sweeps):
                    _sweep(state, data, rng, fixed_sigma2, sample_lambda=False)
                    # Rao-Blackwell: E[tau^2 | beta, sigma, lambda] = |beta| / (lambda sigma) + 1/lambda^2
                    sigma = np.sqrt(state.sigma2)[:, None]
                    expected += np.mean(np.abs(state.beta) / (lam * sigma) + 1.0 / lam**2, axis=0)
                expected /= self.em_sweeps
                lam = float(np.sqrt(2.0 * p / expected.sum()))
                path.append(lam)
            self.lambda_path_ = np.array(path)
            lam_em = float(np.mean(self.lambda_path_[len(path) // 2:]))
            state.lam2[:] = lam_em**2

        sample_lambda = mode == "gamma"
        for _ in range(self.burn_in):
            _sweep(state, data, rng, fixed_sigma2, sample_lambda, self.r, self.delta)
        coefs = np.empty((self.n_chains, self.n_draws, p))
        sigma2 = np.empty((self.n_chains, self.n_draws))
        lams = np.empty((self.n_chains, self.n_draws))
        for k in range(self.n_draws):
            for _ in range(self.thin):
                _sweep(state, data, rng, fixed_sigma2, sample_lambda, self.r, self.delta)
            coefs[:, k], sigma2[:, k], lams[:, k] = state.beta, state.sigma2, np.sqrt(state.lam2)

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
        self.alpha_ = self.noise_**2 / (n * self.prior_.scale)
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
    """The centred problem and what each sweep reuses: X'y, X'X when n >= p, ||y||^2."""

    def __init__(self, X, y, n_dof):
        self.X, self.y, self.n_dof = X, y, n_dof
        self.Xty = X.T @ y
        self.yy = float(y @ y)
        self.gram = X.T @ X if X.shape[0] >= X.shape[1] else None


class _State:
    def __init__(self, beta, sigma2, inv_tau2, lam2):
        self.beta, self.sigma2, self.inv_tau2, self.lam2 = beta, sigma2, inv_tau2, lam2


def _park_casella_start(data):
    """``p sqrt(s^2) / sum |beta_LS|`` (Park & Casella sec. 3.1) when n > p, else 1."""
    n, p = data.X.shape
    if n <= p + 1:
        return 1.0
    beta, *_ = np.linalg.lstsq(data.X, data.y, rcond=None)
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


def _sweep(state, data, rng, fixed_sigma2, sample_lambda, r=1.0, delta=1.0):
    """One Gibbs sweep of every chain (updates ``state`` in place)."""
    n_chains = state.beta.shape[0]
    p = data.X.shape[1]
    sigma = np.sqrt(state.sigma2)
    # 1. beta | sigma^2, tau^2 ~ N(A^-1 X'y, sigma^2 A^-1), A = X'X + D^-1
    if data.gram is not None:
        A = np.broadcast_to(data.gram, (n_chains, p, p)).copy()
        diag = np.arange(p)
        A[:, diag, diag] += state.inv_tau2
        L = np.linalg.cholesky(A)
        rhs = np.linalg.solve(L, np.broadcast_to(data.Xty, (n_chains, p))[..., None])[..., 0]
        rhs += sigma[:, None] * rng.standard_normal((n_chains, p))
        # beta = L'^-1 (L^-1 X'y + sigma z): mean A^-1 X'y, covariance sigma^2 A^-1
        beta = np.linalg.solve(np.swapaxes(L, 1, 2), rhs[..., None])[..., 0]
    else:
        beta = _bhattacharya(data, sigma, 1.0 / state.inv_tau2, rng)
    state.beta = beta
    # 2. sigma^2 | beta, tau^2 ~ InvGamma((n' + p)/2, ||y - X beta||^2/2 + beta'D^-1 beta/2)
    if fixed_sigma2 is None:
        if data.gram is not None:  # ||y - X beta||^2 = y'y - 2 beta'X'y + beta'X'X beta
            rss = data.yy - 2.0 * beta @ data.Xty + np.einsum("ci,ij,cj->c", beta, data.gram, beta)
        else:
            resid = data.y[None, :] - beta @ data.X.T
            rss = np.einsum("ci,ci->c", resid, resid)
        rss = np.maximum(rss, 0.0)
        scale = 0.5 * (rss + np.einsum("ci,ci->c", beta * beta, state.inv_tau2))
        # floored: an exact fit (y in the span of X) drives sigma^2 towards 0
        state.sigma2 = np.maximum(scale / rng.gamma(0.5 * (data.n_dof + p), size=n_chains),
                                  _TINY)
    # 3. 1/tau_j^2 | beta, sigma^2, lambda ~ InvGaussian(sqrt(lambda^2 sigma^2 / beta_j^2), lambda^2)
    lam2 = state.lam2[:, None]
    mean = np.sqrt(lam2 * state.sigma2[:, None]) / np.maximum(np.abs(beta), _TINY)
    mean = np.clip(mean, _TINY, 1.0 / _TINY)  # keep the draws finite and positive
    state.inv_tau2 = rng.wald(mean, np.broadcast_to(lam2, mean.shape))
    # 4. lambda^2 | tau^2 ~ Gamma(p + r, rate sum_j tau_j^2 / 2 + delta)
    if sample_lambda:
        rate = 0.5 * np.sum(1.0 / state.inv_tau2, axis=1) + delta
        state.lam2 = np.maximum(rng.gamma(p + r, 1.0 / rate), _TINY)


def _bhattacharya(data, sigma, tau2, rng):
    """Draw N(A^-1 X'y, sigma^2 A^-1), A = X'X + D^-1, in O(n^2 p) (Bhattacharya et al. 2016).

    With Phi = X / sigma, alpha = y / sigma and Dt = sigma^2 D the target is
    N(S Phi' alpha, S), S = (Phi'Phi + Dt^-1)^-1: u ~ N(0, Dt), v = Phi u + delta,
    (Phi Dt Phi' + I) w = alpha - v, draw = u + Dt Phi' w.
    """
    X, y = data.X, data.y
    n_chains, p = tau2.shape
    n = X.shape[0]
    s = sigma[:, None]
    u = s * np.sqrt(tau2) * rng.standard_normal((n_chains, p))
    v = (u @ X.T) / s + rng.standard_normal((n_chains, n))
    M = (X[None, :, :] * tau2[:, None, :]) @ X.T  # X D X', one per chain
    M[:, np.arange(n), np.arange(n)] += 1.0
    w = np.linalg.solve(M, (y[None, :] / s - v)[..., None])[..., 0]
    return u + s * tau2 * (w @ X)
