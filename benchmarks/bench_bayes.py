"""Bayesian lasso: shrinkage's Gibbs sampler against PyMC's NUTS, same model, same data.

Usage::

    python benchmarks/bench_bayes.py              # 3 repeats per problem, cold starts, agreement
    python benchmarks/bench_bayes.py --quick      # 1 repeat, no cold-start subprocesses
    python benchmarks/bench_bayes.py --agreement-seeds 20   # the PyMC test's problem, 20 seed pairs

The model (lambda fixed), for both samplers::

    y_i | b0, beta, sigma^2 ~ N(b0 + x_i'beta, sigma^2)
    beta_j | sigma          ~ Laplace(0, sigma / lambda)   (Park & Casella: tau_j^2 integrated out)
    p(sigma^2) ∝ 1 / sigma^2,  p(b0) ∝ 1

shrinkage samples Park & Casella's hierarchy by Gibbs (``BayesianLasso(lam_method="fixed")``,
the intercept integrated out by centring); PyMC samples the marginal form above by NUTS (a flat
prior on ``log sigma^2``, a flat intercept). Problems:

- ``diabetes``: scikit-learn's diabetes data as Park & Casella used them (columns centred with
  unit Euclidean norm, scikit-learn's default scaling; y centred), 442 x 10, lambda = 0.237 (their
  Monte Carlo EM value, which ``tests/test_bayes.py`` reproduces).
- ``synthetic``: 200 x 50, AR(1) feature correlation 0.5, 10 nonzero coefficients of size 0.5-2,
  noise sd 1, columns scaled to sd 1, lambda = 3 (about the Monte Carlo EM value on these data).

Runs: 4 chains, 1000 kept draws each, for both. shrinkage: 500 burn-in sweeps (its default);
PyMC: 1000 tuning steps (its default), ``cores=1`` so chains run one after the other. Everything
single-threaded (OMP/MKL/OpenBLAS/numba threads = 1, set before numpy is imported).

Timing. shrinkage: wall time of ``fit`` (validation, all sweeps, the ESS/R-hat summaries included)
after a warm-up fit (numba cache load). PyMC: its own ``sampling_time`` (tuning + draws loop only;
the model compilation, done once in ``pm.NUTS()`` beforehand, and the InferenceData conversion are
excluded): generous to PyMC. Medians over the repeats (each with its own seed), the samplers
interleaved. One-time costs are reported separately: shrinkage's numba compilation (fresh cache
directory, subprocess) and PyMC's model compilation (``pm.NUTS()``; in a subprocess with a fresh
PyTensor compile directory for the cold figure).

Effective samples: ESS of each coefficient by arviz's bulk ESS (rank-normalised) *and* by
shrinkage's :func:`~shrinkage.bayes.effective_sample_size` (Stan's estimator), the same estimator
applied to both samplers' draws; ESS/s = ESS / time, min and median over coefficients. A third
PyMC figure, "NUTS gradient bound", divides by (number of gradient evaluations x the time of one
compiled gradient): the speed a zero-overhead NUTS driver would reach with PyMC's compiled
log-density, an upper bound for PyMC-style samplers such as nutpie.

Agreement: every run also checks ``|m_shrinkage - m_pymc| <= 3 sqrt(se_s^2 + se_p^2)`` for the
posterior mean of each coefficient and of sigma^2 (se from each sampler's own ESS: shrinkage's
``ess_``, arviz's ``mcse``), and reports the largest standardised difference.

Results are printed and written to ``benchmarks/results/bayes.{json,md}`` (git-ignored).
"""

# Single-threaded: these must be set before numpy (and its BLAS) or numba is imported.
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

# PyTensor (PyMC's backend) compiles C against a BLAS; pip installs leave it without one (numpy's
# bundled OpenBLAS has renamed symbols) and its gradients are then ~7x slower. Be fair to PyMC:
# link the system BLAS when there is one and the user has not configured PyTensor.
import ctypes.util  # noqa: E402

if "blas__ldflags" not in os.environ.get("PYTENSOR_FLAGS", "") and ctypes.util.find_library("blas"):
    os.environ["PYTENSOR_FLAGS"] = ",".join(
        filter(None, [os.environ.get("PYTENSOR_FLAGS", ""), "blas__ldflags=-lblas"]))

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
N_CHAINS, N_DRAWS, BURN_IN, TUNE = 4, 1000, 500, 1000


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------

