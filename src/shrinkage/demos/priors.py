"""``shrinkage demo priors``: Laplace against Gaussian of equal variance, penalties as -log priors.

A Laplace prior of scale ``b`` and a Gaussian of standard deviation ``tau`` have equal variance when
``2 b² = tau²``. The Laplace puts more mass near zero *and* in the tails: that peak at zero is the
lasso's exact zeros. Each prior converts to its penalty (``Prior.penalty(noise, n)``: ``L1(σ²/(n b))``
and ``L2(σ²/(n τ²))``) and back (``Penalty.prior(noise, n)``); ``(n/σ²)·alpha·P(w)`` equals
``-log p(w) + log p(0)`` point by point, which the figure draws and the numbers check.
"""

import numpy as np
from scipy import integrate

from ..priors import Gaussian, Laplace

TITLE = "Laplace vs Gaussian priors of equal variance; each penalty is a negative log-prior"
VARIANCE = 1.0
NOISE = 1.0       # sigma, the noise standard deviation of the likelihood
N_SAMPLES = 100   # n, the number of observations in the likelihood
POINTS = (0.5, 1.0, 2.0)


def _mass(prior, lo, hi):
    """``P(lo <= w <= hi)`` by integrating ``exp(prior.logpdf)`` numerically."""
    value, _ = integrate.quad(lambda w: float(np.exp(prior.logpdf(w))), lo, hi, points=[0.0]
                              if lo < 0.0 < hi else None, limit=200)
    return value


def compute(variance=VARIANCE, noise=NOISE, n_samples=N_SAMPLES):
    laplace = Laplace(scale=np.sqrt(variance / 2.0))
    gaussian = Gaussian(scale=np.sqrt(variance))
    result = {"variance": variance, "noise": noise, "n_samples": n_samples, "priors": {}}
    for name, prior in (("laplace", laplace), ("gaussian", gaussian)):
        penalty = prior.penalty(noise, n_samples)
        back = penalty.prior(noise, n_samples)
        sd = np.sqrt(float(prior.variance))
        entry = {
            "repr": repr(prior), "scale": float(prior.scale),
            "variance": float(prior.variance),
            "variance_by_integration": integrate.quad(
                lambda w, p=prior: w * w * float(np.exp(p.logpdf(w))), -np.inf, np.inf)[0],
            "density_at_0": float(np.exp(prior.logpdf(0.0))),
            "mass_within_0.1": _mass(prior, -0.1, 0.1),
            "mass_beyond_3sd": 1.0 - _mass(prior, -3.0 * sd, 3.0 * sd),
            "penalty": repr(penalty), "penalty_alpha": penalty.alpha,
            "prior_back": repr(back), "prior_back_scale": float(back.scale),
            "neg_log_prior": {}, "scaled_penalty": {},
        }
        for w in POINTS:
            entry["neg_log_prior"][str(w)] = float(prior.logpdf(0.0) - prior.logpdf(w))
            entry["scaled_penalty"][str(w)] = n_samples / noise**2 * penalty.value(np.array([w]))
        result["priors"][name] = entry
    return result


def figures(result):
    from ..plot import plot_priors

    priors = [Laplace(result["priors"]["laplace"]["scale"]),
              Gaussian(result["priors"]["gaussian"]["scale"])]
    penalties = [p.penalty(result["noise"], result["n_samples"]) for p in priors]
    figure = plot_priors(priors, labels=[f"Laplace(b={priors[0].scale:.4g})",
                                                 f"Gaussian(τ={priors[1].scale:.4g})"],
                          penalties=penalties,
                         noise=result["noise"], n_samples=result["n_samples"])
    return {"priors.png": figure}


def summary(result):
    n, sigma = result["n_samples"], result["noise"]
    lines = [result["title"], f"variance {result['variance']:g}; likelihood: n = {n}, σ = {sigma:g}",
             ""]
    header = f"{'':30}{'Laplace':>20}{'Gaussian':>20}"
    lap, gau = result["priors"]["laplace"], result["priors"]["gaussian"]
    rows = [("prior", f"Laplace(b={lap['scale']:.4g})", f"Gaussian(τ={gau['scale']:.4g})"),
            ("variance (formula)", f"{lap['variance']:.6g}", f"{gau['variance']:.6g}"),
            ("variance (∫ w² p(w) dw)", f"{lap['variance_by_integration']:.6g}",
             f"{gau['variance_by_integration']:.6g}"),
            ("density at 0", f"{lap['density_at_0']:.4f}", f"{gau['density_at_0']:.4f}"),
            ("P(|w| < 0.1)", f"{lap['mass_within_0.1']:.4f}", f"{gau['mass_within_0.1']:.4f}"),
            ("P(|w| > 3 sd)", f"{lap['mass_beyond_3sd']:.4f}", f"{gau['mass_beyond_3sd']:.4f}"),
            ("penalty = prior.penalty(σ, n)", f"L1(α={lap['penalty_alpha']:.6g})",
             f"L2(α={gau['penalty_alpha']:.6g})"),
            ("penalty.prior(σ, n)", f"Laplace(b={lap['prior_back_scale']:.6g})",
             f"Gaussian(τ={gau['prior_back_scale']:.6g})")]
    for w in lap["neg_log_prior"]:
        rows.append((f"−log p({w}) + log p(0)", f"{lap['neg_log_prior'][w]:.6f}",
                     f"{gau['neg_log_prior'][w]:.6f}"))
        rows.append((f"(n/σ²)·penalty({w})", f"{lap['scaled_penalty'][w]:.6f}",
                     f"{gau['scaled_penalty'][w]:.6f}"))
    lines.append(header)
    lines += [f"{a:30}{b:>20}{c:>20}" for a, b, c in rows]
    return "\n".join(lines)
