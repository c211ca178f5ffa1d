"""Self-contained HTML report of an arena or logs run: raw against style-controlled scores
and ranks, and the judge's price of style (figures inlined, no network)."""

from __future__ import annotations

from typing import Any


from judgeaudit import __version__
from judgeaudit.reports import plots
from judgeaudit.reports.html import page_environment

_ENV = page_environment()

TEMPLATE = _ENV.from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>judgeaudit arena: {{ m.judge }}</title>
<style>
{{ page_style }}.up { color: #1d7a35; } .down { color: #b3261e; }
img { max-width: 100%; } .note { color: #555; font-size: 0.88em; } code { background: #f2f2f2; padding: 0 3px; }
</style></head>
<body><main>
<h1>Model ranking by {{ m.judge }}</h1>
<div class="meta">{{ m.kind }} judgments{% if m.baseline %} against baseline <b>{{ m.baseline }}</b>{% endif %}
 · {{ m.judgments.total }} judgments ({{ m.judgments.unparsed }} unparsed, {{ m.judgments.missing }} missing)
 · {{ m.bootstrap.n_questions }} questions{% if m.get('format') %} · format {{ m.format }}{% endif %}</div>

<h2>Price of style</h2>
<p class="note">How much the judge's verdicts move with the answers' style, with the models' strengths held fixed.
{% if m.kind == 'pairwise' %}Coefficients are log-odds of answer A winning per one standard deviation of the style
difference A - B; 0 means the judge ignores it.{% else %}Coefficients are rating points per unit of the feature.{% endif %}</p>
<div class="cards">
{% for name, s in style.items() %}<div class="card"><div class="l">{{ name }}</div>
<div class="v">{{ s.coef|num }}</div><div class="d">CI {{ ci(s.ci_low, s.ci_high) }} · p {{ s.p_value|p }}</div>
<div class="d">{{ s.definition }}{% if s.get('note') %} ({{ s.note }}){% endif %}</div></div>
{% endfor %}</div>
{% if style_img %}<p><img src="{{ style_img }}" alt="style coefficients"></p>{% endif %}

<h2>Leaderboard: raw against style-controlled</h2>
<table><tr><th class="l">model</th><th>n</th><th>score</th><th>CI</th><th>rank</th><th>BT score</th>
<th>controlled</th><th>CI</th><th>controlled rank</th><th>rank change</th><th>mean words</th></tr>
{% for x in models %}<tr><td class="l">{{ x.name }}{% if x.name == m.baseline %} (baseline){% endif %}</td>
<td>{{ x.n }}</td><td>{{ x.score|num }}</td><td>{{ ci(x.ci_low, x.ci_high) }}</td><td>{{ x.rank|num }}</td>
<td>{{ x.bt_score|num }}</td><td>{{ x.controlled_score|num }}</td>
<td>{{ ci(x.controlled_ci_low, x.controlled_ci_high) }}</td><td>{{ x.controlled_rank|num }}</td>
<td>{% if x.rank is not none and x.controlled_rank is not none %}{% set d = x.rank - x.controlled_rank %}
<span class="{{ 'up' if d > 0 else 'down' if d < 0 else '' }}">{{ '%+d'|format(d) if d else '0' }}</span>{% else %}–{% endif %}</td>
<td>{{ x.mean_words|num(1) }}</td></tr>
{% endfor %}</table>
{% if scores_img %}<p><img src="{{ scores_img }}" alt="raw and controlled scores"></p>{% endif %}

<h2>Position</h2>
<table><tr><th class="l">reading</th><th>value</th></tr>
{% for k, v in position.items() %}<tr><td class="l">{{ k }}</td><td>{{ v|num }}</td></tr>{% endfor %}</table>

<h2>Method</h2>
<ul class="note">
{% for k, v in m.scores.items() %}<li><b>{{ k }}</b>: {{ v }}</li>{% endfor %}
<li><b>style</b>: {{ m.style }}</li>
<li><b>intervals</b>: {{ (m.bootstrap.level * 100)|round|int }}% {{ m.bootstrap.interval }} bootstrap over
{{ m.bootstrap.n_questions }} questions (clustered by {{ m.bootstrap.cluster }}), {{ m.bootstrap.resamples }}
resamples, seed {{ m.bootstrap.seed }}</li>
{% for n in m.notes %}<li>{{ n }}</li>{% endfor %}
</ul>
<p class="note">judgeaudit {{ version }}</p>
</main></body></html>
""")


def _scores_figure(results: dict[str, Any]):
    import matplotlib.pyplot as plt

    models = [x for x in results["models"] if x["score"] is not None]
    if not models:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.45 * len(models)))
    for y, x in enumerate(reversed(models)):
        if x["ci_low"] is not None:
            ax.plot([x["ci_low"], x["ci_high"]], [y + 0.12] * 2, color="#4C72B0", lw=2)
        ax.plot(x["score"], y + 0.12, "o", color="#4C72B0", label="raw" if y == 0 else None)
        if x["controlled_score"] is not None:
            if x["controlled_ci_low"] is not None:
                ax.plot([x["controlled_ci_low"], x["controlled_ci_high"]], [y - 0.12] * 2, color="#C44E52", lw=2)
            ax.plot(x["controlled_score"], y - 0.12, "s", color="#C44E52", label="style-controlled" if y == 0 else None)
    ax.set_yticks(range(len(models)))
    ax.set_yticklabels([x["name"] for x in reversed(models)])
    if results["method"]["kind"] == "pairwise":
        ax.axvline(0.5, color="black", lw=0.8)
        ax.set_xlabel("score (probability of beating the baseline)")
    else:
        ax.set_xlabel("mean rating")
    ax.legend(loc="best", fontsize=8)
    return fig


def _style_figure(results: dict[str, Any]):
    import matplotlib.pyplot as plt

    rows = [(k, v) for k, v in results["style"].items() if v["coef"] is not None]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.4 * len(rows)))
    for y, (name, s) in enumerate(reversed(rows)):
        if s["ci_low"] is not None:
            ax.plot([s["ci_low"], s["ci_high"]], [y, y], color="#333333", lw=2)
        ax.plot(s["coef"], y, "o", color="#DD8452")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([name for name, _ in reversed(rows)])
    ax.set_xlabel("coefficient (CI)")
    return fig


def render_arena_report(results: dict[str, Any]) -> str:
    figs = {}
    for key, make in (("scores_img", _scores_figure), ("style_img", _style_figure)):
        fig = make(results)
        figs[key] = plots.to_data_uri(fig) if fig is not None else None
    return TEMPLATE.render(m=results["method"], models=results["models"], style=results["style"],
                           position=results["position"], version=__version__, **figs)
