"""LiveBench task graders on the shipped fixture items, with answers we know right and wrong."""

import base64
import json
import pickle
import zlib
from pathlib import Path

import pytest

from judgeaudit.graders import GraderInputError, get_grader
from judgeaudit.graders.livebench import CATEGORIES, TASKS
from judgeaudit.graders.livebench.coding import decode_tests, extract_code
from judgeaudit.graders.livebench.data_analysis import cta_score, formats_asked, parse_table, tablejoin_score
from judgeaudit.graders.livebench.language import connections_score, plot_unscrambling_score, typos_score
from judgeaudit.graders.livebench.math import (
    amps_hard_score, integer_answer_score, multiple_choice_score, proof_gap_score)
from judgeaudit.graders.livebench.reasoning import (
    spatial_score, web_of_lies_v2_score, web_of_lies_v3_score, zebra_score)

FIXTURES = Path(__file__).resolve().parents[1] / "benchmarks" / "fixtures" / "generative"
RULE_PROBES = Path(__file__).resolve().parent / "data" / "livebench_rules" / "probes.jsonl"


def items(category):
    with open(FIXTURES / f"livebench_{category}.jsonl", encoding="utf-8") as fh:
        return {d["question_id"]: d for d in map(json.loads, fh)}


def grade(doc, answer):
    return get_grader("livebench").score(doc, answer)["score"]


# ---- math ---------------------------------------------------------------------------------

def test_competition_multiple_choice():
    doc = items("math")["fx-math-1"]
    assert grade(doc, "3 + 8 = 11, so the answer is B.\nBBBBB") == 1.0
    assert grade(doc, "The answer is $\\boxed{\\text{B}}$") == 1.0
    assert grade(doc, "Multiplication first gives 3 + 8 = 11") == 1.0  # the choice's value at the end
    assert grade(doc, "Left to right: 7 * 2 = 14.\nAAAAA") == 0.0
    with pytest.raises(ValueError):
        multiple_choice_score("F", "FFFFF", "")


def test_aime_integer_in_the_tail():
    doc = items("math")["fx-math-2"]
    assert grade(doc, "142 multiples of 7, minus 12 of 77, gives 130") == 1.0
    assert grade(doc, "The answer is 130" + " and some more words" * 5) == 0.0
    assert integer_answer_score("130", "final: 131") == 0.0


def test_olympiad_edit_distance_partial_credit():
    doc = items("math")["fx-math-3"]
    assert grade(doc, "Reasoning...\nAnswer: 2, 1, 3") == 1.0
    assert grade(doc, "Answer: 2, 3, 1") == pytest.approx(1 - 2 / 3)
    assert grade(doc, "no idea") == 0.0
    assert proof_gap_score("1,2,3,4", "Answer: <expression 1>, <expression 2>, 3, 4") == 1.0


def test_amps_hard_symbolic_equivalence():
    doc = items("math")["fx-math-4"]
    assert grade(doc, "By the chain rule the derivative is $\\boxed{2x\\cos(x^2)}$.") == 1.0
    assert grade(doc, "$\\boxed{2 \\cos \\left(x^2\\right) x}$") == 1.0
    assert grade(doc, "$\\boxed{\\cos(x^2)}$") == 0.0
    assert amps_hard_score("\\frac{x^3}{3}", "Integrating: $\\boxed{\\frac{x^3}{3} + C}$") == 1.0


# ---- reasoning ----------------------------------------------------------------------------

def test_web_of_lies():
    doc = items("reasoning")["fx-rs-1"]
    assert grade(doc, "Cai is truthful, so Ben is too, so Ana lies. **yes, yes, no**") == 1.0
    assert grade(doc, "<solution>yes, yes, no</solution>") == 1.0
    assert grade(doc, "**yes, no, no**") == 0.0
    assert web_of_lies_v2_score("no, no, yes", "so the answer: no, no, yes.") == 1.0


