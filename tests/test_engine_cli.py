"""`judgeaudit score` / `models`: outputs in input order; bad input is one clear line and no output."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from judgeaudit.cli import main
from judgeaudit.errors import ModelUnavailable
from judgeaudit.models.loading import resolve_spec

DATA = Path(__file__).parent / "data"


def run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_score_writes_input_plus_scores_in_order(tmp_path, smollm2):
    out = tmp_path / "out.jsonl"
    res = run(["score", "--model", "smollm2", "--dtype", "float32", "--requests", str(DATA / "requests_small.jsonl"),
               "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    inputs = [json.loads(x) for x in (DATA / "requests_small.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [r["id"] for r in inputs]
    for r in rows:
        assert isinstance(r["logprob"], float) and r["logprob"] < 0
        assert isinstance(r["is_greedy"], bool) and isinstance(r["n_tokens"], int) and r["n_tokens"] >= 1
    # The right answers are more likely than the wrong ones.
    assert rows[0]["logprob"] > rows[1]["logprob"] and rows[2]["logprob"] > rows[3]["logprob"]


@pytest.mark.parametrize("content, pattern", [
    (None, r"^Error: .*missing\.jsonl: no such file$"),
    ('{"context": "a", "continuation": "b"}\n{"context": "a", "continuation": \n', r"^Error: .*bad\.jsonl:2: invalid JSON"),
    ('{"context": "a", "continuation": "b"}\n\n{"context": "a"}\n', r"^Error: .*bad\.jsonl:3: field 'continuation': missing$"),
    ('{"context": 5, "continuation": "b"}\n', r"^Error: .*bad\.jsonl:1: field 'context': expected str, got int$"),
    ('[1, 2]\n', r"^Error: .*bad\.jsonl:1: expected a JSON object"),
])
def test_score_bad_input_is_one_line_nonzero_and_no_output(tmp_path, content, pattern):
    src = tmp_path / ("missing.jsonl" if content is None else "bad.jsonl")
    if content is not None:
        src.write_text(content)
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(main, ["score", "--requests", str(src), "--out", str(out)])
    assert res.exit_code != 0
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and re.search(pattern, lines[0]), res.output
    assert not out.exists() and not list(tmp_path.glob(".out.jsonl*"))


def test_unavailable_specs_give_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelUnavailable, match="no such GGUF file"):
        resolve_spec(str(tmp_path / "nothing.gguf"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailable, match="no config.json"):
        resolve_spec(str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    res = CliRunner().invoke(main, ["score", "--model", "someorg/not-a-cached-model", "--requests",
                                    str(DATA / "requests_small.jsonl"), "--out", str(tmp_path / "o.jsonl")])
    assert res.exit_code != 0
    assert "someorg/not-a-cached-model" in res.output and "huggingface-cli download" in res.output
    assert "Traceback" not in res.output


def test_embedded_model_is_served_from_the_converted_cache(smollm2):
    r = resolve_spec("smollm2")
    assert r.kind == "embedded" and r.location.endswith(".gguf") and r.is_converted
    assert smollm2.checkpoint_dir == str(r.converted_dir)
    assert smollm2.info["vocab_size"] == 49152 and smollm2.max_length >= 2048


def test_models_command_lists_the_cache():
    res = run(["models"])
    assert res.exit_code == 0 and "embedded" in res.output and "cache:" in res.output
