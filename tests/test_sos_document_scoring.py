"""Runner, resume, aggregation and result files, with a deterministic stand-in scorer."""

import json
import re
import zlib
from types import SimpleNamespace

import numpy as np
import pytest

from judgeaudit.runstore import RunStore
from judgeaudit.sos.aggregate import combine, score_benchmark, score_factors
from judgeaudit.sos.data import DataSource
from judgeaudit.sos.document_scoring import SosOptions, SosRunner
from judgeaudit.sos.spec import load_specs, parse_spec
from judgeaudit.sos.pipeline import LM_EVAL_RESULTS, run_sos

LM = SimpleNamespace(name="stand-in", dtype="float32")
FIX = SosOptions(source=DataSource("fixtures"), n_resamples=200)


class HashScorer:
    """Log-likelihood = a fixed function of the request text; counts the requests it scores."""

    def __init__(self, fail_after_calls=None):
        self.calls = 0
        self.requests = 0
        self.fail_after_calls = fail_after_calls

    def loglikelihood(self, requests, desc=""):
        if self.fail_after_calls is not None and self.calls >= self.fail_after_calls:
            raise KeyboardInterrupt("simulated interruption")
        self.calls += 1
        self.requests += len(requests)
        return [SimpleNamespace(logprob=-(zlib.crc32((c + "|" + x).encode()) % 1000) / 100.0, is_greedy=False)
                for c, x in requests]


@pytest.fixture(scope="module")
def specs():
    return load_specs()


def run(tmp_path, tasks, scorer, **kw):
    opts = SosOptions(**{**FIX.__dict__, **kw})
    return run_sos(LM, tmp_path, tasks=tasks, options=opts, scorer=scorer, progress=False, report=lambda s: None)


def test_records_match_the_predictions(tmp_path, specs):
    scorer = HashScorer()
    result = run(tmp_path, "xstest,wmdp", scorer)
    records = RunStore(tmp_path).records()
    assert len(records) == 6 + 9 and len({r["key"] for r in records}) == len(records)
    for r in records:
        lls = np.array(r["loglikelihoods"])
        assert r["pred"] == int(np.argmax(lls)) and r["acc"] == float(r["pred"] in r["gold"])
    x = [r for r in records if r["subtask"] == "xstest"]
    bench = result.results["benchmarks"]
    assert bench["xstest"]["score"] == pytest.approx(np.mean([r["acc"] for r in x]))
    # WMDP: 1 - size-weighted acc over its three subtasks.
    w = {s: [r["acc"] for r in records if r["subtask"] == s] for s in ("wmdp_bio", "wmdp_chem", "wmdp_cyber")}
    expect = 1 - sum(sum(v) for v in w.values()) / sum(len(v) for v in w.values())
    assert bench["wmdp"]["score"] == pytest.approx(expect)
    lo, hi = bench["wmdp"]["ci"]
    assert lo <= bench["wmdp"]["score"] <= hi
    safety = result.results["factors"]["safety"]
    assert safety["score"] == pytest.approx((bench["xstest"]["score"] + expect) / 2)
    assert safety["benchmarks"] == ["xstest", "wmdp"] or set(safety["benchmarks"]) == {"xstest", "wmdp"}
    assert result.results["statistics"]["n_resamples"] == 200


def test_resume_after_interruption_scores_each_document_once(tmp_path):
    full = run(tmp_path / "full", "bbq", HashScorer()).results
    # Interrupted after 2 scoring calls (the first two 3-item subtasks), then resumed.
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut", "bbq", HashScorer(fail_after_calls=2), chunk_docs=4)
    done = len(RunStore(tmp_path / "cut").records())
    assert done == 6
    second = HashScorer()
    resumed = run(tmp_path / "cut", "bbq", second, chunk_docs=4)
    assert resumed.scored_now == 33 - 6
    records = RunStore(tmp_path / "cut").records()
    assert len(records) == 33 and len({r["key"] for r in records}) == 33
    assert resumed.results["benchmarks"] == full["benchmarks"]
    again = HashScorer()
    run(tmp_path / "cut", "bbq", again)
    assert again.requests == 0


