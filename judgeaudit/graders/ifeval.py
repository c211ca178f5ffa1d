"""IFEval: the 25 verifiable instruction types and the four accuracy metrics.

Each checker takes the response and the instruction's keyword arguments (as stored in
`google/IFEval`'s `kwargs`, with null entries dropped) and says whether the response
follows the instruction. Strict evaluation checks the response as written; loose
evaluation accepts the instruction if any of eight variants follows it: the response
with its first line, last line or both removed, each with and without asterisks.

Metrics: prompt-level accuracy (all instructions of a prompt followed) and
instruction-level accuracy (instructions pooled over all prompts), strict and loose.

The checkers follow lm-evaluation-harness's IFEval grader (the benchmark's reference)
rule for rule, with NLTK doing the sentence and word counting. Deliberate deviations:

- Keyword, forbidden-word, postscript-marker and section-splitter arguments are regular
  expressions in the reference (`re.search(keyword, ...)`), and are used as such here so
  scores match on the published data; an argument that is not a valid expression (the
  reference would crash on "C++") is matched as literal text instead.
- The reference drops every falsy kwarg (0, "") and then draws a random value for it;
  here only null entries are dropped, so a 0 threshold is used as given.
- An invalid letter, relation or missing argument is refused as bad input
  (`InstructionArgsError`) where the reference draws a random one.
- langdetect samples at random; the reference uses the unseeded global detector. Here a
  private detector factory with a fixed seed makes verdicts repeatable without changing
  langdetect's global state for other code.
"""

from __future__ import annotations

import collections
import functools
import json
import re
from typing import Any, Callable, Mapping, Sequence

from langdetect.lang_detect_exception import LangDetectException

from judgeaudit.graders import GraderInputError, require
from judgeaudit.graders.text_units import count_sentences, count_words, word_tokens

Checker = Callable[[str, Mapping[str, Any]], bool]

RELATIONS = ("less than", "at least")
CONSTRAINED_RESPONSES = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


class InstructionArgsError(GraderInputError):
    """An instruction whose keyword arguments are missing or invalid."""


def _arg(kwargs: Mapping[str, Any], name: str, kind: type | tuple[type, ...] = (int,)) -> Any:
    value = kwargs.get(name)
    if value is None:
        raise InstructionArgsError(f"missing keyword argument '{name}'")
    if kind == (int,) and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InstructionArgsError(f"keyword argument '{name}' has type {type(value).__name__}")
    return value


def _compare(count: int, threshold: int, relation: str) -> bool:
    if relation == "less than":
        return count < threshold
    if relation == "at least":
        return count >= threshold
    raise InstructionArgsError(f"relation must be one of {RELATIONS}, got {relation!r}")


LANGDETECT_SEED = 0


@functools.lru_cache(maxsize=1)
def _detector_factory():
    """A langdetect factory of our own, seeded: langdetect samples n-grams at random, and
    seeding its module-level factory would change detection for every other user of it."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(LANGDETECT_SEED)
    return factory


def detect_language(text: str) -> str:
    """langdetect's language code for `text`; LangDetectException when it has no features."""
    detector = _detector_factory().create()
    detector.append(text)
    return detector.detect()


def _language_is(text: str, code: str) -> bool:
    try:
        return detect_language(text) == code
    except LangDetectException:
        return True  # undetectable text (digits, symbols) is not held against the response


def _pattern(text: str) -> str:
    """`text` as the reference uses it, a regular expression; literal text if it is not one."""
    try:
        re.compile(text)
    except re.error:
        return re.escape(text)
    return text


# ---- keywords ---------------------------------------------------------------------------

def keywords_existence(resp: str, kw: Mapping[str, Any]) -> bool:
    keywords = _arg(kw, "keywords", (list, tuple))
    return all(re.search(_pattern(k), resp, flags=re.IGNORECASE) for k in keywords)


