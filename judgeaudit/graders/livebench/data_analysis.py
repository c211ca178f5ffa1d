"""LiveBench data analysis: column type annotation, table join mapping, table reformatting."""

from __future__ import annotations

import ast
import csv
import io
import json
import math
import re
from html.parser import HTMLParser
from typing import Any

from judgeaudit.graders import GraderInputError
from judgeaudit.graders.livebench.answers import livebench_boxed, solution_tags


def _squash(text: str) -> str:
    return re.sub(r"[^\w]", "", text.lower().strip())


def cta_score(ground_truth: str, answer: str) -> float:
    """Column type annotation: the class name, compared without case, spaces or punctuation,
    either whole or as the end of the answer (LiveBench's suffix rule); a boxed answer is
    read from its box. <solution> tags are not read."""
    parsed = answer
    if "\\boxed{" in parsed:
        inner = livebench_boxed(parsed)
        if inner is None:
            return 0.0   # LiveBench fails to unbox it: an evaluation error, scored 0
        parsed = inner.replace("\\text{", "").replace("}", "").replace("\\", "")
    truth, given = _squash(ground_truth), _squash(parsed)
    return float(truth == given or truth == given[-len(truth):])


_UNREADABLE = object()


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _UNREADABLE


def join_mapping(answer: str) -> dict:
    """The {column: column} mapping LiveBench reads: the last <solution> (recursively), else
    the answer itself as a Python literal, else the last fenced block (```python, then
    ```json, then bare ```, read with newlines removed), else the last box, else the whole
    answer, with JSON's null read as None; entries mapped to None are dropped."""
    tags = re.findall(r"<solution>(.*?)</solution>", answer, flags=re.DOTALL)
    if tags:
        return join_mapping(tags[-1].strip())
    value = _literal(answer)
    if value is _UNREADABLE:
        flat = answer.replace("\n", "")
        blocks = (re.findall(r"```python(.*?)```", flat) or re.findall(r"```json(.*?)```", flat)
                  or re.findall(r"```(.*?)```", flat))
        if not blocks and "\\boxed" in answer:
            inner = livebench_boxed(flat)
            if inner:
                blocks = [re.sub(r"\\text{[\'|\"](.*?)[\'|\"]}", r"'\1'", inner).replace("\\", "")]
        text = blocks[-1] if blocks else answer
        value = _literal(text.replace("null", "None"))
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if v is not None}


def tablejoin_score(ground_truth: Any, answer: str) -> float:
    """Join mapping {column of A: column of B}: F1 of the predicted pairs, to two decimals."""
    try:
        truth = ground_truth if isinstance(ground_truth, dict) else ast.literal_eval(str(ground_truth))
    except (ValueError, SyntaxError):
        truth = None
    if not isinstance(truth, dict):
        raise GraderInputError("ground truth is not a Python dict literal", field="ground_truth")
    predicted = join_mapping(answer)
    if not predicted:
        return 0.0
    tp = fp = fn = 0
    for key, value in predicted.items():
        want = truth.get(key)
        if not want:
            fp += 1
        elif want == value:
            tp += 1
        else:
            fp += 1
            fn += 1
    fn += sum(1 for key in truth if not predicted.get(key))
    return round(2 * tp / (2 * tp + fp + fn), 2) if (tp + fp + fn) else 0.0


# ---- tables -----------------------------------------------------------------------------

Table = list[dict[str, Any]]


