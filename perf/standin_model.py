"""Build a SmolLM2-135M-shaped model with random weights, for GPU checks on machines without the
embedded model or network.

    python perf/standin_model.py OUTDIR [--seed 0]

Same architecture and sizes as SmolLM2-135M-Instruct (Llama, 30 layers, hidden 576, 9 heads,
3 KV heads, vocabulary 49152, tied embeddings), so throughput figures have the real model's
shape; its answers are meaningless, which is fine for speed and for engine-vs-reference checks.
The byte-level BPE tokenizer is trained in a few seconds on the project's own SOS fixtures and
probe items, and has a ChatML chat template, so SOS prompts and judge prompts tokenize to
realistic lengths. Needs only torch, transformers and tokenizers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SMOLLM2_135M = dict(
    hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
    head_dim=64, max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=100000.0, tie_word_embeddings=True,
    vocab_size=49152, bos_token_id=1, eos_token_id=2, pad_token_id=2,
)
SPECIALS = ["<|unk|>", "<|im_start|>", "<|im_end|>"]  # ids 0, 1, 2 as in SmolLM2 (bos 1, eos 2)
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def corpus() -> list[str]:
    """Every string in the packaged SOS fixtures and probe items."""
    texts: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for folder in (ROOT / "benchmarks" / "fixtures", ROOT / "probes" / "data"):
        for path in sorted(folder.rglob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    walk(json.loads(line))
    return texts


def build(out: str | Path, seed: int = 0) -> Path:
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus(), vocab_size=SMOLLM2_135M["vocab_size"], min_frequency=2,
                            special_tokens=SPECIALS, show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<|unk|>", bos_token="<|im_start|>",
                                  eos_token="<|im_end|>", pad_token="<|im_end|>")
    tok.chat_template = CHATML
    tok.save_pretrained(out)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M))
    model.save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(build(args.out, args.seed))


if __name__ == "__main__":
    main()
