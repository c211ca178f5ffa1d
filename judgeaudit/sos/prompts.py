"""Turn documents into prompts and scoring requests, with lm-evaluation-harness semantics.

Context = description + few-shot examples + the document's prompt; each few-shot example
is prompt + target delimiter + answer + few-shot delimiter. A multiple-choice document
becomes one request per choice: (context, target delimiter + choice). Templates are Jinja
with the harness's settings (strict undefined, trailing newline kept).
"""

from __future__ import annotations

import ast
import random
import re
import string
from dataclasses import dataclass
from typing import Any, Mapping

import jinja2

from judgeaudit.errors import InputError
from judgeaudit.registry import UnknownName
from judgeaudit.sos.data import DocSet, SubtaskData
from judgeaudit.sos.processors import PROCESSORS, FieldError
from judgeaudit.sos.spec import SubtaskSpec

_ENV = jinja2.Environment(loader=jinja2.BaseLoader(), undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
_ENV.filters["regex_replace"] = lambda s, pattern, repl, count=0: re.sub(pattern, repl, s, count=count)
_ENV.globals["letters"] = string.ascii_uppercase


@dataclass(frozen=True)
class MCItem:
    index: int
    doc: dict[str, Any]
    context: str
    choices: list[str]
    gold: list[int]

    def requests(self, target_delimiter: str = " ") -> list[tuple[str, str]]:
        return [(self.context, f"{target_delimiter}{c}") for c in self.choices]


@dataclass(frozen=True)
class PromptItem:
    index: int
    doc: dict[str, Any]
    prompt: str


class _DocError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def render(template: str, doc: Mapping[str, Any]) -> str:
    try:
        return _ENV.from_string(template).render(**doc)
    except jinja2.UndefinedError as exc:
        m = re.search(r"'([^']+)' is undefined", str(exc))
        raise _DocError("missing (the template uses it)", m.group(1) if m else None) from None
    except jinja2.TemplateError as exc:
        raise _DocError(f"template error: {exc}") from None
    except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
        raise _DocError(f"cannot render the template: {type(exc).__name__}: {exc}") from None


def _field(doc: Mapping[str, Any], name: str) -> Any:
    if name not in doc:
        raise _DocError("missing", name)
    return doc[name]


def doc_choices(sub: SubtaskSpec, doc: Mapping[str, Any]) -> list[str]:
    spec = sub.choices
    if isinstance(spec, list):
        return list(spec)
    if isinstance(spec, dict) and "field" in spec:
        value = _field(doc, spec["field"])
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise _DocError("expected a list of strings", spec["field"])
        return list(value)
    if isinstance(spec, dict) and "letters_for" in spec:
        value = _field(doc, spec["letters_for"])
        if not isinstance(value, list) or not value:
            raise _DocError("expected a non-empty list", spec["letters_for"])
        return list(string.ascii_uppercase[: len(value)])
    try:
        value = ast.literal_eval(render(spec, doc))
    except (ValueError, SyntaxError):
        raise _DocError("choices template did not render a list") from None
    return [str(c) for c in value]


def doc_target(sub: SubtaskSpec, doc: Mapping[str, Any]) -> Any:
    """The raw target: an index, a choice text, or a list of accepted indices (harness rules)."""
    spec = sub.target
    if isinstance(spec, int):
        return spec
    if isinstance(spec, dict):
        return _field(doc, spec["field"])
    text = render(spec, doc)
    if text.isdigit():
        return int(text)
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
    return text


def gold_indices(target: Any, choices: list[str], field: str | None) -> list[int]:
    values = target if isinstance(target, list) else [target]
    if not values:
        raise _DocError("no accepted answer", field)
    out = []
    for v in values:
        if isinstance(v, int):  # bools too, as the harness treats them
            if not 0 <= int(v) < len(choices):
                raise _DocError(f"answer index {v} is outside the {len(choices)} choices", field)
            out.append(int(v))
        elif isinstance(v, str) and v in choices:
            out.append(choices.index(v))
        else:
            raise _DocError(f"answer {v!r} is not one of the choices {choices}"[:200], field)
    return out


def _target_field(sub: SubtaskSpec) -> str | None:
    if isinstance(sub.target, dict):
        return sub.target["field"]
    if isinstance(sub.target, str):
        m = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", sub.target)
        return m.group(1) if m else None
    return None


def _answer_text(sub: SubtaskSpec, doc: Mapping[str, Any]) -> str:
    target = doc_target(sub, doc)
    if isinstance(target, list):
        target = target[0]
    if isinstance(target, int) and sub.choices is not None:
        return doc_choices(sub, doc)[target]
    return str(target)


def _located(docset: DocSet, i: int, err: _DocError, what: str) -> InputError:
    origin, line = docset.where(i)
    if line is None:
        return InputError(origin, f"{what} {i}: {err}", field=err.field)
    return InputError(origin, str(err), line=line, field=err.field)


def _process(sub: SubtaskSpec, docset: DocSet, seed: int, what: str) -> list[dict[str, Any]]:
    if not sub.process:
        return list(docset.docs)
    try:
        fn = PROCESSORS[sub.process]
    except UnknownName as exc:
        raise InputError(sub.name, str(exc), field="process") from None
    rng = random.Random(seed)
    out = []
    for i, doc in enumerate(docset.docs):
        try:
            out.append(fn(doc, rng))
        except KeyError as exc:
            raise _located(docset, i, _DocError("missing", str(exc.args[0])), what) from None
        except FieldError as exc:
            raise _located(docset, i, _DocError(str(exc), exc.field), what) from None
        except (ValueError, TypeError) as exc:
            raise _located(docset, i, _DocError(str(exc)), what) from None
    return out


class ContextBuilder:
    """Builds the full context of each document of one subtask."""

    def __init__(self, sub: SubtaskSpec, data: SubtaskData, seed: int = 1234):
        self.sub = sub
        self.data = data
        self.docs = _process(sub, data.test, seed, "item")
        if sub.fewshot.n and sub.fewshot.samples:
            self.pool = [dict(s) for s in sub.fewshot.samples]
            self.pool_set = None
        elif sub.fewshot.n:
            pool_set = data.fewshot if data.fewshot is not None else data.test
            self.pool = self.docs if pool_set is data.test else _process(sub, pool_set, seed, "few-shot item")
            self.pool_set = pool_set
            if len(self.pool) < sub.fewshot.n:
                raise InputError(pool_set.origin, f"{sub.fewshot.n} few-shot examples needed, "
                                                  f"{len(self.pool)} available")
        else:
            self.pool = []
        self.same_split = bool(sub.fewshot.n) and not sub.fewshot.samples and (
            sub.fewshot.split == sub.dataset.split)
        self._shots_cache: str | None = None

    def _vars(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.sub.variables, **doc}

    def _shots(self, doc: Mapping[str, Any]) -> str:
        fs = self.sub.fewshot
        if not fs.n:
            return ""
        if not self.same_split and self._shots_cache is not None:
            return self._shots_cache
        pool = [d for d in self.pool if d != doc] if self.same_split else self.pool
        parts = []
        for j, shot in enumerate(pool[: fs.n]):
            try:
                q = render(self.sub.prompt, self._vars(shot))
                a = _answer_text(self.sub, self._vars(shot))
            except _DocError as err:
                if self.pool_set is None:
                    raise InputError(self.sub.name, f"few-shot sample {j}: {err}", field=err.field) from None
                raise _located(self.pool_set, self.pool.index(shot), err, "few-shot item") from None
            parts.append(q + fs.target_delimiter + a + fs.fewshot_delimiter)
        text = "".join(parts)
        if not self.same_split:
            self._shots_cache = text
        return text

    def context(self, i: int) -> str:
        doc = self.docs[i]
        try:
            description = render(self.sub.description, self._vars(doc)) if self.sub.description else ""
            question = render(self.sub.prompt, self._vars(doc))
        except _DocError as err:
            raise _located(self.data.test, i, err, "item") from None
        return description + self._shots(doc) + question

    def mc_items(self) -> list[MCItem]:
        items = []
        for i, doc in enumerate(self.docs):
            context = self.context(i)
            try:
                choices = doc_choices(self.sub, self._vars(doc))
                gold = gold_indices(doc_target(self.sub, self._vars(doc)), choices, _target_field(self.sub))
            except _DocError as err:
                raise _located(self.data.test, i, err, "item") from None
            if not choices:
                raise _located(self.data.test, i, _DocError("no choices"), "item")
            items.append(MCItem(i, self.data.test.docs[i], context, choices, gold))
        return items

    def prompt_items(self) -> list[PromptItem]:
        return [PromptItem(i, self.data.test.docs[i], self.context(i)) for i in range(len(self.docs))]
