"""Self-contained HTML report of a probe run: figures inlined as data: URIs, no network."""

from __future__ import annotations

from typing import Any, Sequence

import jinja2
from markupsafe import Markup

from judgeaudit import __version__
from judgeaudit.reports import plots
from judgeaudit.reports.formatting import interval, num, p_value, signed
from judgeaudit.stats.policy import Check

INDEX_INFO = {
    "style_sensitivity": ("Style sensitivity", "mean |delta| over style probes", "0"),
    "substance_sensitivity": ("Substance sensitivity", "mean -delta over substance probes", "0.5"),
    "style_over_substance_rate": ("Style over substance", "the styled wrong answer's win rate over crossed pairs "
                                  "(indifferent 0.5)", "0"),
    "style_over_substance_strict": ("Styled wrong wins both orders", "share of crossed pairs", "0"),
    "accuracy": ("Accuracy", "judgments preferring the right answer, substance and crossed pairs, ties half", "1"),
    "pair_accuracy": ("Pair accuracy", "pairs with the right answer preferred in both orders", "1"),
    "ece": ("Calibration error", "ECE of P(first shown is right), 10 bins", "0"),
    "brier": ("Brier score", "of P(first shown is right); 0.25 = always 0.5", "0"),
    "position_consistency": ("Position consistency", "share of pairs with the same preference in both orders", "1"),
    "first_position_rate": ("First-position rate", "P(first shown preferred) + 0.5 P(tie), all judgments", "0.5"),
    "first_position_rate_control": ("First-position rate, control", "the same on identical answers", "0.5"),
    "strong_share": ("Strong share", "strong (>>) share of decisive verdicts", "–"),
    "noise_floor": ("Noise floor", "SD of per-item deltas on identical answers (control)", "0"),
}
BASELINE_NAMES = {"always_longer": "always longer", "always_more_markdown": "more markdown",
                  "always_first": "always first", "coin_flip": "coin flip"}

# The style every judgeaudit page shares (probe report, arena report); page-specific rules follow it.
PAGE_STYLE = """body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0; color: #222;
       background: #fafafa; }
main { max-width: 1060px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin-top: 34px; border-bottom: 1px solid #ddd;
     padding-bottom: 4px; }
.meta { color: #555; font-size: 0.92em; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 18px; }
.card { flex: 1 1 170px; border: 1px solid #ddd; border-radius: 8px; padding: 10px 12px; background: #fcfcfc; }
.card .v { font-size: 1.6em; font-weight: 600; } .card .l { font-weight: 600; font-size: 0.9em; }
.card .d { color: #666; font-size: 0.78em; }
table { border-collapse: collapse; font-size: 0.86em; margin-top: 8px; width: 100%; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 4px 8px; text-align: right; }
th { background: #f2f2f2; } td.l, th.l { text-align: left; }
"""


