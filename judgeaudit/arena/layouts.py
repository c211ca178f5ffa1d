"""Questions and model answers in the layouts people have, read into one shape.

Layouts (auto-detected per record, or pinned with ``fmt``):
- ``arena-hard``: Arena-Hard-Auto. Questions carry ``uid`` + ``prompt`` (v2 layout) or
  ``question_id`` + ``turns`` (v0.1 layout, ``turns[i].content``); answers are
  ``model_answer/<model>.jsonl`` lines with ``messages`` (the last assistant message's
  ``content``, a string or ``{"answer": ...}``) or ``choices[0].turns[i].content``.
- ``mt-bench``: FastChat MT-Bench. Questions carry ``question_id`` + ``turns`` (strings);
  answers carry ``question_id`` + ``choices[0].turns`` (strings).
- ``alpaca-eval``: AlpacaEval. Answers are JSON lists (or JSONL) of ``instruction``,
  ``output``, ``generator``, one file per model; a question is its instruction, and its
  id is a hash of the instruction text, so every file agrees on it.

Only the first turn is used: a later turn's prompt depends on the model's own earlier
answer, so it is not the same question for every model.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from judgeaudit.errors import InputError
from judgeaudit.jsonl_input import iter_jsonl_objects

FORMATS = ("arena-hard", "mt-bench", "alpaca-eval")


@dataclass(frozen=True)
class Question:
    qid: str
    prompt: str
    category: str = ""
    turns: int = 1


@dataclass
class Corpus:
    """Questions and every model's answers (first turn), keyed by question id."""

    questions: dict[str, Question]
    answers: dict[str, dict[str, str]]  # model -> qid -> answer text
    fmt: str
    turn_answers: dict[str, dict[str, list[str]]] | None = None  # model -> qid -> all turns

    def answer(self, model: str, qid: str, turn: int = 1) -> str | None:
        if turn == 1 or self.turn_answers is None:
            return self.answers.get(model, {}).get(qid) if turn == 1 else None
        turns = self.turn_answers.get(model, {}).get(qid)
        return turns[turn - 1] if turns and len(turns) >= turn else None


def instruction_id(instruction: str) -> str:
    return hashlib.sha256(instruction.strip().encode("utf-8")).hexdigest()[:16]


# -- low-level readers ----------------------------------------------------------------------
def iter_json_records(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) from a JSONL file or a JSON list, with the line each object starts on."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    text = path.read_text(encoding="utf-8")
    start = len(text) - len(text.lstrip())
    if not text[start:start + 1] == "[":
        yield from iter_jsonl_objects(path)
        return
    decoder = json.JSONDecoder()
    i = start + 1
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            raise InputError(path, "unterminated JSON list", line=text.count("\n", 0, i) + 1)
        if text[i] == "]":
            return
        line = text.count("\n", 0, i) + 1
        try:
            obj, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"invalid JSON ({exc.msg})", line=exc.lineno) from None
        if not isinstance(obj, dict):
            raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", line=line)
        yield line, obj


def _text(path: Path, line: int, value: Any, field: str) -> str:
    """A turn's text: a string, or a dict with ``content`` or ``answer``."""
    if isinstance(value, dict):
        for key in ("answer", "content"):
            if key in value:
                return _text(path, line, value[key], f"{field}.{key}")
        raise InputError(path, "expected a string or an object with 'content'", line=line, field=field)
    if not isinstance(value, str):
        raise InputError(path, f"expected a string, got {type(value).__name__}", line=line, field=field)
    return value


def _turn_texts(path: Path, line: int, turns: Any, field: str) -> list[str]:
    if not isinstance(turns, list) or not turns:
        raise InputError(path, "expected a non-empty list", line=line, field=field)
    return [_text(path, line, t, f"{field}[{i}]") for i, t in enumerate(turns)]


def _qid(path: Path, line: int, obj: dict, field: str) -> str:
    value = obj[field]
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
        raise InputError(path, "expected a non-empty string or integer", line=line, field=field)
    return str(value)


