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


PLUGINS = {
    "exits_in_judge": "def judge_pair(prompt, a, b):\n    import sys\n    sys.exit(0)\n",
    "exits_on_import": "import sys\nsys.exit(0)\ndef judge_pair(prompt, a, b):\n    return 'A=B'\n",
    "raises": "def judge_pair(prompt, a, b):\n    raise RuntimeError('backend down')\n",
    "batch_none": "class J:\n    name = 'j'\n    def judge_batch(self, requests):\n        return None\njudge = J()\n",
    "batch_short": "class J:\n    name = 'j'\n    def judge_batch(self, requests):\n        return []\njudge = J()\n",
    "batch_items_none": "class J:\n    name = 'j'\n    def judge_batch(self, requests):\n        return [None] * len(requests)\njudge = J()\n",
}


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_misbehaving_plugin_judges_never_pass_an_audit(tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(PLUGINS[name])
    attr = "judge" if "batch" in name else "judge_pair"
    for command, code, extra in (("audit", 2, ["--no-sos"]), ("probe", 1, [])):
        res = CliRunner().invoke(main, [command, "--judge", f"{path}:{attr}", "--out", str(tmp_path / command),
                                        *extra, *QUICK])
        assert res.exit_code == code, (command, res.output)
        assert res.output.startswith("Error: ") and res.output.count("\n") == 1, res.output
        assert "plugin judge" in res.output or "sys.exit" in res.output


def test_a_second_process_on_the_same_run_directory_is_refused(tmp_path):
    from judgeaudit.runstore import locked

    with locked(tmp_path / "run"):  # another process holding the directory (flock is per open file)
        res = CliRunner().invoke(main, ["probe", "--judge", "synthetic:oracle", "--out", str(tmp_path / "run"), *QUICK])
    assert res.exit_code == 1 and "another judgeaudit process" in res.output and res.output.count("\n") == 1
    assert not (tmp_path / "run" / "records.jsonl").exists()
    res = CliRunner().invoke(main, ["probe", "--judge", "synthetic:oracle", "--out", str(tmp_path / "run"), *QUICK])
    assert res.exit_code == 0, res.output  # released once the holder is done


def test_a_run_that_failed_before_its_first_record_restarts_with_corrected_settings(tmp_path, monkeypatch):
    import socket

    monkeypatch.setenv("JUDGEAUDIT_TEST_KEY", "sk-test-restart-0000")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = str(tmp_path / "run")
    res = CliRunner().invoke(main, ["probe", "--judge", "gpt-4o", "--api-base", f"http://127.0.0.1:{port}/v1",
                                    "--api-key-env", "JUDGEAUDIT_TEST_KEY", "--out", out, *QUICK])
    assert res.exit_code == 1 and "connection refused" in res.output
    res = CliRunner().invoke(main, ["probe", "--judge", "synthetic:oracle", "--out", out, *QUICK])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "run" / "config.json").read_text())["judge"] == "synthetic:oracle"
    # Once judgments are recorded, another judge is still refused.
    res = CliRunner().invoke(main, ["probe", "--judge", "synthetic:longer", "--out", out, *QUICK])
    assert res.exit_code == 1 and "different judge" in res.output


def _records(run_dir):
    return (run_dir / "records.jsonl").read_text().splitlines()


