"""The reward-model judge on a tiny sequence classifier built here from a config (no download)."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from judgeaudit.cli import main
from judgeaudit.errors import JudgeauditError
from judgeaudit.judges import make_judge, swap, win_score
from judgeaudit.judges.protocol import VERDICTS, JudgeRequest
from judgeaudit.judges.score_link import STRONG_CUT, TIE_CUT, difference_to_probs

ITEMS = "tests/data/probe_items_small.jsonl"


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@pytest.fixture(scope="module")
def reward_dir(tmp_path_factory):
    """A two-layer Llama reward model (one output) with the SmolLM2 tokenizer, saved as a checkpoint."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    from judgeaudit.models.loading import checkpoint_dir_for

    tokenizer = AutoTokenizer.from_pretrained(checkpoint_dir_for("smollm2"))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, num_labels=1,
                         pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    model = LlamaForSequenceClassification(config)
    with torch.no_grad():  # a head that spreads rewards over a few units
        model.score.weight.normal_(0.0, 2.0)
    out = tmp_path_factory.mktemp("reward")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _single_reward(judge, text: str) -> float:
    """The reward of one text scored alone (no padding, no batching)."""
    import torch

    ids = torch.tensor([judge._encode(text)])
    with torch.inference_mode():
        return float(judge.model(input_ids=ids).logits[0, 0])


def test_logistic_link_values_and_symmetry():
    for d in (-7.0, -1.3, 0.0, 0.4, 2.5):
        p = difference_to_probs(d)
        assert math.isclose(sum(p.values()), 1.0, abs_tol=1e-12) and all(v >= 0 for v in p.values())
        assert math.isclose(p["A>>B"], _sigmoid(d - STRONG_CUT), rel_tol=1e-12)
        assert math.isclose(p["A>>B"] + p["A>B"], _sigmoid(d - TIE_CUT), rel_tol=1e-12)
        assert math.isclose(p["B>>A"], 1 - _sigmoid(d + STRONG_CUT), rel_tol=1e-9, abs_tol=1e-15)
        # Exchanging the answers negates the difference and mirrors the verdicts.
        mirrored = swap(difference_to_probs(-d))
        assert all(math.isclose(p[v], mirrored[v], abs_tol=1e-12) for v in VERDICTS)
    assert win_score(difference_to_probs(0.0)) == pytest.approx(0.5)
    scores = [win_score(difference_to_probs(d)) for d in (-3, -1, 0, 1, 3)]
    assert scores == sorted(scores) and scores[0] < 0.1 and scores[-1] > 0.9
    # The scale is the difference worth one logit.
    assert difference_to_probs(2.0, scale=2.0) == pytest.approx(difference_to_probs(1.0))
    with pytest.raises(ValueError):
        difference_to_probs(1.0, scale=0.0)


def test_reward_judge_scores_each_answer_through_the_chat_template(reward_dir):
    judge = make_judge(f"reward:{reward_dir}", reward_scale=0.5)
    assert judge.name == f"reward:{reward_dir}" and judge.scale == 0.5
    assert any("position cannot matter" in n for n in judge.notes) and any("scale 0.5" in n for n in judge.notes)
    text = judge.text_for("What is 2+2?", "4")
    assert "<|im_start|>user\nWhat is 2+2?" in text and "<|im_start|>assistant\n4" in text

    requests = [JudgeRequest("What is 2+2?", "The answer is 4.", "It is 5, I think, but maybe 4."),
                JudgeRequest("Name a colour.", "Blue.", "A colour often named is red, the colour of blood.")]
    requests += [JudgeRequest(r.prompt, r.answer_b, r.answer_a) for r in requests]
    judgments = judge.judge_batch(requests)
    for req, j in zip(requests, judgments):
        raw = json.loads(j.raw)
        # Batched and padded rewards equal each text scored alone.
        assert raw["reward_a"] == pytest.approx(_single_reward(judge, judge.text_for(req.prompt, req.answer_a)), abs=1e-4)
        assert raw["reward_b"] == pytest.approx(_single_reward(judge, judge.text_for(req.prompt, req.answer_b)), abs=1e-4)
        expected = difference_to_probs(raw["reward_a"] - raw["reward_b"], 0.5)
        assert all(math.isclose(j.probs[v], expected[v], abs_tol=1e-12) for v in VERDICTS)
    # Pointwise: the swapped order gives exactly the mirrored distribution.
    for j, k in zip(judgments[:2], judgments[2:]):
        assert all(math.isclose(j.probs[v], swap(k.probs)[v], abs_tol=1e-9) for v in VERDICTS)
    assert judgments[0].probs != judgments[1].probs

    # The engine's token budget splits the texts into several batches without changing a reward.
    small = make_judge(f"reward:{reward_dir}", reward_scale=0.5)
    small.max_batch_tokens = 48
    texts = [judge.text_for(r.prompt, r.answer_a) for r in requests]
    assert small.rewards(texts) == pytest.approx(judge.rewards(texts), abs=1e-4)


def test_reward_probe_run_states_the_link_and_is_position_consistent(reward_dir, tmp_path):
    from judgeaudit.audit import run_probe

    run = run_probe(f"reward:{reward_dir}", battery="quick", items=ITEMS, limit=2, out=tmp_path / "run",
                    progress=False, resamples=200, judge_options={"reward_scale": 2.0})
    res = run.results
    assert res["indices"]["position_consistency"] == 1.0 and res["unparsed"] == 0
    notes = res["run"]["judge_notes"]
    assert any("ordered logistic link" in n and "scale 2" in n for n in notes)
    assert any("both orders are still judged" in n for n in notes)
    assert res["n_judgments"] == 2 * res["n_pairs"]


def test_reward_spec_errors_are_one_line(reward_dir, tmp_path):
    from transformers import LlamaConfig, LlamaForSequenceClassification

    two = tmp_path / "two_labels"
    LlamaForSequenceClassification(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                               num_attention_heads=2, num_key_value_heads=1,
                                               num_labels=2)).save_pretrained(two)
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(reward_dir).save_pretrained(two)
    no_tokenizer = tmp_path / "no_tokenizer"
    LlamaForSequenceClassification.from_pretrained(two).save_pretrained(no_tokenizer)
    with pytest.raises(JudgeauditError, match="cannot load"):
        make_judge(f"reward:{no_tokenizer}")
    with pytest.raises(JudgeauditError, match="has 2 outputs; a reward model has exactly one"):
        make_judge(f"reward:{two}")
    with pytest.raises(JudgeauditError, match="unknown option"):
        make_judge(f"reward:{reward_dir}?temperature=1")
    with pytest.raises(JudgeauditError, match="scale must be a positive number"):
        make_judge(f"reward:{reward_dir}?scale=-1")
    with pytest.raises(JudgeauditError, match="names no model"):
        make_judge("reward:")
    result = CliRunner().invoke(main, ["judges", "try", "--judge", f"reward:{tmp_path / 'missing'}", "--prompt", "p",
                                       "--a", "a", "--b", "b"])
    assert result.exit_code != 0 and "reward model" in result.output
    assert len(result.output.strip().splitlines()) == 1