def _check_fmt(path: Path, line: int, found: str, fmt: str | None, field: str) -> None:
    if fmt is not None and found != fmt and not (fmt == "arena-hard" and found == "mt-bench") \
            and not (fmt == "mt-bench" and found == "arena-hard"):
        raise InputError(path, f"this is the {found} layout, not {fmt} (drop --format to auto-detect)",
                         line=line, field=field)


# -- questions --------------------------------------------------------------------------------
def parse_question(path: Path, line: int, obj: dict, fmt: str | None = None) -> tuple[str, Question]:
    """(layout, question) from one record."""
    if "uid" in obj and fmt != "alpaca-eval":
        if "prompt" not in obj:
            raise InputError(path, "missing (Arena-Hard questions with 'uid' need 'prompt')", line=line, field="prompt")
        _check_fmt(path, line, "arena-hard", fmt, "uid")
        return "arena-hard", Question(_qid(path, line, obj, "uid"), _text(path, line, obj["prompt"], "prompt"),
                                      str(obj.get("category") or ""))
    if "question_id" in obj and fmt != "alpaca-eval":
        if "turns" not in obj:
            raise InputError(path, "missing (questions with 'question_id' need 'turns')", line=line, field="turns")
        turns = obj["turns"]
        found = "arena-hard" if isinstance(turns, list) and turns and isinstance(turns[0], dict) else "mt-bench"
        _check_fmt(path, line, found, fmt, "turns")
        texts = _turn_texts(path, line, turns, "turns")
        return found, Question(_qid(path, line, obj, "question_id"), texts[0], str(obj.get("category") or ""),
                               len(texts))
    if "instruction" in obj and fmt in (None, "alpaca-eval"):
        text = _text(path, line, obj["instruction"], "instruction")
        return "alpaca-eval", Question(instruction_id(text), text, str(obj.get("dataset") or ""))
    want = {"arena-hard": "uid", "mt-bench": "question_id", "alpaca-eval": "instruction"}.get(fmt or "", "uid")
    raise InputError(path, "missing (a question needs uid+prompt (Arena-Hard), question_id+turns "
                           "(Arena-Hard v0.1, MT-Bench) or instruction (AlpacaEval))", line=line, field=want)


def load_questions(path: str | os.PathLike, fmt: str | None = None) -> tuple[str, dict[str, Question]]:
    """(layout, questions by id, in file order). Duplicate ids are an error."""
    path = Path(path)
    out: dict[str, Question] = {}
    layout = None
    for line, obj in iter_json_records(path):
        found, q = parse_question(path, line, obj, fmt)
        layout = layout or found
        if q.qid in out:
            field = {"alpaca-eval": "instruction"}.get(found, "uid" if "uid" in obj else "question_id")
            raise InputError(path, f"question {q.qid!r} appears twice", line=line, field=field)
        out[q.qid] = q
    if not out:
        raise InputError(path, "no questions")
    return layout or (fmt or "arena-hard"), out