def make_diabetes():
    """Park & Casella's diabetes set-up: scikit-learn's scaling (centred, unit-norm columns),
    y centred; lambda = 0.237."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return X, y - y.mean(), 0.237


def make_synthetic(n=200, p=50, n_nonzero=10, rho=0.5, seed=0):
    """AR(1)-correlated Gaussian design scaled to sd 1, 10 nonzeros in +-[0.5, 2], noise sd 1."""
    rng = np.random.default_rng(seed)
    corr = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(corr).T
    w = np.zeros(p)
    support = rng.choice(p, n_nonzero, replace=False)
    w[support] = rng.choice([-1.0, 1.0], n_nonzero) * rng.uniform(0.5, 2.0, n_nonzero)
    y = X @ w + rng.standard_normal(n)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, y - y.mean(), 3.0


def make_agreement_problem():
    """The problem of tests/test_bayes_pymc.py (40 x 5, lambda = 2)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_bayes_pymc

    X, y = test_bayes_pymc._problem()
    return X, y, test_bayes_pymc.LAM


PROBLEMS = {"diabetes": make_diabetes, "synthetic": make_synthetic}


# --------------------------------------------------------------------------------------------
# Samplers
# --------------------------------------------------------------------------------------------

def run_shrinkage(X, y, lam, seed, n_draws=N_DRAWS, burn_in=BURN_IN):
    from shrinkage.bayes import BayesianLasso

    est = BayesianLasso(lam=lam, lam_method="fixed", n_chains=N_CHAINS, n_draws=n_draws,
                        burn_in=burn_in, random_state=seed)
    start = time.perf_counter()
    est.fit(X, y)
    return est, time.perf_counter() - start


def build_pymc(X, y, lam):
    """The marginal model in PyMC and a compiled NUTS step (timed: the compile cost)."""
    import pymc as pm
    import pytensor.tensor as pt

    with pm.Model() as model:
        log_sigma2 = pm.Flat("log_sigma2")
        sigma = pt.exp(0.5 * log_sigma2)
        beta = pm.Laplace("beta", mu=0.0, b=sigma / lam, shape=X.shape[1])
        intercept = pm.Flat("intercept")
        pm.Normal("y", mu=intercept + pt.dot(X, beta), sigma=sigma, observed=y)
        pm.Deterministic("sigma2", pt.exp(log_sigma2))
        start = time.perf_counter()
        step = pm.NUTS()
        compile_s = time.perf_counter() - start
    return model, step, compile_s


def run_pymc(model, step, seed, draws=N_DRAWS, tune=TUNE, chains=N_CHAINS):
    import pymc as pm

    with model:
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=1, step=step,
                          random_seed=seed, progressbar=False, compute_convergence_checks=False,
                          discard_tuned_samples=False)
    return idata, float(idata.posterior.attrs["sampling_time"])