def test_zebra_partial_credit():
    doc = items("reasoning")["fx-rs-2"]
    assert grade(doc, "<solution>dog, 2</solution>") == 1.0
    assert grade(doc, "<solution>dog, 3</solution>") == pytest.approx(0.25)  # (0 + 1/2) / 2
    assert grade(doc, "I am not sure.") == 0.0
    assert zebra_score("fish", "the answer is ***fish***", release_date="2024-07-26") == 1.0


def test_spatial():
    doc = items("reasoning")["fx-rs-3"]
    assert grade(doc, "The diagonal splits it into **two** triangles, so **2**") == 1.0
    assert grade(doc, "**two**") == 1.0
    assert grade(doc, "**4**") == 0.0
    assert spatial_score("triangle", "**equilateral triangle**") == 1.0
    assert spatial_score("triangle", "**circle, square, triangle, hexagon, pentagon**") == 0.0


# ---- language -----------------------------------------------------------------------------

def test_connections():
    doc = items("language")["fx-lang-1"]
    right = "<solution>venus, mars, jupiter, earth, opal, pearl, ruby, emerald, mango, plum, apple, cherry, " \
            "queen, king, bishop, rook</solution>"
    assert grade(doc, right) == 1.0
    half = "<solution>venus, mars, jupiter, earth, opal, pearl, ruby, emerald, mango, plum, apple, king, " \
           "queen, cherry, bishop, rook</solution>"
    assert grade(doc, half) == 0.5
    assert grade(doc, "planets, gems, fruit and chess") == 0.0
    assert connections_score("a,b,c,d,e,f,g,h", "**a, b, c, d**", release_date="2024-06-24") == 0.5


def test_typos():
    doc = items("language")["fx-lang-2"]
    assert grade(doc, "The committee will meet on Tuesday to discuss the budget.") == 1.0
    assert grade(doc, "The committee will meet on Tuesday to discus the budget.") == 0.0
    assert typos_score("a b", "a\nb") == 1.0


def test_plot_unscrambling():
    doc = items("language")["fx-lang-3"]
    assert grade(doc, "<PLOT_SUMMARY>" + doc["ground_truth"] + "</PLOT_SUMMARY>") == 1.0
    shuffled = ("She finally reaches the summit at dawn. A young climber sets out to scale a remote mountain. "
                "A storm forces her to shelter in a cave.")
    assert grade(doc, "<PLOT_SUMMARY>" + shuffled + "</PLOT_SUMMARY>") == pytest.approx(1 / 3)
    assert plot_unscrambling_score("A. B. C. D.", "D. C. B. A.") < 0.5


# ---- data analysis --------------------------------------------------------------------------

def test_cta():
    doc = items("data_analysis")["fx-da-1"]
    assert grade(doc, "order_date") == 1.0
    assert grade(doc, " Order_Date. ") == 1.0
    assert grade(doc, "price") == 0.0


def test_tablejoin_f1():
    doc = items("data_analysis")["fx-da-2"]
    assert grade(doc, "```python\n{'station_id': 'k3Jd', 'city': 'yy9Q', 'temp_c': 'temperature'}\n```") == 1.0
    assert grade(doc, "{'station_id': 'k3Jd', 'city': 'temperature'}") == pytest.approx(0.4)  # tp1 fp1 fn2
    assert grade(doc, "I cannot do this") == 0.0
    assert tablejoin_score({"a": "x"}, "{'a': 'x', 'b': 'y'}") == pytest.approx(0.67)


def test_tablereformat():
    doc = items("data_analysis")["fx-da-3"]
    good = '{"name": "Ada", "age": 36, "city": "London"}\n{"name": "Lin", "age": 29, "city": "Taipei"}'
    assert grade(doc, good) == 1.0
    assert grade(doc, "Here is the table in JSONL format:\n```jsonl\n" + good + "\n```") == 1.0
    assert grade(doc, good.replace("29", "30")) == 0.0
    assert grade(doc, good.split("\n")[0]) == 0.0
    assert formats_asked("Source Format: csv\nTarget Format: html") == ("csv", "html")
    html = "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>x</td></tr></table>"
    assert parse_table("html", html) == [{"a": "1", "b": "x"}]
    md = "| a | b |\n|---|---|\n| 1 | x |"
    assert parse_table("markdown", md) == [{"a": "1", "b": "x"}]