class _HTMLTable(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _rows_to_table(rows: list[list[str]]) -> Table:
    rows = [r for r in rows if r]
    if not rows:
        raise ValueError("empty table")
    header = [h.strip() for h in rows[0]]
    if any(len(r) != len(header) for r in rows[1:]):
        raise ValueError("ragged table")
    return [dict(zip(header, r)) for r in rows[1:]]


def parse_table(fmt: str, text: str) -> Table:
    """Rows as dicts from CSV, TSV, JSON, JSONL, Markdown or HTML text; ValueError if unreadable."""
    fmt = fmt.lower()
    text = text.strip()
    if fmt in ("csv", "tsv"):
        reader = csv.reader(io.StringIO(text), delimiter="," if fmt == "csv" else "\t")
        return _rows_to_table([list(r) for r in reader])
    if fmt == "jsonl":
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        if not rows or not all(isinstance(r, dict) for r in rows):
            raise ValueError("not JSON lines of objects")
        return rows
    if fmt == "json":
        obj = json.loads(text)
        if isinstance(obj, dict) and isinstance(obj.get("data"), list):   # pandas "table" orient
            return [dict(r) for r in obj["data"]]
        if isinstance(obj, list) and all(isinstance(r, dict) for r in obj):  # records
            return obj
        if isinstance(obj, dict) and obj and all(isinstance(v, dict) for v in obj.values()):  # index
            return list(obj.values())
        raise ValueError("unrecognised JSON table layout")
    if fmt == "markdown":
        lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
        rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines
                if not re.fullmatch(r"\|?[\s:\-|]+\|?", ln)]
        return _rows_to_table(rows)
    if fmt == "html":
        parser = _HTMLTable()
        parser.feed(text)
        return _rows_to_table(parser.rows)
    raise ValueError(f"unsupported table format {fmt!r}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _same_cell(a: Any, b: Any) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return (math.isnan(na) and math.isnan(nb)) or abs(na - nb) < 1e-6
    empty = ("", "nan", "none", "null")
    sa = "" if a is None else str(a).strip()
    sb = "" if b is None else str(b).strip()
    if sa.lower() in empty and sb.lower() in empty:
        return True
    return sa == sb


def same_table(got: Table, want: Table) -> bool:
    def cols(t: Table) -> list[str]:
        return sorted({str(k).strip() for row in t for k in row if str(k).strip() != "index"})

    if len(got) != len(want) or cols(got) != cols(want):
        return False
    for g, w in zip(got, want):
        g = {str(k).strip(): v for k, v in g.items()}
        w = {str(k).strip(): v for k, v in w.items()}
        if not all(_same_cell(g.get(c), w.get(c)) for c in cols(want)):
            return False
    return True


def formats_asked(question: str) -> tuple[str, str]:
    """(source, target) formats from "convert the Input Table from X format to Y format" or
    "Source Format: X" / "Target Format: Y" lines."""
    match = re.search(r"convert the Input Table from (\w+) format to (\w+) format", question, flags=re.I)
    if match:
        return match.group(1).lower(), match.group(2).lower()
    src = re.findall(r"Source Format:\s*(\w+)", question)
    dst = re.findall(r"Target Format:\s*(\w+)", question)
    if src and dst:
        return src[-1].lower(), dst[-1].lower()
    raise GraderInputError("the question does not name the source and target table formats", field="turns")


def _table_text(answer: str, fmt: str) -> str:
    tags = solution_tags(answer)
    if tags:
        answer = tags[-1].strip()
    for lang in (fmt, "json", "html", "csv", "tsv", "jsonl", "markdown", ""):
        blocks = re.findall(r"```" + lang + r"[ \t]*\n(.*?)```", answer, flags=re.DOTALL)
        if blocks:
            return blocks[-1].strip()
    text = answer.replace("&amp;", "&").replace("```", "").strip()
    # drop a lead-in sentence such as "Here is the table in JSONL format:"
    return re.sub(r"^\s*(Here|Input)\b.*?\b(format|table)\s*[:)]\s*", "", text, flags=re.IGNORECASE).strip()


def tablereformat_score(question: str, ground_truth: str, answer: str) -> float:
    _, target = formats_asked(question)
    try:
        want = parse_table(target, ground_truth)
    except (ValueError, TypeError, csv.Error) as exc:
        raise GraderInputError(f"ground truth is not a {target} table ({exc})", field="ground_truth") from None
    text = _table_text(answer, target)
    try:
        if same_table(parse_table(target, text), want):
            return 1.0
    except (ValueError, TypeError, csv.Error):
        pass
    if target in ("csv", "tsv", "jsonl"):
        # the table may sit between prose: read from its header line (or its JSON lines) on
        lines = text.splitlines()
        if target == "jsonl":
            picked = [ln for ln in lines if ln.strip().startswith("{") and ln.strip().endswith("}")]
        else:
            sep = "," if target == "csv" else "\t"
            header = sep.join(want[0].keys()) if want else ""
            start = next((i for i, ln in enumerate(lines) if ln.strip() == header), None)
            picked = lines[start:start + len(want) + 1] if start is not None else []
        try:
            return float(bool(picked) and same_table(parse_table(target, "\n".join(picked)), want))
        except (ValueError, TypeError, csv.Error):
            return 0.0
    return 0.0


def data_analysis_score(doc: dict, answer: str) -> float:
    task = str(doc.get("task", ""))
    truth = doc.get("ground_truth", "")
    if task == "cta":
        return cta_score(str(truth), answer)
    if task == "tablejoin":
        return tablejoin_score(truth, answer)
    if task == "tablereformat":
        return tablereformat_score(doc["turns"][0], str(truth), answer)
    raise GraderInputError(f"no LiveBench data_analysis grading rule for task {task!r}", field="task")
