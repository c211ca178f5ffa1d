"""Reports of SOS-Bench runs and of the SOS-versus-judge correlation: rich tables and the
correlation's HTML page (a jinja2 template, like the probe report)."""

from __future__ import annotations

import base64
import io
from typing import Sequence

import jinja2
from rich.table import Table

from judgeaudit.reports.formatting import interval, num, p_value, percent
from judgeaudit.sos.aggregate import CI_LEVEL, BenchmarkScore, FactorScore
from judgeaudit.sos.correlate import CorrelationResult, FactorCorrelation
from judgeaudit.sos.spec import FACTOR_TITLES



def results_table(scores: Sequence[BenchmarkScore], factors: Sequence[FactorScore], *, title: str,
                  n_resamples: int, seed: int) -> Table:
    """One row per benchmark, then its factor in bold; missing benchmarks say so (never zero)."""
    level = percent(CI_LEVEL)
    table = Table(title=title, caption=f"{level} percentile bootstrap CI over documents "
                                       f"({n_resamples} resamples, seed {seed}); missing = not scored, not zero")
    for col, justify in (("factor", "left"), ("benchmark", "left"), ("n", "right"), ("score", "right"),
                         (f"{level} CI", "left")):
        table.add_column(col, justify=justify)
    for f in factors:
        mine = [s for s in scores if s.factor == f.factor]
        if not mine:
            continue
        for s in mine:
            table.add_row(f.factor, s.name, str(s.n) if s.score is not None else "-", num(s.score, missing="missing"),
                          interval(s.ci, missing="") if s.score is not None else "")
        note = f" ({len(f.benchmarks)} of {len(mine)})" if f.missing else ""
        table.add_row(f"[bold]{f.factor}[/bold]", f"[bold]{FACTOR_TITLES[f.factor]}{note}[/bold]", "",
                      f"[bold]{num(f.score, missing='missing')}[/bold]",
                      interval(f.ci, missing="") if f.score is not None else "", end_section=True)
    return table


def correlation_table(result: CorrelationResult) -> Table:
    level = percent(CI_LEVEL)
    table = Table(title="SOS factor scores vs judge scores across models",
                  caption=f"{level} percentile bootstrap CIs over models ({result.n_resamples} "
                          f"resamples, seed {result.seed}); p: two-sided, scipy spearmanr / kendalltau")
    for col in ("factor", "n models", "benchmarks", "Spearman rho", f"{level} CI", "p", "Kendall tau", f"{level} CI", "p"):
        table.add_column(col, justify="left" if col in ("factor", "benchmarks") else "right",
                         no_wrap=col in ("factor", f"{level} CI"))
    for fc in result.factors:
        table.add_row(FACTOR_TITLES[fc.factor], str(fc.n), str(len(fc.benchmarks)), num(fc.spearman, missing="-"),
                      interval(fc.spearman_ci, 2, missing="-"), p_value(fc.spearman_p, missing="-"),
                      num(fc.kendall, missing="-"), interval(fc.kendall_ci, 2, missing="-"),
                      p_value(fc.kendall_p, missing="-"))
    return table


def _scatter_png(fc: FactorCorrelation) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    if fc.points:
        ax.scatter([p[1] for p in fc.points], [p[2] for p in fc.points], s=18)
    ax.set_xlabel(f"SOS {FACTOR_TITLES[fc.factor].lower()} score")
    ax.set_ylabel("judge score")
    ax.set_title(f"{FACTOR_TITLES[fc.factor]}: rho={num(fc.spearman, 2, '-')}, tau={num(fc.kendall, 2, '-')} (n={fc.n})")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


_CORRELATION_PAGE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""\
<!doctype html><html><head><meta charset='utf-8'><title>SOS vs judge correlation</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}figure{display:inline-block;margin:0 1em}</style>
</head><body><h1>SOS factor scores vs judge scores</h1>
<table><tr><th>factor</th><th>n models</th><th>Spearman</th><th>{{ level }} CI</th><th>p</th>
<th>Kendall</th><th>{{ level }} CI</th><th>p</th></tr>
{% for r in rows %}<tr>{% for cell in r %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
<p>{{ level }} percentile bootstrap over models ({{ n_resamples }} resamples, seed {{ seed }});
p-values two-sided from scipy.</p><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
{% for f in figures %}<figure><img alt="{{ f.factor }} scatter" src="data:image/png;base64,{{ f.png }}"></figure>{% endfor %}
</body></html>
""")


def correlation_html(result: CorrelationResult) -> str:
    rows = [(FACTOR_TITLES[fc.factor], fc.n, num(fc.spearman, missing="-"), interval(fc.spearman_ci, 2, missing="-"),
             p_value(fc.spearman_p, missing="-"), num(fc.kendall, missing="-"), interval(fc.kendall_ci, 2, missing="-"),
             p_value(fc.kendall_p, missing="-")) for fc in result.factors]
    figures = [{"factor": fc.factor, "png": _scatter_png(fc)} for fc in result.factors]
    return _CORRELATION_PAGE.render(level=percent(CI_LEVEL), rows=rows, notes=result.notes, figures=figures,
                                    n_resamples=result.n_resamples, seed=result.seed)