def test_changed_model_refuses_to_resume(tmp_path):
    from judgeaudit.runstore import ConfigMismatch

    run(tmp_path, "xstest", HashScorer())
    with pytest.raises(ConfigMismatch, match="model"):
        run_sos(SimpleNamespace(name="other", dtype="float32"), tmp_path, tasks="xstest", options=FIX,
                scorer=HashScorer(), progress=False, report=lambda s: None)


def test_missing_data_is_reported_and_not_zero(tmp_path, specs):
    lines = []
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "xstest.jsonl").write_text(json.dumps({"prompt": "hi", "label": "safe"}) + "\n")
    opts = SosOptions(source=DataSource("dir", str(tmp_path / "data")), n_resamples=50)
    result = run_sos(LM, tmp_path / "run", tasks="xstest,cdna", options=opts, scorer=HashScorer(),
                     progress=False, report=lines.append)
    assert lines == [f"cdna: missing (no cdna.jsonl or cdna.parquet in {tmp_path / 'data'})"]
    bench = result.results["benchmarks"]
    assert bench["cdna"]["status"] == "missing" and bench["cdna"]["score"] is None
    safety = result.results["factors"]["safety"]
    assert safety["missing"] == ["cdna"] and safety["score"] == bench["xstest"]["score"]


def test_lm_eval_results_file(tmp_path):
    run(tmp_path, "bbq,xstest", HashScorer())
    doc = json.loads((tmp_path / LM_EVAL_RESULTS).read_text())
    records = RunStore(tmp_path).records()
    age = [r["acc"] for r in records if r["subtask"] == "bbq_age"]
    assert doc["results"]["bbq_age"]["acc,none"] == pytest.approx(np.mean(age))
    assert doc["n-samples"]["bbq_age"] == {"original": 3, "effective": 3}
    assert doc["results"]["bbq"]["acc,none"] == pytest.approx(np.mean([r["acc"] for r in records if r["benchmark"] == "bbq"]))
    assert "xstest" in doc["results"] and len(doc["group_subtasks"]["bbq"]) == 11


def test_combine_weighting_inverse_and_scale():
    base = {"name": "b", "factor": "safety", "output_type": "multiple_choice", "metric": "acc",
            "dataset": {"path": "x", "split": "test"}, "prompt": "{{q}}", "choices": ["a", "b"], "target": 0}
    assert combine(parse_spec(base, "b.yaml"), [0.2, 0.8], [1, 3]) == pytest.approx(0.5)
    sized = parse_spec({**base, "weighting": "size", "inverse": True}, "b.yaml")
    assert combine(sized, [0.2, 0.8], [1, 3]) == pytest.approx(1 - 0.65)
    gen = {**base, "output_type": "generate_until", "grader": "g", "metrics": ["score"], "scale": 0.01}
    assert combine(parse_spec(gen, "g.yaml"), [50.0, 70.0], [1, 1]) == pytest.approx(0.6)


def test_bootstrap_interval_is_reproducible_and_covers(tmp_path):
    a = run(tmp_path / "a", "bbh", HashScorer()).scores[0]
    b = run(tmp_path / "b", "bbh", HashScorer()).scores[0]
    assert a.ci == b.ci and a.ci[0] <= a.score <= a.ci[1] and a.ci[0] < a.ci[1]
    f = score_factors([a])
    wk = next(x for x in f if x.factor == "wk")
    assert wk.score == a.score and wk.ci == pytest.approx(a.ci)


class EchoGrader:
    name = "echo"
    metrics = ["exact", "loose"]

    def score(self, doc, generation):
        exact = float(generation.strip() == doc["answer"])
        return {"exact": exact, "loose": float(doc["answer"] in generation), "score": exact}


