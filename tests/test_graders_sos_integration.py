"""The generative specs, fixtures and graders run through the SOS runner end to end
(a scripted generator stands in for the model, so this needs no weights)."""

import json
import re
from pathlib import Path

import pytest

from judgeaudit.graders.math_answers import boxed_answer
from judgeaudit.sos.data import DataSource
from judgeaudit.sos.document_scoring import SosOptions
from judgeaudit.sos.spec import load_specs, select_specs
from judgeaudit.sos.pipeline import run_sos

FIXTURES = Path(__file__).resolve().parents[1] / "benchmarks" / "fixtures" / "generative"
GENERATIVE = "ifeval,math_hard,livebench,livebench_if"


class FakeLM:
    name = "scripted"
    dtype = "none"


def _math_answers():
    answers = {}
    for path in FIXTURES.glob("math_hard_*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            answers[doc["problem"]] = boxed_answer(doc["solution"])
    return answers


def test_generative_benchmarks_run_and_aggregate(tmp_path):
    answers = _math_answers()
    calls = []

    def generator(prompts, *, max_new_tokens, stop, chat):
        calls.append((len(prompts), max_new_tokens, tuple(stop), chat))
        out = []
        for p in prompts:
            problem = re.findall(r"Problem:\n(.*?)\n\nSolution:", p, flags=re.DOTALL)
            if problem and problem[-1] in answers:
                # 4 worked examples precede the item's own problem
                assert p.count("Problem:") == 5 and p.endswith("Solution:")
                out.append(f" Work.\nFinal Answer: The final answer is ${answers[problem[-1]]}$. I hope it is correct.")
            else:
                out.append("")
        return out

    specs = select_specs(load_specs(), GENERATIVE)
    run = run_sos(FakeLM(), tmp_path / "run", tasks=specs, generator=generator, progress=False, report=lambda s: None,
                  options=SosOptions(source=DataSource("dir", str(FIXTURES)), n_resamples=50))
    scores = {s.name: s for s in run.scores}
    assert set(scores) == {"ifeval", "math_hard", "livebench", "livebench_if"}
    assert scores["math_hard"].score == pytest.approx(1.0)
    assert scores["math_hard"].n == 14
    # empty answers follow no instruction and solve nothing
    assert scores["ifeval"].score == 0.0 and scores["livebench"].score == 0.0 and scores["livebench_if"].score == 0.0
    assert {(mx, st, ch) for _, mx, st, ch in calls} == {
        (1280, (), False), (1024, ("Problem:",), False), (4096, (), True)}
    factors = {f.factor: f for f in run.factors}
    assert set(factors["if"].benchmarks) == {"ifeval", "livebench_if"}
    assert {"math_hard", "livebench"} <= set(factors["wk"].benchmarks)

    # resuming scores nothing again
    again = run_sos(FakeLM(), tmp_path / "run", tasks=specs, generator=generator, progress=False,
                    report=lambda s: None, options=SosOptions(source=DataSource("dir", str(FIXTURES)), n_resamples=50))
    assert again.scored_now == 0


def test_an_item_its_grader_cannot_grade_is_one_error_naming_file_line_and_field(tmp_path):
    from judgeaudit.errors import InputError

    data = tmp_path / "data"
    data.mkdir()
    lines = (FIXTURES / "ifeval.jsonl").read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[1])
    bad["instruction_id_list"] = ["no_such:instruction"]
    bad["kwargs"] = [{}]
    lines[1] = json.dumps(bad)
    (data / "ifeval.jsonl").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    specs = select_specs(load_specs(), "ifeval")
    with pytest.raises(InputError) as err:
        run_sos(FakeLM(), tmp_path / "run", tasks=specs, generator=lambda p, **kw: ["x"] * len(p), progress=False,
                report=lambda s: None, options=SosOptions(source=DataSource("dir", str(data)), n_resamples=50))
    message = str(err.value)
    assert "ifeval.jsonl:2" in message and "instruction_id_list" in message, message