def page_environment() -> jinja2.Environment:
    """The Jinja environment of every HTML page: escaping on, the one number formatter as filters."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=num, p=p_value, signed=signed)
    env.globals.update(ci=lambda lo, hi, digits=3: interval((lo, hi), digits, plus=True),
                       page_style=Markup(PAGE_STYLE))
    return env


_ENV = page_environment()

TEMPLATE = _ENV.from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>judgeaudit: {{ r.judge }}</title>
<style>
{{ page_style }}tr.kind td { background: #f7f7fb; font-weight: 600; text-align: left; }
.pass { color: #1d7a35; font-weight: 700; } .fail { color: #b3261e; font-weight: 700; }
.verdict { font-size: 1.3em; margin: 8px 0; }
img { max-width: 100%; } .note { color: #555; font-size: 0.88em; } code { background: #f2f2f2; padding: 0 3px; }
</style></head>
<body><main>
<h1>Judge audit: {{ r.judge }}</h1>
<div class="meta">battery <b>{{ r.battery }}</b> · template {{ r.template }} · seed {{ r.seed }} ·
{{ r.n_items }} items, {{ r.n_pairs }} pairs, {{ r.n_judgments }} judgments ({{ r.unparsed }} unparsed)
{% for k, v in run_items %} · {{ k }} {{ v }}{% endfor %}</div>

{% if checks is not none %}
<h2>Policy: {{ policy_name }}</h2>
<div class="verdict">{% if passed %}<span class="pass">PASS</span>{% else %}<span class="fail">FAIL</span>{% endif %}</div>
<table><tr><th class="l">check</th><th>value</th><th>requirement</th><th>result</th><th class="l">detail</th></tr>
{% for c in checks %}<tr><td class="l">{{ c.name }}</td><td>{{ c.value }}</td><td>{{ c.requirement }}</td>
<td>{% if c.passed %}<span class="pass">pass</span>{% else %}<span class="fail">fail</span>{% endif %}</td>
<td class="l">{{ c.detail }}</td></tr>{% endfor %}</table>
{% endif %}

<div class="cards">
{% for key, label, desc, ideal, value, interval in cards %}
<div class="card"><div class="l">{{ label }}</div><div class="v">{{ value|num }}</div>
<div class="d">{{ desc }}; ideal {{ ideal }}{% if interval %}; 95% CI [{{ interval[0]|num }}, {{ interval[1]|num }}]{% endif %}</div></div>
{% endfor %}
</div>

<h2>Effect of each perturbation</h2>
<p class="note">Each row is a probe: the perturbed answer is judged against the reference answer in both orders.
A point right of zero means the judge prefers the perturbed answer. Style probes should sit on zero; substance
probes should sit far left (at −0.5 a degraded answer always loses); crossed probes (styled but wrong vs plain and
right) left of zero mean substance beats style.
Hollow triangles and squares mark what the content-blind baselines "always the longer answer" and "always the one
with more markdown" score on the same pairs.</p>
<img alt="forest plot of delta per probe" src="{{ forest }}">

<h2>Style versus substance, and position</h2>
<img alt="style vs substance quadrant" src="{{ quadrant }}" style="max-width:62%">
<img alt="position bias bars: consistent, biased to first, biased to second" src="{{ position }}">

<h2>Baselines: does the judge beat picking the longer answer?</h2>
{% if baselines %}<table><tr><th class="l">probe kind</th><th class="l">metric</th><th>judge</th>
{% for b in baseline_names.values() %}<th>{{ b }}</th>{% endfor %}<th>beats always-longer</th></tr>
{% for kind, row in baselines.items() %}<tr><td class="l">{{ kind_labels.get(kind, kind) }}</td>
<td class="l">{{ row.metric }} ({{ row.better }} is better)</td><td>{{ row.judge|num }}</td>
{% for b in baseline_names %}<td>{{ row.get(b)|num }}</td>{% endfor %}
<td>{% if row.beats_longer %}<span class="pass">yes</span>{% else %}<span class="fail">no</span>{% endif %}</td></tr>
{% endfor %}</table>
<p class="note">Content-blind choices scored on the judge's own pairs: always the longer answer (characters),
always the one with more markdown, always the first shown, and a fair coin (expected values).</p>
{% else %}<p class="note">No baselines in this results.json (older run); recompute with
<code>judgeaudit report --recompute</code>.</p>{% endif %}

{% if calibration_fig %}
<h2>Calibration on ground truth</h2>
<img alt="calibration plot" src="{{ calibration_fig }}" style="max-width:55%">
<p class="note">{{ r.indices.calibration.method }}; {{ r.indices.calibration.n_judgments }} judgments.</p>
{% endif %}

<h2>Probes</h2>
<table><tr><th class="l">probe</th><th>n</th><th>win rate</th><th>delta</th><th>95% CI</th><th>Cohen's h</th>
<th>p (sign)</th><th>p (Holm)</th><th>mean score</th><th>strong</th><th>first-position</th><th>accuracy</th>
<th>pair acc.</th><th>always longer</th><th>MDE</th><th>unparsed</th></tr>
{% for kind, members in groups %}
<tr class="kind"><td colspan="16">{{ kind_labels.get(kind, kind) }}</td></tr>
{% for p in members %}<tr><td class="l">{{ p.name }}</td><td>{{ p.n }}</td><td>{{ p.win_rate|num }}</td>
<td>{{ p.delta|signed }}</td><td>{{ ci(p.ci_low, p.ci_high) }}</td><td>{{ p.cohens_h|signed }}</td>
<td>{{ p.p_value|p }}</td><td>{{ p.p_holm|p }}</td><td>{{ p.get("mean_score")|num }}</td>
<td>{{ p.get("strong_share")|num(2) }}</td><td>{{ p.get("first_position_rate")|num }}</td>
<td>{{ p.get("accuracy")|num }}</td><td>{{ p.get("pair_accuracy")|num }}</td>
<td>{{ ((p.get("baselines") or {}).get("always_longer") or {}).get("win_rate")|num(2) }}</td>
<td>{{ p.get("min_detectable_delta")|num(2) }}</td><td>{{ p.unparsed }}</td></tr>{% endfor %}
{% endfor %}</table>

<h2>Style-controlled regression</h2>
{% if sc.status == "skipped" %}<p class="note">Not fitted: {{ sc.reason }}.</p>{% else %}
{% if sc.price_of_style %}<p><b>Price of style: odds ratio {{ sc.price_of_style.odds_ratio|num(2) }}</b>
(95% CI {{ sc.price_of_style.ci_low|num(2) }} to {{ sc.price_of_style.ci_high|num(2) }}):
{{ sc.price_of_style.definition }}. 1 means length buys nothing.</p>{% endif %}
<p class="note">{{ sc.model }}; outcome: {{ sc.outcome }}; n = {{ sc.n }} pairs over {{ sc.n_items }} items.
{% if sc.dropped %}Left out (constant or collinear): {{ sc.dropped|join(", ") }}.{% endif %}</p>
<table><tr><th class="l">predictor</th><th>coefficient</th><th>95% CI</th><th>odds ratio</th><th>OR 95% CI</th>
<th>p</th><th>per</th></tr>
{% for name, c in sc.coefficients.items() if c %}<tr><td class="l">{{ name }}</td><td>{{ c.coef|signed }}</td>
<td>{{ ci(c.ci_low, c.ci_high) }}</td><td>{{ c.odds_ratio|num }}</td>
<td>[{{ c.or_ci_low|num }}, {{ c.or_ci_high|num }}]</td><td>{{ c.p_value|p }}</td>
<td>{% if c.scale and name != "substance_degraded" %}1 SD = {{ c.scale|num }}{% elif name == "substance_degraded" %}degraded vs not{% endif %}</td></tr>
{% endfor %}</table>{% endif %}

{% if cw %}
<h2>Criteria weights (factor-wise template)</h2>
{% if criteria_fig %}<img alt="criteria weights" src="{{ criteria_fig }}">{% endif %}
<p class="note">{{ cw.model }}; n = {{ cw.n }} pairs; R² = {{ cw.r_squared|num }}.</p>
<table><tr><th class="l">criterion</th><th>weight</th><th>coefficient</th><th>95% CI</th><th>correlation with overall</th></tr>
{% for name in cw.criteria %}{% set c = cw.coefficients.get(name) %}<tr><td class="l">{{ name }}</td>
<td>{{ cw.weights.get(name)|num }}</td><td>{{ (c.coef if c else none)|num }}</td>
<td>{{ ci(c.ci_low, c.ci_high) if c else "–" }}</td><td>{{ cw.correlations.get(name)|num }}</td></tr>{% endfor %}
</table>{% endif %}

{% if members %}
<h2>Jury and its members</h2>
<p class="note">Each member's indices come from its own verdicts on the same pairs and orders, through the same
statistics; the jury is less biased than its best member when its column is closer to the ideal. Members are also
plotted in the quadrant above.</p>
<table><tr><th class="l">index (ideal)</th><th>jury</th>{% for m in members %}<th>{{ m.judge }}</th>{% endfor %}</tr>
{% for key, info in index_info.items() %}<tr><td class="l">{{ info[0] }} ({{ info[2] }})</td>
{% for x in [r] + members %}{% set iv = (x.indices_ci or {}).get(key) %}<td>{{ x.indices.get(key)|num }}
{% if iv %}[{{ iv[0]|num }}, {{ iv[1]|num }}]{% endif %}</td>{% endfor %}</tr>{% endfor %}</table>
{% endif %}

{% if notes %}
<h2>About this judge</h2>
{% for n in notes %}<p class="note">{{ n }}</p>{% endfor %}
{% endif %}

{% if sos is not none %}
<h2>Ground truth: the judge model on SOS-Bench</h2>
{% if sos.get("note") %}<p class="note">{{ sos.note }}</p>{% endif %}
{% if sos_rows %}<table><tr><th class="l">factor / benchmark</th><th>score</th><th>95% CI</th><th>n</th></tr>
{% for name, score, lo, hi, n in sos_rows %}<tr><td class="l">{{ name }}</td><td>{{ score|num }}</td>
<td>{% if lo is not none %}[{{ lo|num }}, {{ hi|num }}]{% else %}–{% endif %}</td><td>{{ n|num }}</td></tr>{% endfor %}
</table>{% endif %}
{% endif %}

<h2>Method</h2>
<p class="note">Unit of analysis: the {{ m.unit }}. Per probe: n items with a parsed judgment in both orders;
win rate w = mean item outcome; delta = w − 0.5; mean score = the same mean of the graded win score
(A&gt;&gt;B = 1, A&gt;B = .75, A=B = .5, B&gt;A = .25, B&gt;&gt;A = 0); strong = strong share of decisive verdicts; {{ (m.level * 100)|round|int }}% confidence intervals by
{{ m.ci }} ({{ m.ci_method }}; {{ m.resamples }} resamples, seed {{ m.seed }}); Cohen's h of w against 0.5;
{{ m.test }}; position: {{ m.position_test }}. Flip rate = share of items whose two orders prefer opposite
answers; position consistency = share with the same preference (including a tie) in both orders.
{{ m.unparsed }}. Indices: style sensitivity = mean |delta| over style probes; substance sensitivity = mean −delta
over substance probes; style-over-substance rate = the styled wrong answer's win rate over crossed pairs (oracle 0,
indifferent 0.5, style-lover 1), beside the share of crossed pairs it wins in both orders; position classes
(MT-Bench): {{ m.get("position", "") }}; first-position rate = P(first shown preferred) + 0.5 P(tie) over judgments;
accuracy = share of judgments on substance and crossed pairs preferring the right answer (ties half), pair accuracy =
right in both orders; calibration: {{ m.get("calibration", "") }}; noise floor = SD of the per-item control deltas.
MDE (power): {{ m.get("power", "") }}.</p>
<p class="note">judgeaudit {{ version }}</p>
</main></body></html>
""")


