"""`judgeaudit arena` and `judgeaudit logs`: layouts, planted judges, the fit, resume, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from click.testing import CliRunner

from judgeaudit.arena.fitting import clustered_cov, fit_arena, logit_fit, position_stats
from judgeaudit.arena.games import Game
from judgeaudit.arena.layouts import load_corpus
from judgeaudit.arena.run import run_arena, run_logs
from judgeaudit.cli import main
from judgeaudit.errors import InputError
from judgeaudit.judges.protocol import point_mass
from judgeaudit.sos.correlate import read_judge_scores

DATA = Path(__file__).parent / "data" / "arena"
JUDGES = DATA / "judges.py"
AH = DATA / "arena_hard"
MODELS = ("base-model", "fluffy-model", "sharp-model", "verbose-model")


def _arena(tmp_path: Path, judge: str, name: str = "run", **kw):
    return run_arena(f"{JUDGES}:{judge}", answers=AH / "model_answer", questions=AH / "question.jsonl",
                     baseline="base-model", out=tmp_path / name, progress=False, resamples=400, **kw)


@pytest.fixture(scope="module")
def longer_run(tmp_path_factory):
    return _arena(tmp_path_factory.mktemp("longer"), "longer")


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    return _arena(tmp_path_factory.mktemp("oracle"), "oracle")


def _by_name(results):
    return {m["name"]: m for m in results["models"]}


# -- layouts ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout,questions,fmt", [
    ("arena_hard", "question.jsonl", None),
    ("arena_hard_v01", "question.jsonl", "arena-hard"),
    ("mt_bench", "question.jsonl", "mt-bench"),
])
def test_every_layout_reads_the_same_corpus(layout, questions, fmt):
    ref = load_corpus(AH / "question.jsonl", AH / "model_answer")
    c = load_corpus(DATA / layout / questions, DATA / layout / "model_answer", fmt)
    assert sorted(c.answers) == list(MODELS)
    assert [q.prompt for q in c.questions.values()] == [q.prompt for q in ref.questions.values()]
    for model in MODELS:
        assert [c.answers[model][q] for q in c.questions] == [ref.answers[model][q] for q in ref.questions]
    if layout == "mt_bench":
        q0 = next(iter(c.questions))
        assert c.questions[q0].turns == 2 and "matters most" in c.answer("sharp-model", q0, 2)


def test_alpaca_eval_outputs_need_no_question_file():
    ref = load_corpus(AH / "question.jsonl", AH / "model_answer")
    c = load_corpus(None, DATA / "alpaca_eval" / "outputs")
    assert c.fmt == "alpaca-eval" and sorted(c.answers) == list(MODELS)
    assert [c.answers["verbose-model"][q] for q in c.questions] == \
        [ref.answers["verbose-model"][q] for q in ref.questions]


BAD_QUESTIONS = [
    ('{"uid": "a", "prompt": "x"}\n{"uid": "b"}\n', "question.jsonl:2: field 'prompt'"),
    ('{"uid": "a", "prompt": "x"}\n{"text": "y"}\n', "question.jsonl:2: field 'uid'"),
    ('{"question_id": 1, "turns": "not a list"}\n', "question.jsonl:1: field 'turns'"),
    ('{"uid": "a", "prompt": "x"}\n{"uid": "a", "prompt": "y"}\n', "question.jsonl:2: field 'uid'"),
    ('{"uid": "a", "prompt": "x"}\n{broken\n', "question.jsonl:2: invalid JSON"),
]


@pytest.mark.parametrize("text,message", BAD_QUESTIONS)
def test_bad_question_lines_name_file_line_and_field(tmp_path, text, message):
    (tmp_path / "question.jsonl").write_text(text)
    with pytest.raises(InputError) as err:
        load_corpus(tmp_path / "question.jsonl", AH / "model_answer")
    assert message in str(err.value)


BAD_ANSWERS = [
    ('{"uid": "q00", "model": "m"}\n', "m.jsonl:1: field 'choices'"),
    ('{"uid": "q00", "messages": [{"role": "user", "content": "x"}]}\n', "m.jsonl:1: field 'messages'"),
    ('{"question_id": "q00", "choices": [{"turns": [{"content": 5}]}]}\n', "m.jsonl:1: field 'choices[0].turns[0].content'"),
    ('{"answer": "no id"}\n', "m.jsonl:1: field 'uid'"),
]


@pytest.mark.parametrize("text,message", BAD_ANSWERS)
def test_bad_answer_lines_name_file_line_and_field(tmp_path, text, message):
    (tmp_path / "m.jsonl").write_text(text)
    with pytest.raises(InputError) as err:
        load_corpus(AH / "question.jsonl", tmp_path)
    assert message in str(err.value)


def test_bad_alpaca_list_entry_names_its_line(tmp_path):
    (tmp_path / "m.json").write_text('[\n  {"instruction": "a", "output": "b", "generator": "m"},\n'
                                     '  {"instruction": "c", "generator": "m"}\n]\n')
    with pytest.raises(InputError, match=r"m.json:3: field 'uid'"):
        load_corpus(None, tmp_path)


# -- planted judges ------------------------------------------------------------------------------------------
def test_prefers_longer_judge_pays_for_length_and_control_pulls_scores_to_the_baseline(longer_run):
    r = longer_run.results
    length = r["style"]["length"]
    assert length["coef"] > 0 and length["ci_low"] > 0 and length["p_value"] < 0.01
    models = [m for m in r["models"] if m["name"] != "base-model"]
    raw = np.mean([abs(m["score"] - 0.5) for m in models])
    ctrl = np.mean([abs(m["controlled_score"] - 0.5) for m in models])
    assert ctrl < 0.6 * raw
    by = _by_name(r)
    # The longest model wins most raw and loses that lead once length is held equal; the shortest gains.
    assert by["verbose-model"]["score"] > 0.7 and by["verbose-model"]["controlled_score"] < by["verbose-model"]["score"] - 0.1
    assert by["sharp-model"]["score"] < 0.2 and by["sharp-model"]["controlled_score"] > by["sharp-model"]["score"] + 0.1
    assert r["position"]["first_position_rate"] == pytest.approx(0.5)


def test_oracle_judge_length_interval_holds_zero(oracle_run):
    length = oracle_run.results["style"]["length"]
    assert length["ci_low"] < 0 < length["ci_high"] and length["p_value"] > 0.05
    by = _by_name(oracle_run.results)
    # Substance, not length, orders the models: the fact-poor markdown model is last either way.
    assert by["fluffy-model"]["rank"] == 4 and by["fluffy-model"]["controlled_rank"] == 4


def test_results_keys_are_the_documented_ones(longer_run):
    r = longer_run.results
    assert set(r) == {"models", "style", "position", "method"}
    assert set(r["models"][0]) == {"name", "n", "score", "ci_low", "ci_high", "rank", "bt_score", "controlled_score",
                                   "controlled_ci_low", "controlled_ci_high", "controlled_rank", "mean_words"}
    assert list(r["style"]) == ["length", "header_density", "list_density", "bold_density"]
    for s in r["style"].values():
        assert {"coef", "ci_low", "ci_high", "p_value", "definition"} <= set(s)
    assert r["method"]["bootstrap"] == {"resamples": 400, "seed": 0, "level": 0.95, "cluster": "question",
                                        "interval": "percentile", "n_questions": 24}
    assert r["method"]["judgments"] == {"total": 144, "parsed": 144, "unparsed": 0, "missing": 0}
    html = (longer_run.dir / "report.html").read_text()
    assert "Price of style" in html and "controlled rank" in html and "data:image/png;base64" in html


def test_judge_scores_csv_is_what_correlate_reads(longer_run):
    scores = read_judge_scores(longer_run.dir / "judge_scores.csv")
    assert scores == {m["name"]: pytest.approx(m["score"]) for m in longer_run.results["models"]}


def test_logs_on_the_records_arena_wrote_gives_the_same_numbers(longer_run, tmp_path):
    jdir = longer_run.dir / "model_judgment" / "planted-longer"
    assert sorted(p.stem for p in jdir.glob("*.jsonl")) == ["fluffy-model", "sharp-model", "verbose-model"]
    logs = run_logs("arena-hard", jdir, answers=AH / "model_answer", questions=AH / "question.jsonl",
                    out=tmp_path / "logs", resamples=400)
    a, b = longer_run.results, logs.results
    assert json.dumps(a["models"]) == json.dumps(b["models"])
    assert json.dumps(a["style"]) == json.dumps(b["style"])
    assert a["position"] == b["position"] and b["method"]["judge"] == "planted-longer"


def test_resume_judges_nothing_twice(tmp_path):
    first = _arena(tmp_path, "oracle", models=["sharp-model"], limit=5)
    assert first.n_judged_now == 10
    second = _arena(tmp_path, "oracle", models=["sharp-model", "fluffy-model"], limit=5)
    assert second.n_judged_now == 10  # only the new model's games
    lines = (tmp_path / "run" / "records.jsonl").read_text().splitlines()
    assert len(lines) == 20 and len({json.loads(x)["key"] for x in lines}) == 20
    assert _by_name(second.results)["sharp-model"]["score"] == _by_name(first.results)["sharp-model"]["score"]


# -- the statistics ------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:cov_type not fully supported")
def test_unpenalized_fit_and_clustered_errors_match_statsmodels():
    rng = np.random.default_rng(3)
    n, groups = 300, rng.integers(0, 30, 300)
    X = np.column_stack([rng.choice([-1.0, 0.0, 1.0], n), rng.normal(size=n)])
    y = np.clip(0.5 + 0.3 * X[:, 0] + 0.2 * X[:, 1] + rng.normal(0, 0.2, n), 0.01, 0.99)
    w = rng.choice([1.0, 3.0], n)
    beta = logit_fit(X, y, w)
    ref = sm.GLM(y, X, family=sm.families.Binomial(), var_weights=w).fit(cov_type="cluster",
                                                                         cov_kwds={"groups": groups})
    np.testing.assert_allclose(beta, ref.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(clustered_cov(X, y, w, beta, groups))), ref.bse, rtol=1e-6)


def _game(q, a, b, verdict, ta="x", tb="y"):
    return Game(q, a, b, ta, tb, point_mass(verdict) if verdict else None)


def test_win_rate_counts_ties_half_and_strong_verdicts_by_weight():
    games = [_game("q1", "base", "m", "B>>A"), _game("q1", "m", "base", "A>B"),
             _game("q2", "base", "m", "A=B"), _game("q2", "m", "base", "B>A"),
             _game("q3", "base", "m", None)]
    one = {m.name: m for m in fit_arena(games, "base", resamples=200).models}["m"]
    three = {m.name: m for m in fit_arena(games, "base", strong_weight=3, resamples=200).models}["m"]
    assert one.score == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    assert three.score == pytest.approx((3 + 1 + 0.5 + 0) / 6)
    assert one.n == 2


def test_position_reading_over_both_orders():
    games = [_game("q1", "a", "b", "A>B"), _game("q1", "b", "a", "B>A"),  # consistent: a wins twice
             _game("q2", "a", "b", "A>B"), _game("q2", "b", "a", "A>B"),  # first position wins twice
             _game("q3", "a", "b", "A=B"), _game("q3", "b", "a", "A>B"),  # tie then b
             _game("q4", "a", "b", "A>B")]  # one order only
    pos = position_stats(games)
    assert pos["n_pairs_both_orders"] == 3
    assert pos["consistency"] == pytest.approx(1 / 3) and pos["biased_first"] == pytest.approx(1 / 3)
    assert pos["first_position_rate"] == pytest.approx((1 + 0 + 1 + 1 + 0.5 + 1 + 1) / 7)


# -- logs ------------------------------------------------------------------------------------------------------
def test_logs_count_unparsed_and_missing_in_every_format(tmp_path):
    v01 = DATA / "arena_hard_v01"
    ah = run_logs("arena-hard", v01 / "model_judgment" / "longer-rule", answers=v01 / "model_answer",
                  questions=v01 / "question.jsonl", baseline="base-model", out=tmp_path / "ah", resamples=200)
    assert ah.results["method"]["judgments"] == {"total": 142, "parsed": 141, "unparsed": 1, "missing": 2}
    mt = DATA / "mt_bench"
    single = run_logs("mt-bench-single", mt / "model_judgment" / "gpt-4_single.jsonl", answers=mt / "model_answer",
                      questions=mt / "question.jsonl", out=tmp_path / "s", resamples=200)
    assert single.results["method"]["judgments"]["unparsed"] == 1
    # Ratings follow the facts only: no length effect, and the fact-poor model rates last.
    length = single.results["style"]["length"]
    assert length["ci_low"] < 0 < length["ci_high"]
    assert single.results["models"][-1]["name"] == "fluffy-model"
    pair = run_logs("mt-bench-pair", mt / "model_judgment" / "gpt-4_pair.jsonl", answers=mt / "model_answer",
                    questions=mt / "question.jsonl", out=tmp_path / "p", resamples=200)
    assert pair.results["method"]["baseline"] == "base-model"
    assert pair.results["method"]["judgments"]["unparsed"] == 1
    assert pair.results["style"]["length"]["ci_low"] > 0
    alp = run_logs("alpaca-eval", DATA / "alpaca_eval" / "annotations.json", out=tmp_path / "a", resamples=200)
    assert alp.results["method"]["judgments"]["unparsed"] == 1
    assert alp.results["position"]["consistency"] is None
    assert alp.results["style"]["length"]["ci_low"] > 0


def test_null_games_and_fractional_preferences_are_read(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"uid": "q00", "model": "sharp-model", "baseline": "base-model", "games": [null, '
                    '{"score": "A<<B"}]}\n{"uid": "q01", "model": "sharp-model", "baseline": "base-model", '
                    '"games": [{"score": "B=A"}]}\n')
    run = run_logs("arena-hard", path, answers=AH / "model_answer", questions=AH / "question.jsonl",
                   out=tmp_path / "o", resamples=100)
    # null game: unparsed; A<<B with the model as A: a strong loss; B=A: a tie; the second game of q01 missing.
    assert run.results["method"]["judgments"] == {"total": 3, "parsed": 2, "unparsed": 1, "missing": 1 + 2 * 22}
    assert _by_name(run.results)["sharp-model"]["score"] == pytest.approx(0.25)
    ann = tmp_path / "a.json"
    ann.write_text(json.dumps([{"instruction": "i", "output_1": "a", "output_2": "b b", "generator_1": "ref",
                                "generator_2": "m", "preference": 1.75},
                               {"instruction": "j", "output_1": "a", "output_2": "b", "generator_1": "ref",
                                "generator_2": "m", "preference": 2.0000000001}]))
    alp = run_logs("alpaca-eval", ann, out=tmp_path / "a", resamples=100)
    assert _by_name(alp.results)["m"]["score"] == pytest.approx((0.75 + 1.0) / 2)


BAD_LOGS = [
    ("arena-hard", '{"question_id": "q00", "model": "sharp-model", "games": [{"score": 3}]}\n',
     "j.jsonl:1: field 'games[0].score'"),
    ("arena-hard", '{"question_id": "q00", "model": "sharp-model"}\n', "j.jsonl:1: field 'games'"),
    ("arena-hard", '{"question_id": "zz", "model": "sharp-model", "games": []}\n', "j.jsonl:1: field 'question_id'"),
    ("arena-hard", '{"question_id": "q00", "model": "nobody", "games": []}\n', "j.jsonl:1: field 'model'"),
    ("mt-bench-pair", '{"question_id": "q00", "model_1": "sharp-model", "model_2": "base-model", '
                      '"g1_winner": "maybe", "g2_winner": "tie"}\n', "j.jsonl:1: field 'g1_winner'"),
    ("mt-bench-single", '{"question_id": "q00", "model": "sharp-model", "score": "ten"}\n',
     "j.jsonl:1: field 'score'"),
    ("alpaca-eval", '[{"instruction": "a", "output_1": "b", "output_2": "c", "generator_1": "x", '
                    '"generator_2": "y", "preference": 7}]', "j.jsonl:1: field 'preference'"),
]


@pytest.mark.parametrize("fmt,text,message", BAD_LOGS)
def test_bad_log_line_is_one_error_with_no_output(tmp_path, fmt, text, message):
    path = tmp_path / "j.jsonl"
    path.write_text('{"question_id": "q01", "model": "sharp-model", "games": [{"score": "A>B"}, {"score": "B>A"}]}\n'
                    + text if fmt == "arena-hard" else text)
    if fmt == "arena-hard":
        message = message.replace(":1:", ":2:")
    args = ["logs", "--format", fmt, "--judgments", str(path), "--out", str(tmp_path / "out"), "--baseline",
            "base-model"]
    if fmt != "alpaca-eval":
        args += ["--answers", str(AH / "model_answer"), "--questions", str(AH / "question.jsonl")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code != 0
    assert message in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


# -- the command line ------------------------------------------------------------------------------------------
def test_arena_dry_run_counts_judgments_and_calls_nothing(tmp_path):
    res = CliRunner().invoke(main, ["arena", "--judge", "synthetic:longer", "--answers", str(AH / "model_answer"),
                                    "--questions", str(AH / "question.jsonl"), "--baseline", "base-model",
                                    "--limit", "5", "--dry-run", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "judgments: 30 (both orders)" in res.output and not (tmp_path / "o").exists()


def test_arena_command_with_sos_correlates_on_the_spot(tmp_path):
    sos = tmp_path / "sos.csv"
    sos.write_text("Name,leaderboard_mmlu_pro/acc,leaderboard_ifeval/inst_level_loose_acc,xstest/acc\n"
                   "base-model,0.30,0.50,0.60\nverbose-model,0.20,0.60,0.70\nsharp-model,0.40,0.40,0.65\n"
                   "fluffy-model,0.10,0.45,0.50\n")
    res = CliRunner().invoke(main, ["arena", "--judge", f"{JUDGES}:oracle", "--answers", str(AH / "model_answer"),
                                    "--questions", str(AH / "question.jsonl"), "--baseline", "base-model",
                                    "--out", str(tmp_path / "o"), "--no-progress", "--resamples", "200",
                                    "--strong-weight", "3", "--sos", str(sos)])
    assert res.exit_code == 0, res.output
    assert "base-model (baseline)" in res.output and "Price of style" in res.output
    doc = json.loads((tmp_path / "o" / "correlate" / "results.json").read_text())
    assert doc and (tmp_path / "o" / "correlate" / "report.html").exists()
    assert json.loads((tmp_path / "o" / "results.json").read_text())["method"]["strong_weight"] == 3.0


def test_arena_unknown_baseline_is_one_clear_error(tmp_path):
    res = CliRunner().invoke(main, ["arena", "--judge", "synthetic:longer", "--answers", str(AH / "model_answer"),
                                    "--questions", str(AH / "question.jsonl"), "--baseline", "gpt-4-0314",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "baseline 'gpt-4-0314' has no answers" in res.output


def test_pairwise_ref_template_shows_the_reference_answer():
    from judgeaudit.arena.run import plan_arena, template_spec
    from judgeaudit.judges.prompting import load_template

    template = load_template(template_spec("pairwise-ref"))
    assert template.name == "pairwise-ref" and template.kind == "pairwise"
    plan = plan_arena(answers=AH / "model_answer", questions=AH / "question.jsonl", baseline="base-model",
                      models=["sharp-model"], limit=2, reference="verbose-model")
    corpus = load_corpus(AH / "question.jsonl", AH / "model_answer")
    first = plan.pairs[0]
    assert corpus.answers["verbose-model"][first["item_id"]] in first["prompt"]
    assert first["prompt"].startswith(corpus.questions[first["item_id"]].prompt)
    res = CliRunner().invoke(main, ["arena", "--judge", "synthetic:longer", "--answers", str(AH / "model_answer"),
                                    "--questions", str(AH / "question.jsonl"), "--baseline", "base-model",
                                    "--template", "pairwise-ref", "--reference", "verbose-model", "--dry-run"])
    assert res.exit_code == 0 and "judgments: 96" in res.output  # the reference model is not ranked
    bad = CliRunner().invoke(main, ["arena", "--judge", "synthetic:longer", "--answers", str(AH / "model_answer"),
                                    "--questions", str(AH / "question.jsonl"), "--baseline", "base-model",
                                    "--template", "pairwise-ref", "--dry-run"])
    assert bad.exit_code == 2 and "needs --reference" in bad.output


@pytest.mark.slow
def test_arena_with_the_embedded_judge_on_the_fixtures(tmp_path):
    """smollm2 in logprob mode: every judgment parsed, a distribution per game, logs agree with arena."""
    run = run_arena("smollm2", answers=AH / "model_answer", questions=AH / "question.jsonl", baseline="base-model",
                    models=["sharp-model"], limit=4, out=tmp_path / "smol", progress=False, resamples=200)
    assert run.results["method"]["judgments"] == {"total": 8, "parsed": 8, "unparsed": 0, "missing": 0}
    records = [json.loads(x) for x in (tmp_path / "smol" / "records.jsonl").read_text().splitlines()]
    assert all(0.999 < sum(r["probs"].values()) < 1.001 and max(r["probs"].values()) < 1.0 for r in records)
    logs = run_logs("arena-hard", tmp_path / "smol" / "model_judgment" / "smollm2", answers=AH / "model_answer",
                    questions=AH / "question.jsonl", out=tmp_path / "logs", resamples=200)
    # Only 4 of the 24 questions were judged: the rest count as missing in the log view.
    assert logs.results["models"] == run.results["models"] and logs.results["method"]["judgments"]["missing"] == 40


def test_arena_dry_run_prices_an_api_judge_without_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    res = CliRunner().invoke(main, ["arena", "--judge", "gpt-4-1106-preview", "--answers", str(AH / "model_answer"),
                                    "--questions", str(AH / "question.jsonl"), "--baseline", "base-model",
                                    "--models", "sharp-model", "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "API requests: 48" in res.output and "estimated cost: $" in res.output
