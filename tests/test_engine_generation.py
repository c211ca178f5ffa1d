"""Generation engine: the same greedy outputs as transformers' generate, row by row.

The fast tests use a tiny random Llama built from a config here (with SmolLM2's
tokenizer); the slow one checks SmolLM2 against lm-evaluation-harness's HFLM.generate_until.
"""

import json

import pytest
import torch
from click.testing import CliRunner

from judgeaudit.engine.generation import GenerationEngine, GenerationRequest, cut_at_stop, generate
from judgeaudit.models.loading import LoadedModel, resolve_spec

SHOTS = "".join(f"Question: What is {a} plus {b}?\nAnswer: {a + b}\n\n" for a, b in [(2, 3), (10, 7), (4, 4), (12, 30)])


@pytest.fixture(scope="module")
def tiny():
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(resolve_spec("smollm2").converted_dir)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                         tie_word_embeddings=True)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # a peaked output distribution: no near-ties between the top tokens
        model.model.embed_tokens.weight.mul_(40)
    return LoadedModel(model=model, tokenizer=tok, name="tiny-llama", resolved=None, device=torch.device("cpu"),
                       dtype=torch.float32, max_length=512)


def reference(lm, request: GenerationRequest) -> str:
    """One prompt at a time through transformers' generate: no padding, no sharing."""
    tok = lm.tokenizer
    ids = torch.tensor([tok.encode(request.context)])
    with torch.no_grad():
        out = lm.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=request.max_gen_toks,
                                do_sample=False, pad_token_id=tok.pad_token_id)
    return cut_at_stop(tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True), list(request.until) + [tok.eos_token])


def _requests(lm) -> list[GenerationRequest]:
    reqs = [GenerationRequest(SHOTS + f"Question: What is {a} plus {b}?\nAnswer:", (), 12 + a)
            for a, b in [(3, 5), (11, 2), (7, 9), (1, 22)]]
    reqs += [GenerationRequest("The capital of France is", (), 9), GenerationRequest("Once upon a time there", (), 16)]
    # Stop strings taken from the middle of each uncut output, so that every row stops early.
    stopped = []
    for r in reqs:
        text = reference(lm, r)
        assert len(text) > 12
        stopped.append(GenerationRequest(r.context, (text[8:11], "\x00never"), r.max_gen_toks))
    return reqs + stopped


def test_outputs_equal_generate_one_prompt_at_a_time(tiny):
    reqs = _requests(tiny)
    engine = GenerationEngine(tiny, progress=False, min_shared=16)
    outs = engine.generate_until(reqs)
    assert outs == [reference(tiny, r) for r in reqs]
    assert all(len(o) <= 10 for o in outs[6:])  # stopped rows end before their stop string
    # the few-shot beginning was run once per group, not once per row
    assert engine.tokens_in < sum(len(tiny.tokenizer.encode(r.context)) for r in reqs)


def test_budgets_sharing_and_duplicates_do_not_change_outputs(tiny):
    reqs = _requests(tiny)
    reqs.append(reqs[0])
    base = GenerationEngine(tiny, progress=False, share_prefix=False, max_batch_rows=1).generate_until(reqs)
    for options in ({"max_batch_tokens": 8}, {"max_batch_rows": 3, "min_shared": 8}, {}):
        assert GenerationEngine(tiny, progress=False, **options).generate_until(reqs) == base
    assert base[-1] == base[0]


def test_out_of_memory_halves_the_batch_and_keeps_outputs(tiny, monkeypatch):
    reqs = _requests(tiny)
    want = GenerationEngine(tiny, progress=False).generate_until(reqs)
    engine = GenerationEngine(tiny, progress=False)
    real = engine._generate_batch

    def flaky(batch, *args):
        if len(batch) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(batch, *args)

    monkeypatch.setattr(engine, "_generate_batch", flaky)
    assert engine.generate_until(reqs) == want
    assert engine.oom_backoffs >= 1


