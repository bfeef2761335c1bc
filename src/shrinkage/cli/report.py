"""``report.html``: one self-contained page (figures embedded as base64 PNG, no script)."""

import base64
import html

from .. import __version__

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
code, pre { font-family: ui-monospace, monospace; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; }
table { border-collapse: collapse; } td, th { padding: 0.2rem 0.8rem; text-align: left; }
tr:nth-child(even) { background: #f6f6f6; }
img { max-width: 100%; display: block; margin: 1rem 0; }
"""


def _image(path, alt):
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def render_report(result, path_png, cv_png, coefficient_text):
    """The report as an HTML string."""
    esc = html.escape
    data, settings, mse = result["data"], result["settings"], result["cv_mse"]
    rows = [
        ("data", data["source"]),
        ("target", data["target"]),
        ("rows used", f"{data['n_rows']} of {data['n_rows_read']} "
                      f"({data['n_rows_dropped']} dropped for missing values)"),
        ("features", f"{len(data['features'])} after one-hot encoding"
                     + (f" of {', '.join(data['one_hot'])}" if data["one_hot"] else "")),
        ("penalty", settings["penalty"]),
        ("l1_ratio ρ", f"{settings['l1_ratio']:g}"),
        ("cross-validation", f"{settings['cv_folds']}-fold, "
         + (settings.get("folds") or f"shuffled, seed {settings['seed']}")),
        ("λ grid", f"{settings['n_lambda']} values, log-spaced from {settings['lambda_max']:.6g} "
                   f"to {settings['lambda_min_grid']:.6g}"),
        ("standardisation", settings["standardize"]),
        ("tolerances", f"relative duality gap {settings['path_tol']:g} on the paths, "
                       f"{settings['refit_tol']:g} for the reported fits"),
        ("λ.min", f"{result['lambda_min']:.6g}: CV MSE {mse['lambda_min']:.6g} ± "
                  f"{mse['se_lambda_min']:.3g}, {result['n_nonzero']['lambda_min']} nonzero, "
                  f"duality gap {result['dual_gap']['lambda_min']:.2e}"),
        ("λ.1se", f"{result['lambda_1se']:.6g}: CV MSE {mse['lambda_1se']:.6g} ± "
                  f"{mse['se_lambda_1se']:.3g}, {result['n_nonzero']['lambda_1se']} nonzero, "
                  f"duality gap {result['dual_gap']['lambda_1se']:.2e}"),
        ("shrinkage", __version__),
    ]
    settings_rows = "\n".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in rows)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>shrinkage fit: {esc(data['source'])}</title>
<style>{_STYLE}</style></head>
<body>
<h1>shrinkage fit: {esc(data['source'])}</h1>
<h2>The objective</h2>
<p>Over the coefficients <code>w</code> and an unpenalized intercept <code>b</code>, each point of
the path minimises</p>
<pre>{esc(result['objective'])}</pre>
<p>with <code>n</code> the number of rows and <code>z</code> the features standardised to mean 0 and
population standard deviation 1. λ is glmnet's <code>lambda</code> and shrinkage's
<code>alpha</code>; ρ is glmnet's <code>alpha</code> (scikit-learn's <code>l1_ratio</code>).
Coefficients below are mapped back to the original units: <code>β<sub>j</sub> = w<sub>j</sub> /
s<sub>j</sub></code>, <code>β<sub>0</sub> = b − Σ<sub>j</sub> β<sub>j</sub> m<sub>j</sub></code>
(<code>m</code>, <code>s</code>: the column means and standard deviations).</p>
<h2>Settings and choice of λ</h2>
<table>
{settings_rows}
</table>
<h2>Coefficients (original scale; “.” is exactly zero)</h2>
<pre>{esc(coefficient_text)}</pre>
<h2>The regularization path</h2>
<p>Coefficients of the standardised features against log(λ); the top axis counts the nonzero
coefficients; dotted and dashed lines mark λ.min and λ.1se.</p>
{_image(path_png, "regularization path")}
<h2>Cross-validation</h2>
<p>Mean held-out squared error over the folds with one standard error bars; λ.min minimises it,
λ.1se is the largest λ within one standard error of that minimum.</p>
{_image(cv_png, "cross-validation curve")}
</body>
</html>
"""


def write_report(path, result, path_png, cv_png, coefficient_text):
    """Write :func:`render_report` to ``path``."""
    path.write_text(render_report(result, path_png, cv_png, coefficient_text), encoding="utf-8")
