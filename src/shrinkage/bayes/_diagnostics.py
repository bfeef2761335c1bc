"""MCMC diagnostics: split R-hat and effective sample size (Gelman et al., BDA3, ch. 11; Stan).

Both take draws shaped ``(n_chains, n_draws, ...)`` and return one number per trailing index.
"""

import numpy as np


def _split(draws):
    """Cut every chain in two halves (dropping the middle draw of an odd-length chain)."""
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim < 2:
        raise ValueError("draws must have shape (n_chains, n_draws, ...)")
    half = draws.shape[1] // 2
    if half < 2:
        raise ValueError("split R-hat needs at least 4 draws per chain")
    return np.concatenate([draws[:, :half], draws[:, -half:]], axis=0)


def split_rhat(draws):
    """Split R-hat: ``sqrt(var_plus / W)`` over the 2m half-chains (BDA3 eq. 11.4).

    ``W`` is the mean within-half-chain variance, ``B / n`` the variance of the half-chain means,
    ``var_plus = (n - 1) / n W + B / n``. Values near 1 (below ~1.01) indicate mixing.
    """
    chains = _split(draws)
    n = chains.shape[1]
    within = chains.var(axis=1, ddof=1).mean(axis=0)
    between_over_n = chains.mean(axis=1).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between_over_n
    with np.errstate(divide="ignore", invalid="ignore"):
        rhat = np.sqrt(var_plus / within)
    return np.where(within > 0, rhat, np.nan)


def _autocovariance(x):
    """Autocovariance of each chain along axis 1 by FFT (biased estimator, as Stan)."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n] / n


def effective_sample_size(draws):
    """Effective sample size over all chains, Stan's estimator on split chains.

    ``rho_t = 1 - (W - mean_chain_autocov_t) / var_plus``; the sum of autocorrelations is
    truncated by Geyer's initial positive sequence (pairs ``rho_2k + rho_2k+1`` while positive),
    made monotone; ``ESS = m n / (-1 + 2 sum_k P_k)``.
    """
    chains = _split(draws)
    m, n = chains.shape[:2]
    flat = chains.reshape(m, n, -1)
    out = np.empty(flat.shape[2])
    for k in range(flat.shape[2]):  # per parameter: an FFT over all chains at once
        acov = _autocovariance(flat[:, :, k])
        within = acov[:, 0].mean() * n / (n - 1)
        var_plus = within * (n - 1) / n + flat[:, :, k].mean(axis=1).var(ddof=1)
        if not var_plus > 0:
            out[k] = np.nan
            continue
        rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
        rho[0] = 1.0
        pairs = rho[:-1:2] + rho[1::2]            # Geyer: P_k = rho_2k + rho_2k+1
        positive = np.flatnonzero(pairs <= 0)
        pairs = pairs[: positive[0]] if positive.size else pairs
        pairs = np.minimum.accumulate(pairs)      # initial monotone sequence
        tau = -1.0 + 2.0 * pairs.sum()
        out[k] = m * n / max(tau, 1.0 / np.log10(m * n))  # Stan's cap against antithetic chains
    return out.reshape(chains.shape[2:])