# ---- instruction following -------------------------------------------------------------------

def test_instruction_following_half_credit():
    doc = items("instruction_following")["fx-if-1"]
    assert grade(doc, "the city approved a bike lane network, citing three years of safety data.") == 1.0
    # lowercase but names the forbidden word: all-followed 0, fraction 1/2
    assert grade(doc, "the council approved a bike lane network.") == pytest.approx(0.25)
    assert grade(doc, "") == 0.0


# ---- coding -------------------------------------------------------------------------------

def test_coding_generation_stdin_with_hidden_tests():
    doc = items("coding")["fx-code-1"]
    right = "```python\nn = int(input())\na = list(map(int, input().split()))\nprint(max(a) - min(a))\n```"
    wrong = "```python\nn = int(input())\na = list(map(int, input().split()))\nprint(max(a))\n```"
    assert grade(doc, "Here you go:\n" + right) == 1.0
    assert grade(doc, wrong) == 0.0
    assert grade(doc, "print(max(a) - min(a))") == 0.0  # no fenced block: nothing to run
    assert len(decode_tests(doc["private_test_cases"])) == 2


def test_coding_functional():
    doc = items("coding")["fx-code-2"]
    right = ("```python\nclass Solution:\n    def countVowelWords(self, words: List[str]) -> int:\n"
             "        return sum(1 for w in words if w[0] in 'aeiou' and w[-1] in 'aeiou')\n```")
    assert grade(doc, right) == 1.0
    assert grade(doc, right.replace("w[-1] in 'aeiou'", "True")) == 0.0


def test_coding_completion_prepends_partial_solution():
    doc = items("coding")["fx-code-3"]
    continuation = "```python\nfor v in values:\n    total += v\n    out.append(total)\nprint(*out)\n```"
    assert grade(doc, continuation) == 1.0
    assert grade(doc, continuation.replace("total += v", "total = v")) == 0.0


def test_coding_runaway_answer_scores_zero():
    doc = dict(items("coding")["fx-code-1"])
    from judgeaudit.graders.livebench.coding import coding_report
    report = coding_report(doc, "```python\nwhile True:\n    pass\n```", per_test_timeout_s=1.0)
    assert not report.passed and report.status == "timeout"


def test_hidden_tests_refuse_pickled_objects():
    evil = base64.b64encode(zlib.compress(pickle.dumps(Path("/")))).decode()
    with pytest.raises(pickle.UnpicklingError):
        decode_tests(evil)


def test_extract_code_takes_last_block():
    assert extract_code("```python\na=1\n```\ntext\n```python\nb=2\n```") == "b=2"
    assert extract_code("no code") == ""


# ---- dispatch and aggregation -------------------------------------------------------------

def test_category_graders_refuse_other_categories_and_unknown_tasks():
    doc = items("math")["fx-math-1"]
    with pytest.raises(GraderInputError, match="category"):
        get_grader("livebench_reasoning").score(doc, "BBBBB")
    assert get_grader("livebench_math").score(doc, "BBBBB")["score"] == 1.0
    with pytest.raises(GraderInputError, match="no LiveBench"):
        grade({**doc, "task": "math_comp", "subtask": "putnam_2024"}, "x")


def test_category_score_is_mean_of_task_means():
    grader = get_grader("livebench")
    per_doc = [{"score": 1.0, "task_index": 0.0}, {"score": 1.0, "task_index": 0.0},
               {"score": 0.0, "task_index": 0.0}, {"score": 0.0, "task_index": 2.0}]
    assert grader.aggregate(per_doc)["score"] == pytest.approx((2 / 3 + 0) / 2)


