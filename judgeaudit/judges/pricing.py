"""Token prices for known OpenAI models, and the cost of a request.

Prices are USD per one million tokens (input, output) as listed on OpenAI's pricing
pages (standard tier, no batch or cache discount; checked 2025). A user file (JSON or
YAML: ``{model: {input: X, output: Y}}``) adds or overrides entries, so new prices never
need a code change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

import yaml

from judgeaudit.errors import InputError

# model -> (input, output) USD per 1M tokens
OPENAI_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4-1106-preview": (10.0, 30.0),
    "gpt-4-0125-preview": (10.0, 30.0),
    "gpt-4-turbo-preview": (10.0, 30.0),
    "gpt-4-turbo": (10.0, 30.0),
    "gpt-4-turbo-2024-04-09": (10.0, 30.0),
    "gpt-4": (30.0, 60.0),
    "gpt-4-0314": (30.0, 60.0),
    "gpt-4-0613": (30.0, 60.0),
    "gpt-4-32k": (60.0, 120.0),
    "gpt-3.5-turbo": (0.5, 1.5),
    "gpt-3.5-turbo-0125": (0.5, 1.5),
    "gpt-3.5-turbo-1106": (1.0, 2.0),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-2024-05-13": (5.0, 15.0),
    "gpt-4o-2024-08-06": (2.5, 10.0),
    "gpt-4o-2024-11-20": (2.5, 10.0),
    "chatgpt-4o-latest": (5.0, 15.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4o-mini-2024-07-18": (0.15, 0.6),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
    "o1": (15.0, 60.0),
    "o1-preview": (15.0, 60.0),
    "o1-mini": (1.1, 4.4),
    "o3": (2.0, 8.0),
    "o3-mini": (1.1, 4.4),
    "o4-mini": (1.1, 4.4),
}


def load_price_file(path: str | os.PathLike) -> dict[str, tuple[float, float]]:
    """Read a user price table; InputError naming the model entry on a bad value."""
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "no such price file")
    from judgeaudit.jsonl_input import read_text

    text = read_text(p)
    try:
        data = yaml.safe_load(text) if p.suffix in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InputError(p, f"cannot parse price file ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(p, "expected a mapping of model -> {input, output} USD per 1M tokens")
    table = {}
    for model, entry in data.items():
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), (int, float)) and entry[k] >= 0 for k in ("input", "output"))):
            raise InputError(p, "expected {input: USD per 1M tokens, output: USD per 1M tokens}", field=str(model))
        table[str(model)] = (float(entry["input"]), float(entry["output"]))
    return table


def price_table(overrides: Mapping[str, tuple[float, float]] | str | os.PathLike | None = None) -> dict[str, tuple[float, float]]:
    """Built-in prices, then $JUDGEAUDIT_PRICES (a file), then ``overrides`` (a file or a mapping)."""
    table = dict(OPENAI_PRICES)
    env_file = os.environ.get("JUDGEAUDIT_PRICES")
    if env_file:
        table.update(load_price_file(env_file))
    if overrides is not None:
        table.update(overrides if isinstance(overrides, Mapping) else load_price_file(overrides))
    return table


def price_of(model: str, table: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """Price of a model, matching a dated snapshot (``gpt-4o-mini-2024-07-18``) to its family if unlisted."""
    if model in table:
        return table[model]
    for name in sorted(table, key=len, reverse=True):
        if model.startswith(name + "-"):
            return table[name]
    return None


def cost_usd(prompt_tokens: int, completion_tokens: int, price: tuple[float, float] | None) -> float | None:
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6