def test_generative_benchmark_through_grader(tmp_path, monkeypatch):
    import judgeaudit.graders as graders

    monkeypatch.setattr(graders, "get_grader", lambda name: EchoGrader() if name == "echo_test" else
                        (_ for _ in ()).throw(KeyError(name)))
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"q": "2+2", "answer": "4"}, {"q": "3+3", "answer": "6"}, {"q": "1+1", "answer": "2"}]
    (data / "arith.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = parse_spec({"name": "arith", "factor": "wk", "output_type": "generate_until", "grader": "echo_test",
                       "metrics": ["exact", "loose"], "dataset": {"path": "x/arith", "split": "test"},
                       "prompt": "Q: {{q}}\nA:", "generation": {"max_new_tokens": 5, "stop": ["\n"]}}, "arith.yaml")
    seen = {}

    def fake_generate(prompts, **kw):
        seen.update(kw, prompts=list(prompts))
        return [" 4", "six, 6", "3"]

    opts = SosOptions(source=DataSource("dir", str(data)), n_resamples=100)
    result = run_sos(LM, tmp_path / "run", tasks=[spec], options=opts, generator=fake_generate, progress=False,
                     report=lambda s: None)
    assert seen["prompts"][0] == "Q: 2+2\nA:" and seen["stop"] == ["\n"] and seen["max_new_tokens"] == 5
    bench = result.results["benchmarks"]["arith"]
    assert bench["score"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    assert bench["subtasks"]["arith"]["exact"] == pytest.approx(1 / 3)
    # A grader that does not exist leaves the benchmark missing, not zero.
    spec2 = parse_spec({**{"name": "arith2", "factor": "wk", "output_type": "generate_until", "grader": "absent",
                           "metrics": ["exact"], "dataset": {"path": "x", "split": "t"}, "prompt": "{{q}}"}}, "a2.yaml")
    lines = []
    r2 = run_sos(LM, tmp_path / "run2", tasks=[spec2], options=opts, generator=fake_generate, progress=False,
                 report=lines.append)
    assert r2.results["benchmarks"]["arith2"]["status"] == "missing" and "absent" in lines[0]
    assert r2.results["factors"]["wk"]["score"] is None


def test_generative_documents_of_several_benchmarks_share_one_engine_call(tmp_path, monkeypatch):
    import judgeaudit.engine.generation as generation
    import judgeaudit.graders as graders

    monkeypatch.setattr(graders, "get_grader", lambda name: EchoGrader())
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"q": "2+2", "answer": "4"}, {"q": "3+3", "answer": "6"}, {"q": "1+1", "answer": "2"}]
    for name in ("short", "long"):
        (data / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    specs = [parse_spec({"name": name, "factor": "wk", "output_type": "generate_until", "grader": "echo_test",
                         "metrics": ["exact", "loose"], "dataset": {"path": "x/arith", "split": "test"},
                         "prompt": prompt, "generation": gen}, f"{name}.yaml")
             for name, prompt, gen in [("short", "Q: {{q}}\nA:", {"max_new_tokens": 5, "stop": ["\n"]}),
                                       ("long", "Question {{q}}?", {"max_new_tokens": 40, "stop": ["Q:", ""]})]]
    calls = []

    class RecordingEngine:
        def __init__(self, lm, **kw):
            pass

        def generate_until(self, requests, desc="generating"):
            calls.append(list(requests))
            sums = [re.search(r"(\d)\+(\d)", r.context).groups() for r in requests]
            # right answers for "short", the first addend for "long"
            return [str(int(a) + int(b)) if r.max_gen_toks == 5 else a for r, (a, b) in zip(requests, sums)]

    monkeypatch.setattr(generation, "GenerationEngine", RecordingEngine)
    lm = SimpleNamespace(name="stand-in", dtype="float32", tokenizer=None)
    opts = SosOptions(source=DataSource("dir", str(data)), n_resamples=100)
    result = run_sos(lm, tmp_path / "run", tasks=specs, options=opts, progress=False, report=lambda s: None)
    (call,) = calls  # both benchmarks' documents decode together
    assert [(r.context, r.until, r.max_gen_toks) for r in call] == (
        [(f"Q: {r['q']}\nA:", ("\n",), 5) for r in rows] + [(f"Question {r['q']}?", ("Q:",), 40) for r in rows])
    records = [json.loads(line) for line in (tmp_path / "run" / "records.jsonl").read_text().splitlines()]
    assert [(r["subtask"], r["output"]) for r in records] == (
        [("short", "4"), ("short", "6"), ("short", "2"), ("long", "2"), ("long", "3"), ("long", "1")])
    assert result.results["benchmarks"]["short"]["subtasks"]["short"]["exact"] == pytest.approx(1.0)
    assert result.results["benchmarks"]["long"]["subtasks"]["long"]["exact"] == pytest.approx(0.0)