def _sos_rows(sos: dict[str, Any]) -> list[tuple]:
    rows = []
    for name, value in (sos.get("scores") or {}).items():
        if isinstance(value, dict):
            rows.append((name, value.get("score"), value.get("ci_low"), value.get("ci_high"), value.get("n")))
        elif isinstance(value, (int, float)):
            rows.append((name, float(value), None, None, None))
    return rows


def render_report(results: dict[str, Any], *, checks: Sequence[Check] | None = None, policy_name: str = "",
                  others: Sequence[dict[str, Any]] = ()) -> str:
    """The report page for one run; ``others`` adds more judges to the quadrant plot."""
    idx, idx_ci = results.get("indices", {}), results.get("indices_ci") or {}
    cards = [(k, *INDEX_INFO[k], idx.get(k), idx_ci.get(k)) for k in INDEX_INFO
             if not (k in ("ece", "brier") and idx.get(k) is None)]
    calibration = idx.get("calibration")
    run = results.get("run") or {}
    run_items = [(k, v) for k, v in run.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    cw = results.get("criteria_weights")
    sos = results.get("sos")
    threshold = None
    for c in checks or ():
        if c.name == "position_consistency":
            threshold = float(c.requirement.split()[-1])
    return TEMPLATE.render(
        r=results, run_items=run_items, cards=cards, checks=list(checks) if checks is not None else None,
        passed=all(c.passed for c in checks or ()), policy_name=policy_name,
        forest=plots.to_data_uri(plots.forest_plot(results)),
        quadrant=plots.to_data_uri(plots.quadrant_plot([results, *others, *(results.get("members") or [])])),
        position=plots.to_data_uri(plots.position_plot(results, threshold if checks else 0.8)),
        criteria_fig=plots.to_data_uri(plots.criteria_plot(cw)) if cw and cw.get("weights") else None,
        calibration_fig=(plots.to_data_uri(plots.calibration_plot(calibration, idx.get("ece"), idx.get("brier")))
                         if calibration else None),
        baselines=(results.get("baselines") or {}).get("by_kind") or {}, baseline_names=BASELINE_NAMES,
        groups=plots.grouped(results["probes"]), kind_labels=plots.KIND_LABELS,
        sc=results.get("style_control") or {"status": "skipped", "reason": "not computed"},
        cw=cw, sos=sos, sos_rows=_sos_rows(sos) if sos else [], m=results["method"], version=__version__,
        members=results.get("members") or [], index_info=INDEX_INFO, notes=run.get("judge_notes") or [],
    )


COMPARISON = _ENV.from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>judgeaudit: {{ runs|length }} judges compared</title>
<style>
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0; color: #222; }
main { max-width: 1060px; margin: 0 auto; padding: 24px 28px 60px; }
table { border-collapse: collapse; font-size: 0.86em; width: 100%; } img { max-width: 100%; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 4px 8px; text-align: right; } th { background: #f2f2f2; }
td.l, th.l { text-align: left; } .note { color: #555; font-size: 0.88em; }
</style></head><body><main>
<h1>Judges compared</h1>
<img alt="style vs substance quadrant" src="{{ quadrant }}" style="max-width:70%">
<h2>Indices</h2>
<table><tr><th class="l">index (ideal)</th>{% for r in runs %}<th>{{ r.judge }}</th>{% endfor %}</tr>
{% for key, info in index_info.items() %}<tr><td class="l">{{ info[0] }} ({{ info[2] }})</td>
{% for r in runs %}<td>{{ r.indices.get(key)|num }}</td>{% endfor %}</tr>{% endfor %}</table>
<h2>Delta per probe (95% CI)</h2>
<table><tr><th class="l">probe</th>{% for r in runs %}<th>{{ r.judge }}</th>{% endfor %}</tr>
{% for name in probe_names %}<tr><td class="l">{{ name }}</td>{% for r in runs %}{% set p = lookup(r, name) %}
<td>{% if p and p.delta is not none %}{{ p.delta|signed }} {{ ci(p.ci_low, p.ci_high, 2) }}{% else %}–{% endif %}</td>
{% endfor %}</tr>{% endfor %}</table>
<p class="note">Runs: {% for d in dirs %}<code>{{ d }}</code> {% endfor %}· judgeaudit {{ version }}</p>
</main></body></html>
""")


def render_comparison(runs: Sequence[dict[str, Any]], dirs: Sequence[str] = ()) -> str:
    """One page for several runs: the quadrant with every judge, indices and deltas side by side."""
    names: list[str] = []
    for r in runs:
        for _, members in plots.grouped(r["probes"]):
            names += [p["name"] for p in members if p["name"] not in names]

    def lookup(r: dict[str, Any], name: str) -> dict[str, Any] | None:
        return next((p for p in r["probes"] if p["name"] == name), None)

    return COMPARISON.render(runs=runs, dirs=dirs, probe_names=names, lookup=lookup, index_info=INDEX_INFO,
                             quadrant=plots.to_data_uri(plots.quadrant_plot(runs)), version=__version__)
