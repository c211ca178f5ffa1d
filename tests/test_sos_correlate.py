"""Importing SOS results in three formats, joining names, and correlating with judge scores."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy.stats import kendalltau, spearmanr

from judgeaudit.cli import main
from judgeaudit.errors import InputError
from judgeaudit.sos.correlate import correlate_files, join_names, read_judge_scores
from judgeaudit.sos.importers import benchmark_scores, read_sos_file
from judgeaudit.sos.spec import load_specs

DATA = Path(__file__).parent / "data" / "sos"


@pytest.fixture(scope="module")
def specs():
    return load_specs()


def test_wide_csv_becomes_benchmark_scores(specs):
    scores = read_sos_file(DATA / "wide.csv", specs)
    a = scores["model-a"]
    assert a["mmlu_pro"] == pytest.approx(0.30)
    assert a["ifeval"] == pytest.approx((0.50 + 0.40 + 0.45 + 0.35) / 4)
    assert a["wmdp"] == pytest.approx(1 - 0.50)  # the group value, inverted
    assert a["xstest"] == pytest.approx(0.60)
    assert "xstest" not in scores["model-d"]  # empty cell: missing, not zero
    assert "bbh" not in a


def test_size_weighted_group_from_subtasks_uses_reference_sizes(specs):
    sizes = {s.lm_eval_task: s.reference_size for s in specs["bbq"].subtasks}
    metrics = {task: {"acc": 0.5 + 0.01 * i} for i, task in enumerate(sizes)}
    expect = sum(metrics[t]["acc"] * n for t, n in sizes.items()) / sum(sizes.values())
    assert benchmark_scores(metrics, specs)["bbq"] == pytest.approx(expect)
    del metrics["bbq_age"]
    assert "bbq" not in benchmark_scores(metrics, specs)
    # BBH: plain mean of the subtasks even when a (size-weighted) group value is present.
    bbh = {s.lm_eval_task: {"acc_norm": 0.1 * (i % 5)} for i, s in enumerate(specs["bbh"].subtasks)}
    bbh["leaderboard_bbh"] = {"acc_norm": 0.99}
    assert benchmark_scores(bbh, specs)["bbh"] == pytest.approx(sum(v["acc_norm"] for k, v in bbh.items()
                                                                    if k != "leaderboard_bbh") / 24)


def test_lm_eval_json_and_judgeaudit_results(tmp_path, specs):
    lm = {"results": {"xstest": {"alias": "xstest", "acc,none": 0.7, "acc_stderr,none": 0.02},
                      "leaderboard_mmlu_pro": {"acc,none": 0.33}},
          "config": {"model": "hf", "model_args": "pretrained=org/my-model,dtype=bfloat16"}}
    (tmp_path / "lm.json").write_text(json.dumps(lm))
    assert read_sos_file(tmp_path / "lm.json", specs) == {"org/my-model": {"xstest": 0.7, "mmlu_pro": 0.33}}
    ours = {"format": "judgeaudit.sos/1", "model": {"model": "smollm2"},
            "benchmarks": {"xstest": {"score": 0.5}, "cdna": {"score": None}}}
    (tmp_path / "ours.json").write_text(json.dumps(ours))
    assert read_sos_file(tmp_path / "ours.json", specs) == {"smollm2": {"xstest": 0.5}}


def test_join_by_map_then_by_name():
    pairs = join_names(["model-a", "Model-B", "model-c", "zzz"], ["model-a", "model-b", "judge-name-c"],
                       {"model-c": "judge-name-c"})
    assert pairs == [("model-a", "model-a"), ("Model-B", "model-b"), ("model-c", "judge-name-c")]


def test_correlations_match_scipy_and_intervals_cover(specs):
    result = correlate_files([str(DATA / "wide.csv")], str(DATA / "judge.csv"), str(DATA / "name_map.csv"),
                             n_resamples=300)
    assert len(result.matched) == 5 and result.unmatched_judge == ["unrelated-model"]
    by = {f.factor: f for f in result.factors}
    ifs = by["if"]
    judge = {"model-a": 30, "Model-B": 40, "model-c": 10, "model-d": 55, "model-e": 20}
    x = [p[1] for p in ifs.points]
    y = [judge[p[0]] for p in ifs.points]
    assert ifs.n == 5 and ifs.spearman == pytest.approx(spearmanr(x, y).statistic) == pytest.approx(1.0)
    assert ifs.kendall == pytest.approx(kendalltau(x, y).statistic)
    wk = by["wk"]
    assert wk.spearman == pytest.approx(-1.0)  # mmlu_pro runs opposite to the judge here
    assert wk.spearman_ci[0] <= wk.spearman <= wk.spearman_ci[1]
    assert by["safety"].n == 5  # model-d has wmdp only: the factor is the mean of what it has


def test_bad_judge_csv_names_line_and_field(tmp_path):
    path = tmp_path / "j.csv"
    path.write_text("model,score\na,1\nb,lots\n")
    with pytest.raises(InputError, match=r"j.csv:3: field 'score': not a number"):
        read_judge_scores(path)
    path.write_text("name,score\na,1\n")
    with pytest.raises(InputError, match=r"j.csv:1: field 'model': missing column"):
        read_judge_scores(path)


def test_correlate_command_writes_table_and_report(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["correlate", "--sos", str(DATA / "wide.csv"), "--judge-scores",
                                    str(DATA / "judge.csv"), "--name-map", str(DATA / "name_map.csv"),
                                    "--out", str(out), "--n-resamples", "100"])
    assert res.exit_code == 0, res.output
    assert "Instruction following" in res.output and "1.000" in res.output
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    doc = json.loads((out / "results.json").read_text())
    assert doc["statistics"]["n_resamples"] == 100 and len(doc["matched"]) == 5
    bad = CliRunner().invoke(main, ["correlate", "--sos", str(tmp_path / "nope.csv"), "--judge-scores",
                                    str(DATA / "judge.csv"), "--out", str(tmp_path / "o2")])
    assert bad.exit_code == 1 and "nope.csv: no such file" in bad.output and not (tmp_path / "o2").exists()


def test_bom_csv_is_read_and_bad_bytes_are_one_line(tmp_path):
    from judgeaudit.sos.correlate import read_name_map

    path = tmp_path / "j.csv"
    path.write_bytes(b"\xef\xbb\xbfmodel,score\na,1\nb,2\n")  # as spreadsheet programs save "CSV UTF-8"
    assert read_judge_scores(path) == {"a": 1.0, "b": 2.0}
    path.write_bytes(b"model,score\na,1\nb\xff,2\n")
    with pytest.raises(InputError, match=r"j.csv:3: not UTF-8 text \(byte 0xff"):
        read_judge_scores(path)
    names = tmp_path / "map.csv"
    names.write_text("sos_model,judge_model\nm1,judge-x\nm2,judge-x\n")
    with pytest.raises(InputError, match=r"map.csv:3: field 'judge_model': 'judge-x' is already the judge model of 'm1'"):
        read_name_map(names)


def test_a_constant_column_is_explained(specs):
    from judgeaudit.sos.correlate import correlate_scores

    sos = {f"m{i}": {"ifeval": 0.1 * i, "mmlu_pro": 0.1 * i} for i in range(1, 6)}
    result = correlate_scores(sos, {f"m{i}": 7.0 for i in range(1, 6)}, specs=specs, n_resamples=100)
    assert all(fc.spearman is None for fc in result.factors if fc.n >= 3)
    assert any("judge scores are the same (7) for all 5 models" in n for n in result.notes)


def test_out_under_a_file_is_one_line_before_any_work(tmp_path, monkeypatch):
    import judgeaudit.models.loading as loading

    def no_loading(*a, **k):
        raise AssertionError("the model must not be loaded for an unwritable --out")

    monkeypatch.setattr(loading, "load_model", no_loading)
    monkeypatch.setattr(loading, "load_lm", no_loading)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = CliRunner().invoke(main, ["sos", "--model", "smollm2", "--fixtures", "--tasks", "ifeval",
                                    "--out", str(blocker / "run")])
    assert res.exit_code == 1 and "cannot write there" in res.output and res.output.count("\n") == 1, res.output
    res = CliRunner().invoke(main, ["correlate", "--sos", str(DATA / "wide.csv"), "--judge-scores",
                                    str(DATA / "judge.csv"), "--out", str(blocker / "o")])
    assert res.exit_code == 1 and "cannot write there" in res.output and res.output.count("\n") == 1, res.output