def test_every_fixture_item_is_gradable():
    for category in CATEGORIES:
        for doc in items(category).values():
            assert doc["task"] in TASKS
            value = grade(doc, "")
            assert value == 0.0


def test_malformed_items_raise_grader_input_errors_naming_the_field():
    doc = dict(items("data_analysis")["fx-da-2"])
    with pytest.raises(GraderInputError) as err:
        grade({**doc, "ground_truth": "not a dict"}, "{}")
    assert err.value.field == "ground_truth"
    with pytest.raises(GraderInputError) as err:
        grade({k: v for k, v in doc.items() if k != "task"}, "{}")
    assert err.value.field == "task"
    with pytest.raises(GraderInputError) as err:
        get_grader("livebench").score({**items("instruction_following")["fx-if-1"], "kwargs": None}, "x")
    assert err.value.field == "kwargs"
    with pytest.raises(GraderInputError) as err:
        get_grader("math_hard").score({"problem": "p"}, "x")
    assert err.value.field == "solution"


# ---- LiveBench's rules, one test each, then every probe against the official scorer's score ----

def test_amc_last_line_rule():
    q = items("math")["fx-math-1"]["turns"][0]
    assert multiple_choice_score("B", "Working it out...\n**B**", q) == 1.0      # the letter alone, asterisks dropped
    assert multiple_choice_score("B", "So the final choice is (B)", q) == 1.0   # the first parenthesised text
    assert multiple_choice_score("B", "Working it out...\nb", q) == 1.0
    assert multiple_choice_score("B", "B\nmore text after", q) == 0.0          # only the last line counts
    assert multiple_choice_score("B", "Thus the answer is (C)", q) == 0.0


def test_amps_hard_removes_newlines_before_reading_the_last_dollar_pair():
    # With newlines removed "the last line" is the whole answer, so the $2x$ before "Done." is read.
    assert amps_hard_score("2 x", "$2x$\nDone.") == 1.0
    assert amps_hard_score("2 x", "We find $x^2$ then $2x$\n\nThat is all.") == 1.0
    assert amps_hard_score("-\\frac{7}{2}", "the answer is -\\frac{7}{2}.") == 1.0   # no $: the tail must match


def test_amps_hard_accepts_differences_below_a_thousandth():
    assert amps_hard_score("\\frac{1}{3}", "$\\boxed{0.3333}$") == 1.0    # |diff| = 3.3e-5
    assert amps_hard_score("\\sqrt{2}", "$\\boxed{1.41421}$") == 1.0
    assert amps_hard_score("\\frac{1}{3}", "$\\boxed{0.33}$") == 0.0      # 3.3e-3: LiveBench asks an LLM; 0 here


def test_web_of_lies_v3_rule():
    truth = "yes, no, yes"
    assert web_of_lies_v3_score(truth, "<solution>yes, no, no</solution>") == pytest.approx((0 + 2 / 3) / 2)
    assert web_of_lies_v3_score(truth, "<solution>Yes, No, Yes</solution>") == 0.0     # compared as written
    assert web_of_lies_v3_score(truth, "<solution>yes,no,yes</solution>") == pytest.approx(1 / 6)  # " no" != "no"
    assert web_of_lies_v3_score(truth, "**yes, no, yes**") == 1.0     # no bold rule; the plain triple is found
    assert web_of_lies_v2_score(truth, "<solution>yes, no, no</solution>") == 0.0   # v2: all or nothing
    doc = {"category": "reasoning", "task": "web_of_lies_v3", "ground_truth": truth}
    assert grade(doc, "<solution>yes, no, no</solution>") == pytest.approx(1 / 3)


def test_spatial_exact_answer_rule_and_no_solution_tags():
    assert spatial_score("3", "3") == 1.0                      # the whole answer equal to the truth
    assert spatial_score("3", "3 ") == 0.0                     # exactly equal
    assert spatial_score("3", "<solution>3</solution>") == 0.0  # LiveBench reads no <solution> tags here
    assert spatial_score("3", "$\\boxed{\\textbf{3}}$") == 1.0
    assert spatial_score("triangle", "$\\boxed{\\text{Triangle}}$") == 0.0   # the box is compared exactly