def test_drafted_tokens_never_change_outputs_and_holes_are_repacked(tiny, monkeypatch):
    import judgeaudit.engine.generation as generation

    loops = [GenerationRequest("red green blue " * 12 + "red", (), 40), GenerationRequest("1 2 3 4 " * 10, (), 33)]
    reqs = _requests(tiny) + loops
    plain = GenerationEngine(tiny, progress=False, speculate=False).generate_until(reqs)
    assert plain == [reference(tiny, r) for r in reqs]
    engine = GenerationEngine(tiny, progress=False, spec_tokens=256)
    assert engine.generate_until(reqs) == plain and engine.accepted > 0
    # Drafts that are wrong every other step (a right prefix, then junk): rejected tokens
    # leave holes, and with no spare columns every hole forces a repack.
    real_draft, calls = generation._Lookup.draft, []

    def flaky_draft(self, k):
        calls.append(1)
        good = real_draft(self, k)
        return good if len(calls) % 2 else (good[:1] + [7] * k)[:k]

    monkeypatch.setattr(generation._Lookup, "draft", flaky_draft)
    engine = GenerationEngine(tiny, progress=False, spec_tokens=256)
    engine.hole_room = 0
    assert engine.generate_until(reqs) == plain
    assert engine.drafted > engine.accepted > 0 and engine.repacks > 0
    # One row at a time too (each row then drafts up to its own limit).
    single = GenerationEngine(tiny, progress=False, max_batch_rows=1)
    assert single.generate_until(reqs) == plain and single.drafted > 0


def test_caches_grow_as_rows_run_long(tiny, monkeypatch):
    import judgeaudit.engine.generation as generation

    reqs = _requests(tiny)
    plain = GenerationEngine(tiny, progress=False, speculate=False).generate_until(reqs)
    monkeypatch.setattr(generation, "GROW_COLUMNS", 3)  # room for three new tokens, then grow
    for speculate in (False, True):
        engine = GenerationEngine(tiny, progress=False, speculate=speculate)
        assert engine.generate_until(reqs) == plain and engine.repacks >= 1


def test_a_looping_row_is_checked_many_tokens_per_step(tiny):
    tok = tiny.tokenizer
    the = tok.encode(" the")[0]
    loop_lm = LoadedModel(model=_constant_model(tiny, the), tokenizer=tok, name="loop", resolved=None,
                          device=torch.device("cpu"), dtype=torch.float32, max_length=256)
    engine = GenerationEngine(loop_lm, progress=False)
    calls = []
    real = engine.decoder.forward
    engine.decoder.forward = lambda *a, **k: calls.append(1) or real(*a, **k)
    (out,) = engine.generate_until([GenerationRequest("Say it again and again:", (), 60)])
    assert out == " the" * 60
    assert engine.accepted >= 40 and len(calls) <= 20  # not one pass per token


def test_eos_ends_a_row_and_long_contexts_are_cut_from_the_left(tiny):
    tok = tiny.tokenizer
    # A model whose every next token is EOS: outputs are empty, one step per row.
    eos_lm = LoadedModel(model=_constant_model(tiny, tok.eos_token_id), tokenizer=tok, name="eos", resolved=None,
                         device=torch.device("cpu"), dtype=torch.float32, max_length=64)
    engine = GenerationEngine(eos_lm, progress=False)
    assert engine.generate_until([GenerationRequest("hello there", (), 20)] * 2) == ["", ""]
    assert engine.tokens_out == 1
    long_ctx = "word " * 200
    assert len(engine.encode_context(long_ctx, 14)) == 64 - 14
    with pytest.raises(ValueError, match="below the model window"):
        engine.encode_context("x", 64)