def keywords_frequency(resp: str, kw: Mapping[str, Any]) -> bool:
    keyword = _arg(kw, "keyword", str).strip()
    count = len(re.findall(_pattern(keyword), resp, flags=re.IGNORECASE))
    return _compare(count, _arg(kw, "frequency"), _arg(kw, "relation", str))


def keywords_forbidden_words(resp: str, kw: Mapping[str, Any]) -> bool:
    words = _arg(kw, "forbidden_words", (list, tuple))
    return not any(re.search(r"\b" + _pattern(w) + r"\b", resp, flags=re.IGNORECASE) for w in words)


def keywords_letter_frequency(resp: str, kw: Mapping[str, Any]) -> bool:
    letter = _arg(kw, "letter", str).strip().lower()
    if len(letter) != 1:
        raise InstructionArgsError(f"letter must be one character, got {letter!r}")
    count = collections.Counter(resp.lower())[letter]
    return _compare(count, _arg(kw, "let_frequency"), _arg(kw, "let_relation", str))


# ---- language, length -------------------------------------------------------------------

def language_response_language(resp: str, kw: Mapping[str, Any]) -> bool:
    return _language_is(resp, _arg(kw, "language", str))


def length_number_sentences(resp: str, kw: Mapping[str, Any]) -> bool:
    return _compare(count_sentences(resp), _arg(kw, "num_sentences"), _arg(kw, "relation", str))


def length_number_paragraphs(resp: str, kw: Mapping[str, Any]) -> bool:
    # Paragraphs are separated by the markdown divider ***.
    parts = re.split(r"\s?\*\*\*\s?", resp)
    count = len(parts)
    for i, part in enumerate(parts):
        if not part.strip():
            if i in (0, len(parts) - 1):
                count -= 1
            else:
                return False  # an empty paragraph between two dividers
    return count == _arg(kw, "num_paragraphs")


def length_number_words(resp: str, kw: Mapping[str, Any]) -> bool:
    return _compare(count_words(resp), _arg(kw, "num_words"), _arg(kw, "relation", str))


def length_nth_paragraph_first_word(resp: str, kw: Mapping[str, Any]) -> bool:
    # Here paragraphs are separated by blank lines ("\n\n").
    want_total, nth = _arg(kw, "num_paragraphs"), _arg(kw, "nth_paragraph")
    want_word = _arg(kw, "first_word", str).strip().lower()
    parts = resp.split("\n\n")
    total = sum(1 for p in parts if p.strip())
    if nth > total or nth < 1:
        return False
    paragraph = parts[nth - 1].strip()
    if not paragraph:
        return False
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    first = ""
    for ch in word:
        if ch in ".,?!'\"":
            break
        first += ch.lower()
    return total == want_total and first == want_word


# ---- detectable content / format --------------------------------------------------------

def content_number_placeholders(resp: str, kw: Mapping[str, Any]) -> bool:
    return len(re.findall(r"\[.*?\]", resp)) >= _arg(kw, "num_placeholders")


def content_postscript(resp: str, kw: Mapping[str, Any]) -> bool:
    marker = _arg(kw, "postscript_marker", str).strip()
    text = resp.lower()
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + _pattern(marker.lower()) + r".*$"
    return bool(re.findall(pattern, text, flags=re.MULTILINE))


