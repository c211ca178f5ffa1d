"""The HTML report states its method and carries every section, offline."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from judgeaudit.reports.html import render_report
from judgeaudit.stats import compute_results, evaluate, load_policy
from simulated_records import simulate_records


def _factorwise(probe, kind, order, i, rng):
    crit = {c: float(rng.choice([0.0, 0.25, 0.5, 0.75, 1.0]))
            for c in ("correctness", "completeness", "safety", "conciseness", "style")}
    return 0.6 * crit["style"] + 0.4 * crit["correctness"], crit


@pytest.fixture(scope="module")
def results():
    res = compute_results(simulate_records(_factorwise, n_items=20), judge="sim<judge>", battery="t", seed=7,
                          template="factorwise", resamples=400)
    res["sos"] = {"note": "fixture scores", "scores": {"factor: World knowledge": {"score": 0.31, "ci_low": 0.2,
                                                                                   "ci_high": 0.4, "n": 30}}}
    return res


def test_report_has_figures_tables_method_and_escapes_text(results):
    html = render_report(results, checks=evaluate(load_policy(), results), policy_name="default")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 4  # forest, quadrant, position, criteria
    for b64 in images:
        assert base64.b64decode(b64)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "sim&lt;judge&gt;" in html and "sim<judge>" not in html
    for needle in ("400 resamples", "seed 7", "95% confidence intervals", "sign test", "Holm", "McNemar",
                   "Criteria weights", "World knowledge", "Price of style", "Policy: default"):
        assert needle in html, needle
    for p in results["probes"]:
        assert f'<td class="l">{p["name"]}</td><td>{p["n"]}</td>' in html


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_report_screenshot_in_headless_chromium(tmp_path):
    script = Path(__file__).resolve().parents[1] / "perf" / "screenshot_report.py"
    shot = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, str(script), "--out", str(shot)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert shot.stat().st_size > 50_000 and "distinct colours" in proc.stdout
