"""`judgeaudit probe | audit | report | compare` end to end with synthetic judges."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from judgeaudit.cli import main

QUICK = ["--battery", "quick", "--limit", "8", "--resamples", "200", "--no-progress"]


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name in ("longer", "oracle"):
        res = _invoke("probe", "--judge", f"synthetic:{name}", "--out", str(root / name), *QUICK)
        assert res.exit_code == 0, res.output
        out[name] = (root / name, res.output)
    return out


def test_probe_writes_results_and_a_self_contained_report(runs):
    run_dir, output = runs["longer"]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["judge"] == "synthetic:longer" and results["battery"] == "quick" and results["n_items"] == 8
    names = {p["name"] for p in results["probes"]}
    assert {"verbose", "factual_error", "control"} <= names
    assert "verbose" in output and "style-over-substance rate" in output and "95% CI" in output
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3
    # nothing fetched from the network: no external src/href
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "synthetic:longer" in html and "200 resamples" in html


def test_probe_resumes_without_redoing_or_duplicating(runs):
    run_dir, _ = runs["oracle"]
    before = (run_dir / "records.jsonl").read_text()
    res = _invoke("probe", "--judge", "synthetic:oracle", "--out", str(run_dir), *QUICK)
    assert res.exit_code == 0, res.output
    assert (run_dir / "records.jsonl").read_text() == before


def test_probe_refuses_a_run_directory_of_another_judge(runs):
    run_dir, _ = runs["oracle"]
    res = CliRunner().invoke(main, ["probe", "--judge", "synthetic:longer", "--out", str(run_dir), *QUICK])
    assert res.exit_code == 1
    assert "different judge" in res.output and "Traceback" not in res.output


def test_dry_run_counts_and_writes_nothing(tmp_path):
    out = tmp_path / "never"
    res = _invoke("probe", "--judge", "synthetic:random", "--out", str(out), "--dry-run", *QUICK)
    assert res.exit_code == 0, res.output
    m = re.search(r"pairs: (\d+).*?judgments: (\d+)", res.output, re.S)
    assert m and int(m.group(2)) == 2 * int(m.group(1)) > 0
    assert not out.exists()


def test_dry_run_states_power_from_the_planned_items(tmp_path):
    from judgeaudit.stats.power import min_detectable_delta

    res = _invoke("probe", "--judge", "synthetic:random", "--dry-run", "--limit", "30")
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    m = re.search(r"Holm over (\d+) probes\): (.*)", text)
    assert m, res.output
    expected = min_detectable_delta(30, n_tests=int(m.group(1)))
    assert f"control {expected:.3f}" in m.group(2)


def test_dry_run_of_an_api_judge_estimates_cost_without_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    res = _invoke("probe", "--judge", "gpt-4-1106-preview", "--dry-run", *QUICK)
    assert res.exit_code == 0, res.output
    assert "API requests" in res.output and "estimated cost: $" in res.output


def test_bad_items_file_is_one_line_error(tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "x-001"}\nnot json\n')
    res = CliRunner().invoke(main, ["probe", "--judge", "synthetic:oracle", "--items", str(items),
                                    "--out", str(tmp_path / "o"), *QUICK])
    assert res.exit_code != 0
    assert str(items) in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o" / "results.json").exists()


def test_audit_exit_codes(tmp_path):
    ok = _invoke("audit", "--judge", "synthetic:oracle", "--out", str(tmp_path / "a"), *QUICK)
    assert ok.exit_code == 0, ok.output
    assert "PASS" in ok.output
    html = (tmp_path / "a" / "report.html").read_text()
    assert "Policy: default" in html and "SOS-Bench ground truth needs the judge" in html

    bad = _invoke("audit", "--judge", "synthetic:longer", "--out", str(tmp_path / "b"),
                  "--compare-judge", "synthetic:oracle", "--compare-out", str(tmp_path / "c"), *QUICK)
    assert bad.exit_code == 1, bad.output
    assert "FAIL" in bad.output and "Judges compared" in bad.output and "synthetic:oracle" in bad.output

    policy = tmp_path / "p.toml"
    policy.write_text("[policy]\nmin_position_consistncy = 0.9\n")
    err = CliRunner().invoke(main, ["audit", "--judge", "synthetic:oracle", "--policy", str(policy),
                                    "--out", str(tmp_path / "d"), *QUICK])
    assert err.exit_code == 2
    assert "min_position_consistncy" in err.output and "Traceback" not in err.output
    assert not (tmp_path / "d").exists()  # a bad policy is caught before any judging


def test_show_policy_needs_no_judge():
    res = _invoke("audit", "--show-policy")
    assert res.exit_code == 0 and "max_style_over_substance_rate = 0.2" in res.output


def test_report_rerenders_and_recomputes(runs):
    run_dir, _ = runs["longer"]
    (run_dir / "report.html").unlink()
    res = _invoke("report", str(run_dir))
    assert res.exit_code == 0, res.output
    assert (run_dir / "report.html").exists()
    before = json.loads((run_dir / "results.json").read_text())
    res = _invoke("report", str(run_dir), "--recompute", "--resamples", "300")
    assert res.exit_code == 0, res.output
    after = json.loads((run_dir / "results.json").read_text())
    assert after["method"]["resamples"] == 300
    assert [p["delta"] for p in after["probes"]] == [p["delta"] for p in before["probes"]]


def test_report_of_a_missing_run_is_one_line(tmp_path):
    res = CliRunner().invoke(main, ["report", str(tmp_path / "nope")])
    assert res.exit_code == 1 and "no such run directory" in res.output


def test_compare_tabulates_runs(runs, tmp_path):
    page = tmp_path / "cmp.html"
    res = _invoke("compare", str(runs["longer"][0]), str(runs["oracle"][0]), "--html", str(page))
    assert res.exit_code == 0, res.output
    assert "synthetic:longer" in res.output and "synthetic:oracle" in res.output and "delta verbose" in res.output
    assert "data:image/png;base64," in page.read_text()
    res = _invoke("compare", str(runs["longer"][0]), str(runs["oracle"][0]), "--json")
    rows = json.loads(res.stdout)
    assert rows[0]["probes"]["verbose"] > 0.3 and rows[1]["probes"]["verbose"] == 0


def test_runs_record_judge_identity_and_compare_warns_on_differences(runs, tmp_path):
    longer = json.loads((runs["longer"][0] / "results.json").read_text())
    ident = longer["judge_identity"]
    # a synthetic judge reads no prompt and loads no weights
    assert ident["spec"] == "synthetic:longer" and ident["template"] == "none" and ident["template_hash"] is None
    assert ident["model"] is None
    assert ident["toolkit_version"] and len(ident["items_hash"]) == 64
    config = json.loads((runs["longer"][0] / "config.json").read_text())
    assert config["judge_identity"] == ident
    # same judge, other seed: the items hash and the seed differ
    other = tmp_path / "seed1"
    res = _invoke("probe", "--judge", "synthetic:longer", "--out", str(other), *QUICK, "--seed", "1")
    assert res.exit_code == 0, res.output
    res = _invoke("compare", str(runs["longer"][0]), str(other))
    assert res.exit_code == 0
    assert "differ in seed: 0 vs 1" in res.stderr and "differ in judge items_hash" in res.stderr
    assert "differ in judge spec" not in res.stderr
    res = _invoke("compare", str(runs["longer"][0]), str(runs["oracle"][0]))
    assert "differ in judge spec: synthetic:longer vs synthetic:oracle" in res.stderr
    same = _invoke("compare", str(runs["longer"][0]), str(runs["longer"][0]))
    assert "warning" not in same.stderr