def test_cta_suffix_rule():
    assert cta_score("order_date", "The class is order_date") == 1.0
    assert cta_score("order_date", "order_date is the class") == 0.0
    assert cta_score("order_date", "<solution>order_date</solution>") == 0.0   # tags are not read
    assert cta_score("order_date", "$\\boxed{\\text{order\\_date}}$") == 1.0


def test_tablejoin_fenced_json_and_null():
    truth = "{'station_id': 'k3Jd', 'city': 'yy9Q'}"
    assert tablejoin_score(truth, "```json\n{\"station_id\": \"k3Jd\", \"city\": \"yy9Q\"}\n```") == 1.0
    # null is read as None, and entries mapped to None are dropped (a missed pair, not a wrong one)
    assert tablejoin_score(truth, "```json\n{\"station_id\": \"k3Jd\", \"city\": null}\n```") == 0.67
    assert tablejoin_score(truth, "Here:\n```json\n{\"station_id\": \"k3Jd\",\n \"city\": \"yy9Q\",\n \"other\": null}\n```") == 1.0


def test_instruction_following_strips_only_what_livebench_strips():
    from judgeaudit.graders.livebench import instruction_following_response

    old = {"livebench_release_date": "2024-06-24"}
    # Surrounding whitespace goes; <solution> tags and markup stay in IFEval-format items.
    assert instruction_following_response(old, "  <solution>hi</solution>\n") == "<solution>hi</solution>"
    assert instruction_following_response(old, "**bold** text") == "**bold** text"
    new = {"livebench_release_date": "2025-11-25"}
    assert instruction_following_response(new, "x <solution>\n first </solution> <solution>second</solution>") == "first"
    doc = {"category": "instruction_following", "task": "summarize", "instruction_id_list": ["startend:quotation"],
           "kwargs": [{}], "livebench_release_date": "2024-06-24"}
    wrapped = '<solution>"a quoted reply"</solution>'
    assert grade(doc, '  "a quoted reply"\n') == 1.0
    assert grade(doc, wrapped) == 0.0        # the tags are part of the checked text there, as in LiveBench
    assert grade({**doc, "livebench_release_date": "2025-12-01"}, wrapped) == 1.0


def _rule_probes():
    with open(RULE_PROBES, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


_PROBE_SCORERS = {
    "amc_last_line": lambda p: multiple_choice_score(p["ground_truth"], p["answer"], p["question"]),
    "amc_other_rules": lambda p: multiple_choice_score(p["ground_truth"], p["answer"], p["question"]),
    "aime": lambda p: integer_answer_score(p["ground_truth"], p["answer"]),
    "amps_hard": lambda p: amps_hard_score(p["ground_truth"], p["answer"]),
    "web_of_lies_v3": lambda p: web_of_lies_v3_score(p["ground_truth"], p["answer"]),
    "web_of_lies_v2": lambda p: web_of_lies_v2_score(p["ground_truth"], p["answer"]),
    "spatial": lambda p: spatial_score(p["ground_truth"], p["answer"]),
    "cta": lambda p: cta_score(p["ground_truth"], p["answer"]),
    "tablejoin": lambda p: tablejoin_score(p["ground_truth"], p["answer"]),
}


def test_every_rule_probe_scores_as_the_official_scorer():
    rows = _rule_probes()
    assert len(rows) >= 90 and set(r["rule"] for r in rows) == set(_PROBE_SCORERS)
    wrong = []
    for row in rows:
        ours = _PROBE_SCORERS[row["rule"]](row)
        # "llm": sympy could not decide and LiveBench would ask an LLM; none is called here.
        want = 0.0 if row["official"] == "llm" else row["official"]
        if ours != pytest.approx(want):
            wrong.append((row["rule"], row["answer"], want, ours))
    assert not wrong, wrong
