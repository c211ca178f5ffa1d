"""Judge prompt templates (YAML data files) and turning judge outputs into judgments.

Three kinds of template:
- ``pairwise``: one overall verdict ``[[X op Y]]``;
- ``factorwise``: one verdict per criterion ``Label: ((X op Y))`` plus the overall one;
- ``single``: each answer graded alone ``[[N]]``; two grades make a pairwise verdict.

Placeholders are substituted in one pass, so answer text that happens to contain
``{answer_b}`` or braces is inserted verbatim.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from judgeaudit.errors import InputError
from judgeaudit.judges.protocol import VERDICTS, Judgment, JudgeRequest, normalize, point_mass, softmax_logprobs
from judgeaudit.judges.verdicts import parse_grade, read_criteria, read_overall

KINDS = ("pairwise", "factorwise", "single")
BUILTIN_TEMPLATES = ("pairwise", "factorwise", "single")
_PLACEHOLDER = re.compile(r"\{(prompt|answer_a|answer_b|answer|label)\}")


def fill(text: str, **values: str) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), text)


@dataclass(frozen=True)
class LogprobQuery:
    """One context to score: assistant text ending in an opener, and its candidate closes."""

    name: str  # "overall", a criterion name, or "grade"
    prefix: str
    labels: tuple[str, ...]  # verdict labels or grades, in order
    continuations: tuple[str, ...]  # label + closing brackets


@dataclass(frozen=True)
class Template:
    name: str
    kind: str
    system: str
    user: str
    source: str
    digest: str
    verdict_prefix: str = "My final verdict is: [["
    criteria: dict[str, str] = field(default_factory=dict)
    criterion_prefix: str = "{label}: (("
    grade_prefix: str = "Rating: [["
    scale: tuple[int, int] = (1, 10)
    strong_margin: int = 3
    max_tokens: int = 1024

    # -- prompts -------------------------------------------------------------------
    def conversations(self, req: JudgeRequest) -> list[list[dict[str, str]]]:
        """The chat(s) one request needs: one for pairwise kinds, two (A then B) for single."""
        if self.kind == "single":
            answers = [req.answer_a, req.answer_b]
            return [self._chat(fill(self.user, prompt=req.prompt, answer=a)) for a in answers]
        return [self._chat(fill(self.user, prompt=req.prompt, answer_a=req.answer_a, answer_b=req.answer_b))]

    def _chat(self, user: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system}] if self.system.strip() else []
        return messages + [{"role": "user", "content": user}]

    def logprob_queries(self) -> list[LogprobQuery]:
        if self.kind == "single":
            grades = tuple(str(g) for g in range(self.scale[0], self.scale[1] + 1))
            return [LogprobQuery("grade", self.grade_prefix, grades, tuple(g + "]]" for g in grades))]
        queries = [LogprobQuery("overall", self.verdict_prefix, VERDICTS, tuple(v + "]]" for v in VERDICTS))]
        if self.kind == "factorwise":
            for name, label in self.criteria.items():
                queries.append(LogprobQuery(name, fill(self.criterion_prefix, label=label), VERDICTS,
                                            tuple(v + "))" for v in VERDICTS)))
        return queries

    @property
    def identity(self) -> dict[str, str]:
        return {"name": self.name, "digest": self.digest}

    # -- outputs -> judgments --------------------------------------------------------
    def judgment_from_texts(self, texts: list[str], usage: dict | None = None) -> Judgment:
        """Parse what the judge wrote (one text per conversation)."""
        if self.kind == "single":
            grades = [parse_grade(t, *self.scale) for t in texts]
            raw = "\n----- answer B -----\n".join(texts)
            if any(g is None for g in grades):
                return Judgment.unparsed(raw, usage)
            probs = self.grades_to_verdicts({grades[0]: 1.0}, {grades[1]: 1.0})
            return Judgment(probs=probs, raw=raw, parsed=True, usage=usage)
        text = texts[0]
        verdict, ambiguous = read_overall(text)
        criteria = None
        if self.kind == "factorwise":
            found = read_criteria(text, self.criteria)
            criteria = {name: (point_mass(v) if v else None) for name, (v, _) in found.items()}
            ambiguous = ambiguous or any(a for _, a in found.values())
        if verdict is None:
            return Judgment(probs=None, raw=text, parsed=False, criteria=criteria, usage=usage, ambiguous=ambiguous)
        return Judgment(probs=point_mass(verdict), raw=text, parsed=True, criteria=criteria, usage=usage,
                        ambiguous=ambiguous)

    def judgment_from_logprobs(self, scores: list[dict[str, dict[str, float]]], usage: dict | None = None) -> Judgment:
        """Judgment from continuation log-probabilities.

        ``scores`` has one entry per conversation, mapping query name -> {label: logprob}.
        Each query's distribution is normalized over its own labels.
        """
        if self.kind == "single":
            dists = [_softmax(s["grade"]) for s in scores]
            probs = self.grades_to_verdicts({int(k): v for k, v in dists[0].items()},
                                            {int(k): v for k, v in dists[1].items()})
            raw = "logprob grades: " + "; ".join(
                f"{side} E={sum(int(k) * p for k, p in d.items()):.2f}" for side, d in zip("AB", dists))
            return Judgment(probs=probs, raw=raw, parsed=True, usage=usage)
        first = scores[0]
        probs = softmax_logprobs(first["overall"])
        criteria = None
        if self.kind == "factorwise":
            criteria = {name: softmax_logprobs(first[name]) for name in self.criteria}
        top = max(probs, key=probs.get)
        return Judgment(probs=probs, raw=f"logprob [[{top}]]", parsed=True, criteria=criteria, usage=usage)

    def grades_to_verdicts(self, grades_a: Mapping[int, float], grades_b: Mapping[int, float]) -> dict[str, float]:
        """Verdict distribution from two independent grade distributions."""
        weights = {v: 0.0 for v in VERDICTS}
        for ga, pa in grades_a.items():
            for gb, pb in grades_b.items():
                d = ga - gb
                if d == 0:
                    v = "A=B"
                elif abs(d) >= self.strong_margin:
                    v = "A>>B" if d > 0 else "B>>A"
                else:
                    v = "A>B" if d > 0 else "B>A"
                weights[v] += pa * pb
        return normalize(weights)


def _softmax(logprobs: Mapping[str, float]) -> dict[str, float]:
    top = max(logprobs.values())
    weights = {k: math.exp(v - top) for k, v in logprobs.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def load_template(spec: str | Path) -> Template:
    """A built-in template by name (pairwise, factorwise, single) or a YAML file path."""
    spec_str = str(spec)
    if spec_str in BUILTIN_TEMPLATES:
        text = resources.files("judgeaudit.judges").joinpath("templates", f"{spec_str}.yaml").read_text(encoding="utf-8")
        source = f"builtin:{spec_str}"
        path: str | Path = source
    else:
        path = Path(spec_str)
        if not path.is_file():
            raise InputError(path, f"no such template file (built-in templates: {', '.join(BUILTIN_TEMPLATES)})")
        from judgeaudit.jsonl_input import read_text

        text = read_text(path)
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, f"invalid YAML: {getattr(exc, 'problem', exc)}",
                         line=(mark.line + 1) if mark else None) from None
    if not isinstance(data, dict):
        raise InputError(path, "expected a YAML mapping")
    return _template_from_dict(data, path, source, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])


def _template_from_dict(data: dict[str, Any], path: str | Path, source: str, digest: str) -> Template:
    def need(key: str, kind: type = str) -> Any:
        if key not in data:
            raise InputError(path, "missing", field=key)
        if not isinstance(data[key], kind):
            raise InputError(path, f"expected {kind.__name__}, got {type(data[key]).__name__}", field=key)
        return data[key]

    kind = need("kind")
    if kind not in KINDS:
        raise InputError(path, f"expected one of {', '.join(KINDS)}, got {kind!r}", field="kind")
    user = need("user")
    wanted = ("{prompt}", "{answer}") if kind == "single" else ("{prompt}", "{answer_a}", "{answer_b}")
    for ph in wanted:
        if ph not in user:
            raise InputError(path, f"must contain the placeholder {ph}", field="user")
    kwargs: dict[str, Any] = dict(name=str(data.get("name") or Path(str(path)).stem), kind=kind, user=user,
                                  system=str(data.get("system") or ""), source=source, digest=digest)
    for key in ("verdict_prefix", "criterion_prefix", "grade_prefix"):
        if key in data:
            kwargs[key] = need(key)
    if "max_tokens" in data:
        kwargs["max_tokens"] = need("max_tokens", int)
    if kind == "factorwise":
        criteria = need("criteria", dict)
        if not criteria or not all(isinstance(k, str) and isinstance(v, str) for k, v in criteria.items()):
            raise InputError(path, "expected a mapping of criterion name -> label", field="criteria")
        kwargs["criteria"] = dict(criteria)
    if kind == "single":
        scale = data.get("scale", [1, 10])
        if not (isinstance(scale, list) and len(scale) == 2 and all(isinstance(x, int) for x in scale) and scale[0] < scale[1]):
            raise InputError(path, "expected [low, high] integers", field="scale")
        kwargs["scale"] = (scale[0], scale[1])
        if "strong_margin" in data:
            kwargs["strong_margin"] = need("strong_margin", int)
    return Template(**kwargs)