def format_number_bullet_lists(resp: str, kw: Mapping[str, Any]) -> bool:
    stars = re.findall(r"^\s*\*[^\*].*$", resp, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", resp, flags=re.MULTILINE)
    return len(stars) + len(dashes) == _arg(kw, "num_bullets")


def format_constrained_response(resp: str, kw: Mapping[str, Any]) -> bool:
    text = resp.strip()
    return any(option in text for option in CONSTRAINED_RESPONSES)


def format_number_highlighted_sections(resp: str, kw: Mapping[str, Any]) -> bool:
    single = [h for h in re.findall(r"\*[^\n\*]*\*", resp) if h.strip("*").strip()]
    double = [h for h in re.findall(r"\*\*[^\n\*]*\*\*", resp) if h[2:-2].strip()]
    return len(single) + len(double) >= _arg(kw, "num_highlights")


def format_multiple_sections(resp: str, kw: Mapping[str, Any]) -> bool:
    splitter = _arg(kw, "section_spliter", str).strip()
    sections = re.split(r"\s?" + _pattern(splitter) + r"\s?\d+\s?", resp)
    return len(sections) - 1 >= _arg(kw, "num_sections")


def format_json(resp: str, kw: Mapping[str, Any]) -> bool:
    text = resp.strip()
    for fence in ("```json", "```Json", "```JSON", "```"):  # each removed in turn, as the reference does
        text = text.removeprefix(fence)
    text = text.removesuffix("```").strip()
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def format_title(resp: str, kw: Mapping[str, Any]) -> bool:
    return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", resp))


# ---- combination, start/end ---------------------------------------------------------------

def combination_two_responses(resp: str, kw: Mapping[str, Any]) -> bool:
    parts = resp.split("******")
    answers = []
    for i, part in enumerate(parts):
        if not part.strip():
            if i not in (0, len(parts) - 1):
                return False
        else:
            answers.append(part)
    return len(answers) == 2 and answers[0].strip() != answers[1].strip()


def combination_repeat_prompt(resp: str, kw: Mapping[str, Any]) -> bool:
    prompt = _arg(kw, "prompt_to_repeat", str)
    return resp.strip().lower().startswith(prompt.strip().lower())


def startend_end_checker(resp: str, kw: Mapping[str, Any]) -> bool:
    phrase = _arg(kw, "end_phrase", str).strip().lower()
    return resp.strip().strip('"').lower().endswith(phrase)


def startend_quotation(resp: str, kw: Mapping[str, Any]) -> bool:
    text = resp.strip()
    return len(text) > 1 and text[0] == '"' and text[-1] == '"'


# ---- case, punctuation ------------------------------------------------------------------

def case_capital_word_frequency(resp: str, kw: Mapping[str, Any]) -> bool:
    count = sum(1 for tok in word_tokens(resp) if tok.isupper())
    return _compare(count, _arg(kw, "capital_frequency"), _arg(kw, "capital_relation", str))


def case_english_capital(resp: str, kw: Mapping[str, Any]) -> bool:
    return resp.isupper() and _language_is(resp, "en")


def case_english_lowercase(resp: str, kw: Mapping[str, Any]) -> bool:
    return resp.islower() and _language_is(resp, "en")


def punctuation_no_comma(resp: str, kw: Mapping[str, Any]) -> bool:
    return "," not in resp


INSTRUCTIONS: dict[str, Checker] = {
    "keywords:existence": keywords_existence,
    "keywords:frequency": keywords_frequency,
    "keywords:forbidden_words": keywords_forbidden_words,
    "keywords:letter_frequency": keywords_letter_frequency,
    "language:response_language": language_response_language,
    "length_constraints:number_sentences": length_number_sentences,
    "length_constraints:number_paragraphs": length_number_paragraphs,
    "length_constraints:number_words": length_number_words,
    "length_constraints:nth_paragraph_first_word": length_nth_paragraph_first_word,
    "detectable_content:number_placeholders": content_number_placeholders,
    "detectable_content:postscript": content_postscript,
    "detectable_format:number_bullet_lists": format_number_bullet_lists,
    "detectable_format:constrained_response": format_constrained_response,
    "detectable_format:number_highlighted_sections": format_number_highlighted_sections,
    "detectable_format:multiple_sections": format_multiple_sections,
    "detectable_format:json_format": format_json,
    "detectable_format:title": format_title,
    "combination:two_responses": combination_two_responses,
    "combination:repeat_prompt": combination_repeat_prompt,
    "startend:end_checker": startend_end_checker,
    "startend:quotation": startend_quotation,
    "change_case:capital_word_frequency": case_capital_word_frequency,
    "change_case:english_capital": case_english_capital,
    "change_case:english_lowercase": case_english_lowercase,
    "punctuation:no_comma": punctuation_no_comma,
}


def loose_variants(response: str) -> list[str]:
    """The response and its relaxations: first/last/both lines removed, asterisks removed."""
    lines = response.split("\n")
    drop_first = "\n".join(lines[1:]).strip()
    drop_last = "\n".join(lines[:-1]).strip()
    drop_both = "\n".join(lines[1:-1]).strip()
    base = [response, drop_first, drop_last, drop_both]
    return base + [v.replace("*", "") for v in base]


def _clean_kwargs(kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (kwargs or {}).items() if v is not None}


def follows(instruction_ids: Sequence[str], kwargs_list: Sequence[Mapping[str, Any] | None], response: str,
            *, loose: bool = False) -> list[bool]:
    """One verdict per instruction. An empty response follows nothing."""
    if len(kwargs_list) != len(instruction_ids):
        raise InstructionArgsError(
            f"{len(instruction_ids)} instruction ids but {len(kwargs_list)} kwargs entries", field="kwargs")
    candidates = loose_variants(response) if loose else [response]
    verdicts = []
    for inst_id, kwargs in zip(instruction_ids, kwargs_list):
        checker = INSTRUCTIONS.get(inst_id)
        if checker is None:
            raise InstructionArgsError(f"unknown instruction id {inst_id!r}", field="instruction_id_list")
        kw = _clean_kwargs(kwargs)
        try:
            ok = any(c.strip() and checker(c, kw) for c in candidates)
        except InstructionArgsError as exc:
            raise InstructionArgsError(f"{inst_id}: {exc}") from None
        verdicts.append(bool(ok))
    return verdicts


class IFEvalGrader:
    """Grades one IFEval item; `aggregate` pools instruction-level results over items."""

    name = "ifeval"
    metrics = ["prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc",
               "inst_level_loose_acc"]

    def score(self, doc: Mapping[str, Any], generation: str) -> dict[str, float]:
        ids, kwargs = list(require(doc, "instruction_id_list")), list(require(doc, "kwargs"))
        strict = follows(ids, kwargs, generation)
        loose = follows(ids, kwargs, generation, loose=True)
        n = len(ids)
        return {
            "prompt_level_strict_acc": float(all(strict)),
            "inst_level_strict_acc": sum(strict) / n if n else 0.0,
            "prompt_level_loose_acc": float(all(loose)),
            "inst_level_loose_acc": sum(loose) / n if n else 0.0,
            "n_instructions": float(n),
            "inst_strict_followed": float(sum(strict)),
            "inst_loose_followed": float(sum(loose)),
            "score": (float(all(strict)) + float(all(loose)) + (sum(strict) + sum(loose)) / max(n, 1)) / 4,
        }

    def aggregate(self, per_doc: Sequence[Mapping[str, float]]) -> dict[str, float]:
        if not per_doc:
            return {m: float("nan") for m in self.metrics}
        n_docs = len(per_doc)
        n_inst = sum(d["n_instructions"] for d in per_doc)
        out = {
            "prompt_level_strict_acc": sum(d["prompt_level_strict_acc"] for d in per_doc) / n_docs,
            "inst_level_strict_acc": sum(d["inst_strict_followed"] for d in per_doc) / n_inst if n_inst else 0.0,
            "prompt_level_loose_acc": sum(d["prompt_level_loose_acc"] for d in per_doc) / n_docs,
            "inst_level_loose_acc": sum(d["inst_loose_followed"] for d in per_doc) / n_inst if n_inst else 0.0,
        }
        out["score"] = sum(out[m] for m in self.metrics) / len(self.metrics)
        return out