def test_recompute_uses_only_the_records_of_the_runs_settings_and_says_what_it_left_out(tmp_path):
    run_dir = tmp_path / "run"
    base = ["probe", "--judge", "synthetic:longer", "--out", str(run_dir), "--battery", "quick", "--resamples", "200",
            "--no-progress"]
    assert _invoke(*base, "--limit", "8", "--repeats", "2").exit_code == 0
    small = _invoke(*base, "--limit", "4")
    assert small.exit_code == 0
    expected = json.loads((run_dir / "results.json").read_text())
    lines = _records(run_dir)
    (run_dir / "records.jsonl").write_text("\n".join(lines + lines[:3]) + "\n")  # duplicated lines
    res = CliRunner().invoke(main, ["report", str(run_dir), "--recompute", "--resamples", "200"])
    assert res.exit_code == 0, res.output
    got = json.loads((run_dir / "results.json").read_text())
    assert got["n_judgments"] == expected["n_judgments"] and got["n_items"] == expected["n_items"]
    assert [p["delta"] for p in got["probes"]] == [p["delta"] for p in expected["probes"]]
    account = got["run"]["recompute"]
    assert account["left_out"]["duplicate_key"] == 3 and account["left_out"]["other_pairs"] > 0
    assert account["left_out"]["other_repeats"] > 0 and account["missing"] == 0
    assert "left out" in res.output
    # Truncated to half (at a line boundary): the missing judgments are named.
    kept = [line for line in lines if json.loads(line)["repeat"] == 0][: expected["n_judgments"] // 2]
    (run_dir / "records.jsonl").write_text("\n".join(kept) + "\n")
    res = CliRunner().invoke(main, ["report", str(run_dir), "--recompute", "--resamples", "200"])
    assert res.exit_code == 0 and "planned judgments are missing" in res.output, res.output


def test_report_and_dry_run_never_rewrite_records_and_plain_report_does_not_read_them(runs, tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(runs["oracle"][0], run_dir)
    damaged = (run_dir / "records.jsonl").read_bytes() + b'{"key": "torn'
    (run_dir / "records.jsonl").write_bytes(damaged)
    assert _invoke("report", str(run_dir)).exit_code == 0
    assert _invoke("probe", "--judge", "synthetic:oracle", "--out", str(run_dir), "--dry-run", *QUICK).exit_code == 0
    assert (run_dir / "records.jsonl").read_bytes() == damaged
    middle = damaged.split(b"\n")
    middle[2] = b"{not json"
    (run_dir / "records.jsonl").write_bytes(b"\n".join(middle))
    assert _invoke("report", str(run_dir)).exit_code == 0  # results.json is all a plain report needs
    res = CliRunner().invoke(main, ["report", str(run_dir), "--recompute"])
    assert res.exit_code == 1 and "records.jsonl:3: invalid JSON" in res.output and res.output.count("\n") == 1
    middle[2] = b'{"pair_id": "x"}'
    (run_dir / "records.jsonl").write_bytes(b"\n".join(middle))
    res = CliRunner().invoke(main, ["report", str(run_dir), "--recompute"])
    assert res.exit_code == 1 and "records.jsonl:3: field 'key': missing" in res.output


@pytest.mark.parametrize("config,needle", [(b"\xff\xfe garbage", "not UTF-8"), (b"[1, 2]", "expected a JSON object"),
                                           (b"{\"judge\": 3}", "field 'judge'"), (b"{oops", "invalid JSON")])
def test_garbage_config_is_one_line(runs, tmp_path, config, needle):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(runs["oracle"][0], run_dir)
    (run_dir / "config.json").write_bytes(config)
    for args in (["report", str(run_dir), "--recompute"],
                 ["probe", "--judge", "synthetic:oracle", "--out", str(run_dir), *QUICK]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1 and res.output.startswith("Error: ") and "config.json" in res.output, res.output
        assert res.output.count("\n") == 1 and (needle in res.output or args[0] == "probe")


def test_run_files_all_get_the_same_permissions(tmp_path):
    import os
    import stat

    old = os.umask(0o027)
    try:
        res = CliRunner().invoke(main, ["probe", "--judge", "synthetic:oracle", "--out", str(tmp_path / "run"), *QUICK])
    finally:
        os.umask(old)
    assert res.exit_code == 0, res.output
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "run").iterdir() if p.is_file()}
    assert {"config.json", "records.jsonl", "results.json", "report.html"} <= set(modes)
    assert set(modes.values()) == {0o640}, modes


def test_compare_warns_when_runs_differ_in_battery_seed_or_limit(runs, tmp_path):
    other = tmp_path / "other"
    assert _invoke("probe", "--judge", "synthetic:oracle", "--out", str(other), "--battery", "quick", "--limit", "4",
                   "--seed", "3", "--resamples", "200", "--no-progress").exit_code == 0
    res = CliRunner().invoke(main, ["compare", str(runs["longer"][0]), str(other)])
    assert res.exit_code == 0, res.output
    assert "Warning: runs differ in seed" in res.output and "Warning: runs differ in --limit" in res.output
    assert "differ in battery" not in res.output
    same = CliRunner().invoke(main, ["compare", str(runs["longer"][0]), str(runs["oracle"][0])])
    assert "runs differ" not in same.output  # same settings; only the judges differ (and are named)
    assert "differ in judge spec" in same.output


@pytest.mark.parametrize("content,needle", [(b"[]", "expected a JSON object"), (b'{"judge": "x"}', "field"),
                                            (b"\xff{}", "not UTF-8"), (b'{"judge": "x", "battery": "b", "seed": 0, '
                                             b'"n_judgments": 1, "unparsed": 0, "probes": [{"kind": "style"}], '
                                             b'"indices": {}}', "probes.0.name")])
def test_results_of_the_wrong_shape_are_one_line_in_report_and_compare(runs, tmp_path, content, needle):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "results.json").write_bytes(content)
    for args in (["report", str(bad)], ["compare", str(runs["oracle"][0]), str(bad)]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1 and res.output.startswith("Error: ") and needle in res.output, res.output
        assert res.output.count("\n") == 1


def test_compare_html_to_an_unwritable_path_is_one_line_before_output(runs, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = CliRunner().invoke(main, ["compare", str(runs["oracle"][0]), "--html", str(blocker / "cmp.html")])
    assert res.exit_code == 1 and res.output.startswith("Error: ") and res.output.count("\n") == 1, res.output


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
    assert "runs differ in seed" in res.stderr and "differ in judge items_hash" in res.stderr
    assert "differ in judge spec" not in res.stderr
    res = _invoke("compare", str(runs["longer"][0]), str(runs["oracle"][0]))
    assert "differ in judge spec: synthetic:longer vs synthetic:oracle" in res.stderr
    same = _invoke("compare", str(runs["longer"][0]), str(runs["longer"][0]))
    assert "warning" not in same.stderr.lower()


def test_dtype_reaches_the_local_judge(tmp_path, monkeypatch):
    import judgeaudit.audit as audit

    seen = {}

    def fake_run_probe(judge, **kw):
        seen.update(kw, judge=judge)
        raise SystemExit(0)

    monkeypatch.setattr(audit, "run_probe", fake_run_probe)
    CliRunner().invoke(main, ["probe", "--judge", "smollm2", "--dtype", "bfloat16", "--out", str(tmp_path / "r")])
    assert seen["judge"] == "smollm2" and seen["judge_options"] == {"dtype": "bfloat16"}
    seen.clear()
    CliRunner().invoke(main, ["probe", "--judge", "smollm2", "--out", str(tmp_path / "r")])
    assert "dtype" not in (seen.get("judge_options") or {})
    bad = CliRunner().invoke(main, ["probe", "--judge", "smollm2", "--dtype", "int8", "--out", str(tmp_path / "r")])
    assert bad.exit_code == 2 and "int8" in bad.output