def gradient_seconds(model, repeats=2000):
    """Time of one compiled log-density gradient at the initial point (median of 5 batches)."""
    dlogp = model.compile_dlogp()
    point = model.initial_point()
    dlogp(point)
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats // 5):
            dlogp(point)
        batches.append((time.perf_counter() - start) / (repeats // 5))
    return statistics.median(batches)


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------

def ess_both(draws):
    """(arviz bulk ESS, shrinkage ESS) per coefficient of draws (chains, draws, p)."""
    import arviz as az

    from shrinkage.bayes import effective_sample_size

    bulk = az.ess(az.convert_to_dataset({"beta": draws}), method="bulk")["beta"].values
    return np.asarray(bulk), effective_sample_size(draws)


def standardised_differences(fit, idata):
    """|m1 - m2| / sqrt(se1^2 + se2^2) for beta_1..p and sigma^2 (each sampler's own MCSE)."""
    import arviz as az

    pooled = fit.coef_samples_.reshape(-1, fit.coef_samples_.shape[-1])
    se_ours = np.append(pooled.std(axis=0) / np.sqrt(fit.ess_),
                        fit.sigma2_samples_.std() / np.sqrt(fit.ess_sigma2_))
    ours = np.append(fit.coef_, fit.sigma2_samples_.mean())
    post = idata.posterior
    theirs = np.append(post["beta"].mean(("chain", "draw")).values, post["sigma2"].mean().item())
    mcse = az.mcse(idata, var_names=["beta", "sigma2"], method="mean")
    se_theirs = np.append(mcse["beta"].values, mcse["sigma2"].item())
    return np.abs(ours - theirs) / np.hypot(se_ours, se_theirs)


def rates(ess, seconds):
    return {"min": float(np.min(ess) / seconds), "median": float(np.median(ess) / seconds)}


# --------------------------------------------------------------------------------------------
# One-time costs (fresh processes)
# --------------------------------------------------------------------------------------------

_COLD_SHRINKAGE = """
import os, time, numpy as np
t0 = time.perf_counter()
from shrinkage.bayes import BayesianLasso
t1 = time.perf_counter()
rng = np.random.default_rng(0)
X = rng.standard_normal((30, 4)); y = X[:, 0] + rng.standard_normal(30)
BayesianLasso(lam=1.0, lam_method="fixed", n_draws=10, burn_in=0, random_state=0).fit(X, y)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""

_COLD_PYMC = """
import os, sys, time, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, {bench!r})
import logging; logging.getLogger("pymc").setLevel(logging.ERROR)
t0 = time.perf_counter()
import pymc
t1 = time.perf_counter()
import bench_bayes
X, y, lam = bench_bayes.make_diabetes()
_, _, compile_s = bench_bayes.build_pymc(X, y, lam)
print(t1 - t0, compile_s)
"""


def cold_costs():
    out = {}
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        res = subprocess.run([sys.executable, "-c", _COLD_SHRINKAGE], env=env, check=True,
                             capture_output=True, text=True)
        imp, first = map(float, res.stdout.split())
        out["shrinkage_import_s"], out["shrinkage_compile_first_fit_s"] = imp, first
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as compiledir:
        flags = env.get("PYTENSOR_FLAGS", "")
        env["PYTENSOR_FLAGS"] = ",".join(filter(None, [flags, f"compiledir={compiledir}"]))
        code = _COLD_PYMC.format(bench=str(ROOT / "benchmarks"))
        res = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                             capture_output=True, text=True)
        imp, comp = map(float, res.stdout.split()[-2:])
        out["pymc_import_s"], out["pymc_compile_cold_s"] = imp, comp
    return out


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def bench_problem(name, repeats):
    X, y, lam = PROBLEMS[name]()
    run_shrinkage(X[:50], y[:50], lam, seed=0, n_draws=10, burn_in=0)  # warm-up: numba cache
    model, step, compile_s = build_pymc(X, y, lam)
    grad_s = gradient_seconds(model)
    rows = []
    for rep in range(repeats):
        fit, t_ours = run_shrinkage(X, y, lam, seed=rep)
        idata, t_pymc = run_pymc(model, step, seed=1000 + rep)
        draws_pymc = idata.posterior["beta"].values
        bulk_ours, stan_ours = ess_both(fit.coef_samples_)
        bulk_pymc, stan_pymc = ess_both(draws_pymc)
        grad_evals = int(idata.sample_stats["n_steps"].sum()
                         + idata.warmup_sample_stats["n_steps"].sum())  # tuning + draws
        t_bound = grad_evals * grad_s
        z = standardised_differences(fit, idata)
        rows.append({
            "seconds_shrinkage": t_ours, "seconds_pymc": t_pymc,
            "ess_bulk_shrinkage": rates(bulk_ours, t_ours), "ess_bulk_pymc": rates(bulk_pymc, t_pymc),
            "ess_stan_shrinkage": rates(stan_ours, t_ours), "ess_stan_pymc": rates(stan_pymc, t_pymc),
            "ess_bulk_pymc_gradient_bound": rates(bulk_pymc, t_bound),
            "ess_bulk_min": [float(bulk_ours.min()), float(bulk_pymc.min())],
            "ess_bulk_median": [float(np.median(bulk_ours)), float(np.median(bulk_pymc))],
            "mean_tree_depth": float(idata.sample_stats["tree_depth"].mean()),
            "gradient_evals": grad_evals,
            "max_rhat": [float(np.max(fit.rhat_)),
                         float(__import__("arviz").rhat(idata, var_names=["beta"])["beta"].max())],
            "max_z": float(z.max()), "z": z.round(3).tolist(),
        })
        print(f"  {name} repeat {rep}: shrinkage {t_ours:.3f} s, PyMC {t_pymc:.1f} s, "
              f"min bulk ESS/s {rows[-1]['ess_bulk_shrinkage']['min']:.0f} vs "
              f"{rows[-1]['ess_bulk_pymc']['min']:.1f}, max z {z.max():.2f}", flush=True)

    def med(path):
        values = []
        for row in rows:
            value = row
            for key in path:
                value = value[key]
            values.append(value)
        return float(statistics.median(values))

    summary = {"n": X.shape[0], "p": X.shape[1], "lambda": lam, "pymc_compile_warm_s": compile_s,
               "pymc_gradient_us": grad_s * 1e6, "repeats": rows}
    for est in ("ess_bulk", "ess_stan"):
        for which in ("min", "median"):
            ours, theirs = med((f"{est}_shrinkage", which)), med((f"{est}_pymc", which))
            summary[f"{est}_{which}"] = {"shrinkage": ours, "pymc": theirs, "ratio": ours / theirs}
    for which in ("min", "median"):
        bound = med(("ess_bulk_pymc_gradient_bound", which))
        summary[f"ess_bulk_{which}"]["pymc_gradient_bound"] = bound
        summary[f"ess_bulk_{which}"]["ratio_vs_bound"] = med(("ess_bulk_shrinkage", which)) / bound
    summary["seconds"] = {"shrinkage": med(("seconds_shrinkage",)), "pymc": med(("seconds_pymc",))}
    return summary


def agreement_study(n_seeds):
    """The test's problem over seed pairs (shrinkage seed s, PyMC seed s + 1): the largest
    standardised difference per pair, and the same PyMC run against lambda x 1.5 (power)."""
    X, y, lam = make_agreement_problem()
    import test_bayes_pymc as t

    out = []
    for s in range(n_seeds):
        idata = t._pymc_posterior(X, y, lam, seed=s + 1)
        kw = dict(lam_method="fixed", n_draws=2000, burn_in=300, random_state=s)
        from shrinkage.bayes import BayesianLasso

        z = standardised_differences(BayesianLasso(lam=lam, **kw).fit(X, y), idata)
        z_off = standardised_differences(BayesianLasso(lam=1.5 * lam, **kw).fit(X, y), idata)
        out.append({"seed": s, "max_z": float(z.max()), "max_z_lambda_x1.5": float(z_off.max())})
        print(f"  seed {s}: max z {z.max():.2f}, at lambda x 1.5: {z_off.max():.1f}", flush=True)
    return out


def environment():
    import arviz
    import numba
    import pymc
    import pytensor

    import shrinkage

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "pymc": pymc.__version__, "pytensor": pytensor.__version__,
            "arviz": arviz.__version__, "shrinkage": shrinkage.__version__, "processor": cpu,
            "cpus": os.cpu_count(), "pytensor_blas": pytensor.config.blas__ldflags or "(none)"}


def markdown(results):
    lines = ["| problem | sampler | time (s) | min ESS/s | median ESS/s | min ESS/s (Stan ESS) |"
             " agreement: max z (# > 3 of all) |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, r in results["problems"].items():
        zs = max(row["max_z"] for row in r["repeats"])
        all_z = np.concatenate([row["z"] for row in r["repeats"]])
        zs = f"{zs:.2f} ({int(np.sum(all_z > 3))} of {all_z.size})"
        label = f"{name} {r['n']}x{r['p']}, λ={r['lambda']}"
        lines.append(f"| {label} | shrinkage Gibbs | {r['seconds']['shrinkage']:.3f} | "
                     f"{r['ess_bulk_min']['shrinkage']:.0f} | {r['ess_bulk_median']['shrinkage']:.0f} |"
                     f" {r['ess_stan_min']['shrinkage']:.0f} | {zs} |")
        lines.append(f"| | PyMC NUTS | {r['seconds']['pymc']:.1f} | {r['ess_bulk_min']['pymc']:.1f} | "
                     f"{r['ess_bulk_median']['pymc']:.1f} | {r['ess_stan_min']['pymc']:.1f} | |")
        lines.append(f"| | NUTS gradient bound | | {r['ess_bulk_min']['pymc_gradient_bound']:.0f} | "
                     f"{r['ess_bulk_median']['pymc_gradient_bound']:.0f} | | |")
        lines.append(f"| | **ratio** (bound) | | **{r['ess_bulk_min']['ratio']:.0f}×** "
                     f"({r['ess_bulk_min']['ratio_vs_bound']:.0f}×) | "
                     f"**{r['ess_bulk_median']['ratio']:.0f}×** "
                     f"({r['ess_bulk_median']['ratio_vs_bound']:.0f}×) | "
                     f"{r['ess_stan_min']['ratio']:.0f}× | |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 repeat, no cold starts")
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--agreement-seeds", type=int, default=0,
                        help="also run the PyMC test's problem over this many seed pairs")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    repeats = 1 if args.quick else args.repeats

    results = {"environment": environment(), "problems": {}}
    print(json.dumps(results["environment"]), flush=True)
    for name in args.problems:
        print(f"{name}:", flush=True)
        results["problems"][name] = bench_problem(name, repeats)
    if not args.quick:
        print("cold starts:", flush=True)
        results["cold"] = cold_costs()
        print("  " + json.dumps(results["cold"]), flush=True)
    if args.agreement_seeds:
        print("agreement study:", flush=True)
        results["agreement"] = agreement_study(args.agreement_seeds)
    table = markdown(results)
    print(table)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "bayes.json").write_text(json.dumps(results, indent=1))
    (RESULTS_DIR / "bayes.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