# -- answers ------------------------------------------------------------------------------------
def parse_answer(path: Path, line: int, obj: dict, fmt: str | None = None) -> tuple[str, str, list[str], str | None]:
    """(layout, question id, turn texts, model named in the record or None) from one answer record."""
    if "instruction" in obj and "output" in obj and fmt in (None, "alpaca-eval"):
        text = _text(path, line, obj["instruction"], "instruction")
        gen = obj.get("generator")
        if gen is not None and not isinstance(gen, str):
            raise InputError(path, f"expected a string, got {type(gen).__name__}", line=line, field="generator")
        return "alpaca-eval", instruction_id(text), [_text(path, line, obj["output"], "output")], gen
    key = "uid" if "uid" in obj else "question_id" if "question_id" in obj else None
    if key is None:
        want = "instruction" if fmt == "alpaca-eval" else "uid"
        raise InputError(path, "missing (an answer needs uid or question_id (Arena-Hard, MT-Bench), or "
                               "instruction+output (AlpacaEval))", line=line, field=want)
    qid = _qid(path, line, obj, key)
    model = obj.get("model") or obj.get("model_id")
    model = model if isinstance(model, str) else None
    if "messages" in obj:
        msgs = obj["messages"]
        if not isinstance(msgs, list):
            raise InputError(path, "expected a list of messages", line=line, field="messages")
        texts = [_text(path, line, m.get("content"), f"messages[{i}].content") for i, m in enumerate(msgs)
                 if isinstance(m, dict) and m.get("role") == "assistant"]
        if not texts:
            raise InputError(path, "no assistant message", line=line, field="messages")
        _check_fmt(path, line, "arena-hard", fmt, "messages")
        return "arena-hard", qid, texts, model
    if "choices" not in obj:
        raise InputError(path, "missing (an answer needs 'messages' or 'choices')", line=line, field="choices")
    choices = obj["choices"]
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict) or "turns" not in choices[0]:
        raise InputError(path, "expected a list whose first entry has 'turns'", line=line, field="choices")
    turns = choices[0]["turns"]
    found = "arena-hard" if isinstance(turns, list) and turns and isinstance(turns[0], dict) else "mt-bench"
    _check_fmt(path, line, found, fmt, "choices")
    return found, qid, _turn_texts(path, line, turns, "choices[0].turns"), model


def answer_files(directory: str | os.PathLike) -> list[Path]:
    d = Path(directory)
    if d.is_file():
        return [d]
    if not d.is_dir():
        raise InputError(d, "no such directory")
    files = sorted(list(d.glob("*.jsonl")) + list(d.glob("*.json")) + list(d.glob("*/model_outputs.json")))
    if not files:
        raise InputError(d, "no answer files (*.jsonl, *.json or */model_outputs.json)")
    return files


def load_answers(directory: str | os.PathLike, fmt: str | None = None
                 ) -> tuple[str | None, dict[str, dict[str, list[str]]]]:
    """(layout, model -> question id -> turn texts). The model is the file's name (Arena-Hard,
    MT-Bench) or the records' ``generator`` (AlpacaEval)."""
    out: dict[str, dict[str, list[str]]] = {}
    layout = None
    for path in answer_files(directory):
        per_file: dict[str, dict[str, list[str]]] = {}
        for line, obj in iter_json_records(path):
            found, qid, texts, named = parse_answer(path, line, obj, fmt)
            layout = layout or found
            if found == "alpaca-eval":
                model = named or (path.parent.name if path.name == "model_outputs.json" else path.stem)
            else:
                model = path.stem
            answers = per_file.setdefault(model, {})
            if qid in answers:
                raise InputError(path, f"a second answer of {model!r} to question {qid!r}", line=line,
                                 field="instruction" if found == "alpaca-eval" else "question_id")
            answers[qid] = texts
        for model, answers in per_file.items():
            if model in out:
                raise InputError(path, f"answers of model {model!r} also come from another file")
            out[model] = answers
    return layout, out


def load_corpus(questions: str | os.PathLike | None, answers: str | os.PathLike, fmt: str | None = None) -> Corpus:
    """Questions and answers together. AlpacaEval needs no question file: the instructions
    in the answers are the questions (those of the first file, in its order)."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(str(questions or answers), f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    a_layout, by_model = load_answers(answers, fmt)
    if questions is not None:
        q_layout, qs = load_questions(questions, fmt or (a_layout if a_layout == "alpaca-eval" else None))
    else:
        if a_layout != "alpaca-eval":
            raise InputError(str(answers), "--questions is required for Arena-Hard and MT-Bench answers")
        q_layout, qs = "alpaca-eval", {}
        for path in answer_files(answers):
            for line, obj in iter_json_records(path):
                _, q = parse_question(path, line, obj, "alpaca-eval")
                qs.setdefault(q.qid, q)
    first = {m: {q: t[0] for q, t in per.items()} for m, per in by_model.items()}
    return Corpus(questions=qs, answers=first, fmt=fmt or q_layout, turn_answers=by_model)