def _constant_model(lm, token_id):
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(lm.model.config).eval()
    with torch.no_grad():
        model.lm_head = torch.nn.Linear(lm.model.config.hidden_size, lm.model.config.vocab_size, bias=True)
        model.lm_head.weight.zero_()
        model.lm_head.bias.zero_()
        model.lm_head.bias[token_id] = 1.0
    return model


def test_generate_function_renders_chat_and_cuts(tiny):
    out = generate(tiny, ["Say hi"], max_new_tokens=6, chat=True, progress=False)
    text = tiny.tokenizer.apply_chat_template([{"role": "user", "content": "Say hi"}], tokenize=False,
                                              add_generation_prompt=True)
    assert out == [reference(tiny, GenerationRequest(text, (), 6))]


# -- the command ------------------------------------------------------------------

def _cli(args):
    from judgeaudit.cli import main

    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.mark.parametrize("content, pattern", [
    ('{"context": "a"}\n{"until": ["x"]}\n', r"in\.jsonl:2: field 'context': missing"),
    ('{"context": "a", "until": 3}\n', r"in\.jsonl:1: field 'until'"),
    ('{"context": "a", "until": ["x", 2]}\n', r"in\.jsonl:1: field 'until'"),
    ('{"context": "a", "max_gen_toks": 0}\n', r"in\.jsonl:1: field 'max_gen_toks'"),
    ('{"context": "a"}\nnot json\n', r"in\.jsonl:2: invalid JSON"),
    ("", r"in\.jsonl: no requests"),
])
def test_generate_bad_input_is_one_line_nonzero_and_no_output(tmp_path, content, pattern):
    import re

    path = tmp_path / "in.jsonl"
    path.write_text(content)
    out = tmp_path / "out.jsonl"
    result = _cli(["generate", "--requests", str(path), "--out", str(out)])
    assert result.exit_code == 1
    assert re.search(pattern, result.output), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_generate_command_writes_outputs_in_order(tmp_path, smollm2):
    rows = [{"context": SHOTS + "Question: What is 3 plus 5?\nAnswer:", "until": ["\n"], "max_gen_toks": 8, "id": "a"},
            {"context": "The capital of France is", "until": ".", "max_gen_toks": 6, "id": "b"}]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    result = _cli(["generate", "--requests", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == ["a", "b"]
    want = [reference(smollm2, GenerationRequest(r["context"], tuple([r["until"]] if isinstance(r["until"], str)
                                                                     else r["until"]), r["max_gen_toks"])) for r in rows]
    assert [g["output"] for g in got] == want
    assert "\n" not in got[0]["output"] and "." not in got[1]["output"]


@pytest.mark.slow
def test_smollm2_outputs_equal_lm_eval_generate_until(smollm2):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    reqs = [GenerationRequest(SHOTS + f"Question: What is {a} plus {b}?\nAnswer:", ("\n\n", "Question:"), 24)
            for a, b in [(3, 5), (11, 2), (7, 9), (20, 22), (5, 5), (9, 13)]]
    reqs += [GenerationRequest("Write a short poem about the sea.\n", ("\n\n",), 48),
             GenerationRequest("The three largest planets are", (".",), 32),
             GenerationRequest("def fibonacci(n):\n", ("\ndef ",), 64),
             # long, unstopped: SmolLM2 falls into a loop, so drafts are checked and kept
             GenerationRequest("List the days of the week, over and over:\nMonday, Tuesday,", (), 160)]
    hflm = HFLM(pretrained=smollm2.checkpoint_dir, dtype="float32", batch_size=4, device="cpu")
    theirs = hflm.generate_until([Instance(request_type="generate_until", doc={}, idx=i,
                                           arguments=(r.context, {"until": list(r.until), "max_gen_toks": r.max_gen_toks,
                                                                  "do_sample": False}))
                                  for i, r in enumerate(reqs)], disable_tqdm=True)
    engine = GenerationEngine(smollm2, progress=False)
    ours = engine.generate_until(reqs)
    assert ours == theirs
    assert engine.accepted > 50  # the loop was drafted
