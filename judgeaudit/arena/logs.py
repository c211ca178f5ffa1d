"""Judgment logs that already exist, read into games or ratings (no model is called).

- ``arena-hard``: ``model_judgment/<judge>/<model>.jsonl`` (a folder or one file); per line
  ``uid`` or ``question_id``, ``model``, optional ``baseline`` and two ``games`` whose
  ``score`` is a verdict label (the first game shows the baseline as A, the second the
  model). A game may also carry ``probs`` (a verdict distribution, written by
  ``judgeaudit arena``), which is used instead of the label.
- ``mt-bench-single``: FastChat single grades: ``question_id``, ``model``, ``score``
  (-1 = unparsed), optional ``turn``, ``judgment``, ``judge``.
- ``mt-bench-pair``: FastChat pairwise: ``question_id``, ``model_1``, ``model_2``,
  ``g1_winner`` (model_1 shown as A), ``g2_winner`` (model_2 shown as A), each one of
  model_1, model_2, tie, or error (unparsed), optional ``turn``.
- ``alpaca-eval``: annotations (JSON list): ``instruction``, ``output_1``, ``output_2``,
  ``generator_1``, ``generator_2``, ``preference`` (1: output_1 preferred, 2: output_2,
  1.5 or 0: a draw, fractional: the probability scale in between; null: unparsed). Each
  pair is judged in one order only, so position cannot be read.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judgeaudit.arena.games import Game, parse_label
from judgeaudit.arena.layouts import Corpus, instruction_id, iter_json_records
from judgeaudit.arena.ratings import Rating
from judgeaudit.errors import InputError
from judgeaudit.judges.protocol import normalize, point_mass

LOG_FORMATS = ("arena-hard", "mt-bench-single", "mt-bench-pair", "alpaca-eval")


@dataclass
class LogData:
    kind: str  # "pairwise" or "single"
    judge: str
    baseline: str | None
    games: list[Game] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    n_unparsed: int = 0
    n_missing: int = 0
    sources: list[str] = field(default_factory=list)


def _need(path: Path, line: int, obj: dict, name: str, kind: type | tuple = str) -> Any:
    if name not in obj:
        raise InputError(path, "missing", line=line, field=name)
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        names = "/".join(t.__name__ for t in (kind if isinstance(kind, tuple) else (kind,)))
        raise InputError(path, f"expected {names}, got {type(value).__name__}", line=line, field=name)
    return value


def _qid(path: Path, line: int, obj: dict, corpus: Corpus | None) -> tuple[str, str]:
    key = "uid" if "uid" in obj else "question_id"
    qid = str(_need(path, line, obj, key, (str, int)))
    if corpus is not None and qid not in corpus.questions:
        raise InputError(path, f"question {qid!r} is not in the questions file", line=line, field=key)
    return key, qid


def _text(path: Path, line: int, corpus: Corpus, model: str, qid: str, turn: int, field_name: str) -> str:
    text = corpus.answer(model, qid, turn)
    if text is None:
        raise InputError(path, f"no answer of model {model!r} to question {qid!r} (turn {turn}) in the answers",
                         line=line, field=field_name)
    return text


def _files(path: str | os.PathLike) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*.jsonl"))
        if not files:
            raise InputError(p, "no *.jsonl judgment files in this folder")
        return files
    if not p.is_file():
        raise InputError(p, "no such file or folder")
    return [p]


def read_arena_hard(judgments: str | os.PathLike, corpus: Corpus, baseline: str | None = None) -> LogData:
    data = LogData("pairwise", "", baseline)
    seen: dict[str, set[str]] = {}
    for path in _files(judgments):
        data.sources.append(str(path))
        for line, obj in iter_json_records(path):
            key, qid = _qid(path, line, obj, corpus)
            model = _need(path, line, obj, "model")
            base = obj.get("baseline") or baseline
            if not isinstance(base, str) or not base:
                raise InputError(path, "missing (old Arena-Hard logs do not name the baseline: pass --baseline)",
                                 line=line, field="baseline")
            if data.baseline is None:
                data.baseline = base
            elif base != data.baseline:
                raise InputError(path, f"baseline {base!r} differs from {data.baseline!r} in earlier lines",
                                 line=line, field="baseline")
            if isinstance(obj.get("judge"), str) and not data.judge:
                data.judge = obj["judge"]
            games = _need(path, line, obj, "games", list)
            if qid in seen.setdefault(model, set()):
                raise InputError(path, f"a second judgment of {model!r} on question {qid!r}", line=line, field=key)
            seen[model].add(qid)
            t_model = _text(path, line, corpus, model, qid, 1, "model")
            t_base = _text(path, line, corpus, base, qid, 1, "baseline")
            data.n_missing += max(0, 2 - len(games))
            for i, g in enumerate(games[:2]):
                if g is None:  # a game the judge never answered (Arena-Hard-Auto writes null)
                    g = {"score": None}
                if not isinstance(g, dict) or "score" not in g:
                    raise InputError(path, "expected an object with 'score'", line=line, field=f"games[{i}].score")
                probs = g.get("probs")
                if probs is not None:
                    try:
                        probs = normalize(probs)
                    except (ValueError, TypeError, AttributeError) as exc:
                        raise InputError(path, str(exc), line=line, field=f"games[{i}].probs") from None
                elif g["score"] is not None and not isinstance(g["score"], str):
                    raise InputError(path, f"expected a verdict label or null, got {type(g['score']).__name__}",
                                     line=line, field=f"games[{i}].score")
                else:
                    probs = parse_label(g["score"])
                data.n_unparsed += probs is None
                a, b, ta, tb = (base, model, t_base, t_model) if i == 0 else (model, base, t_model, t_base)
                raw = g.get("judgment")
                raw = raw.get("answer", "") if isinstance(raw, dict) else (raw if isinstance(raw, str) else "")
                data.games.append(Game(qid, a, b, ta, tb, probs, raw=raw))
    for model, qids in seen.items():
        data.n_missing += 2 * len(set(corpus.questions) - qids)
    data.judge = data.judge or Path(judgments).name
    return data


def read_mt_bench_single(judgments: str | os.PathLike, corpus: Corpus) -> LogData:
    data = LogData("single", "", None)
    seen: set[tuple[str, str, int]] = set()
    for path in _files(judgments):
        data.sources.append(str(path))
        for line, obj in iter_json_records(path):
            _, qid = _qid(path, line, obj, corpus)
            model = _need(path, line, obj, "model")
            score = _need(path, line, obj, "score", (int, float, type(None)))
            turn = obj.get("turn", 1)
            if not isinstance(turn, int) or isinstance(turn, bool) or turn < 1:
                raise InputError(path, f"expected a turn number >= 1, got {turn!r}", line=line, field="turn")
            if (qid, model, turn) in seen:
                raise InputError(path, f"a second grade of {model!r} on question {qid!r} turn {turn}",
                                 line=line, field="question_id")
            seen.add((qid, model, turn))
            judge = obj.get("judge")
            if not data.judge and judge:
                data.judge = "/".join(judge) if isinstance(judge, list) else str(judge)
            ok = score is not None and math.isfinite(score) and score >= 0
            data.n_unparsed += not ok
            data.ratings.append(Rating(qid, turn, model, _text(path, line, corpus, model, qid, turn, "model"),
                                       float(score) if ok else None))
    models = {r.model for r in data.ratings}
    expected = sum(q.turns for q in corpus.questions.values()) * len(models)
    data.n_missing = max(0, expected - len(seen))
    data.judge = data.judge or Path(judgments).stem
    return data


_WINNERS = ("model_1", "model_2", "tie", "error")


def read_mt_bench_pair(judgments: str | os.PathLike, corpus: Corpus, baseline: str | None = None) -> LogData:
    data = LogData("pairwise", "", baseline)
    for path in _files(judgments):
        data.sources.append(str(path))
        for line, obj in iter_json_records(path):
            _, qid = _qid(path, line, obj, corpus)
            m1, m2 = _need(path, line, obj, "model_1"), _need(path, line, obj, "model_2")
            turn = obj.get("turn", 1)
            if not isinstance(turn, int) or isinstance(turn, bool) or turn < 1:
                raise InputError(path, f"expected a turn number >= 1, got {turn!r}", line=line, field="turn")
            t1 = _text(path, line, corpus, m1, qid, turn, "model_1")
            t2 = _text(path, line, corpus, m2, qid, turn, "model_2")
            judge = obj.get("judge")
            if not data.judge and judge:
                data.judge = "/".join(judge) if isinstance(judge, list) else str(judge)
            for name, a, b, ta, tb, a_label in (("g1_winner", m1, m2, t1, t2, "model_1"),
                                                ("g2_winner", m2, m1, t2, t1, "model_2")):
                if name not in obj:
                    data.n_missing += 1
                    continue
                winner = obj[name]
                if winner not in _WINNERS:
                    raise InputError(path, f"expected one of {', '.join(_WINNERS)}, got {winner!r}"[:200],
                                     line=line, field=name)
                probs = None if winner == "error" else point_mass(
                    "A=B" if winner == "tie" else "A>B" if winner == a_label else "B>A")
                data.n_unparsed += probs is None
                data.games.append(Game(qid, a, b, ta, tb, probs, turn=turn))
    data.baseline = data.baseline or _common_model(data.games, judgments)
    data.judge = data.judge or Path(judgments).stem
    return data


def read_alpaca_eval(judgments: str | os.PathLike, baseline: str | None = None) -> LogData:
    data = LogData("pairwise", "", baseline)
    for path in _files(judgments) if Path(judgments).is_dir() else [Path(judgments)]:
        data.sources.append(str(path))
        for line, obj in iter_json_records(path):
            instruction = _need(path, line, obj, "instruction")
            o1, o2 = _need(path, line, obj, "output_1"), _need(path, line, obj, "output_2")
            g1, g2 = _need(path, line, obj, "generator_1"), _need(path, line, obj, "generator_2")
            if "preference" not in obj:
                raise InputError(path, "missing", line=line, field="preference")
            pref = obj["preference"]
            if pref is None or (isinstance(pref, float) and math.isnan(pref)):
                probs = None
            elif isinstance(pref, bool) or not isinstance(pref, (int, float)) or \
                    not (pref == 0 or 1 - 1e-6 <= pref <= 2 + 1e-6):
                raise InputError(path, f"expected 1, 2, a number between them, 0 (draw) or null, got {pref!r}",
                                 line=line, field="preference")
            elif pref == 0 or pref == 1.5:
                probs = point_mass("A=B")
            else:
                p2 = min(max(float(pref) - 1.0, 0.0), 1.0)  # probability that output_2 is preferred
                probs = normalize({"A>B": 1.0 - p2, "B>A": p2})
            if isinstance(obj.get("annotator"), str) and not data.judge:
                data.judge = obj["annotator"]
            data.n_unparsed += probs is None
            data.games.append(Game(instruction_id(instruction), g1, g2, o1, o2, probs))
    if data.baseline is None:
        firsts = {g.model_a for g in data.games}
        data.baseline = firsts.pop() if len(firsts) == 1 else _common_model(data.games, judgments)
    data.judge = data.judge or Path(judgments).stem
    return data


def _common_model(games: list[Game], source: Any) -> str:
    models = None
    for g in games:
        models = {g.model_a, g.model_b} if models is None else models & {g.model_a, g.model_b}
    if not models or len(models) != 1:
        raise InputError(str(source), "cannot tell the baseline (no single model plays in every game): "
                                      "pass --baseline", field="baseline")
    return models.pop()


def read_logs(fmt: str, judgments: str | os.PathLike, corpus: Corpus | None, baseline: str | None = None) -> LogData:
    if fmt == "alpaca-eval":
        return read_alpaca_eval(judgments, baseline)
    if corpus is None:
        raise InputError(str(judgments), f"--answers and --questions are needed to read {fmt} logs")
    if fmt == "arena-hard":
        return read_arena_hard(judgments, corpus, baseline)
    if fmt == "mt-bench-single":
        return read_mt_bench_single(judgments, corpus)
    if fmt == "mt-bench-pair":
        return read_mt_bench_pair(judgments, corpus, baseline)
    raise InputError(str(judgments), f"unknown log format {fmt!r}; expected one of {', '.join(LOG_FORMATS)}")
