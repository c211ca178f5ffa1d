"""MATH Lvl 5 answer extraction, normalization and equivalence on answers we know."""

import pytest

from judgeaudit.graders import get_grader
from judgeaudit.graders.math_answers import (
    INVALID, boxed_answer, final_answer_statement, last_boxed, minerva_equal, normalize_answer)

DOC = {"problem": "Compute $\\frac{6}{8}$ in lowest terms.", "level": "Level 5", "type": "Prealgebra",
       "solution": "Dividing by 2 gives $\\boxed{\\frac{3}{4}}$."}


def test_boxed_extraction_balances_braces():
    assert last_boxed("a \\boxed{1} then \\boxed{\\frac{a}{b}} end") == "\\boxed{\\frac{a}{b}}"
    assert boxed_answer("so \\fbox{x^{2}}.") == "x^{2}"
    assert boxed_answer("\\boxed 5$ ok") == "5"
    assert boxed_answer("no box here") is None
    assert boxed_answer("\\boxed{unclosed") is None


def test_final_answer_statement():
    gen = "Work...\nFinal Answer: The final answer is $\\frac{3}{4}$. I hope it is correct."
    assert final_answer_statement(gen) == "$\\frac{3}{4}$"
    # a generation cut right after the answer sentence still counts; one cut inside it does not
    assert final_answer_statement("Final Answer: The final answer is 12. ") == "12"
    assert final_answer_statement("Final Answer: The final answer is 12") == INVALID
    assert final_answer_statement("I think it is 12.") == INVALID


@pytest.mark.parametrize("raw,normalized", [
    ("$\\frac12$", "\\frac{1}{2}"),
    ("\\sqrt2", "\\sqrt{2}"),
    ("100,000", "100000"),
    ("5 \\text{ inches}", "5"),
    ("x = 7", "7"),
    ("30^\\circ", "30"),
    ("\\text{(B)}", "(B)"),
])
def test_normalization(raw, normalized):
    assert normalize_answer(raw) == normalized


@pytest.mark.parametrize("generation,correct", [
    ("We simplify.\nFinal Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", True),
    ("Final Answer: The final answer is $0.75$. I hope it is correct.", True),
    ("The answer is $\\boxed{\\dfrac{3}{4}}$.", True),
    ("Final Answer: The final answer is $\\frac{6}{8}$. I hope it is correct.", True),
    ("Final Answer: The final answer is $\\frac{4}{3}$. I hope it is correct.", False),
    ("The answer is $\\boxed{3}$.", False),
    ("", False),
])
def test_exact_match(generation, correct):
    result = get_grader("math_hard").score(DOC, generation)
    assert result["exact_match"] == float(correct)
    assert result["score"] == result["exact_match"]


def test_original_minerva_rule_needs_the_final_answer_sentence():
    assert minerva_equal("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}")
    assert minerva_equal("Final Answer: The final answer is $0.75$. I hope it is correct.", "\\frac{3}{4}")
    assert not minerva_equal("The answer is $\\boxed{\\frac{3}{4}}$.", "\\frac{3}{4}")
    assert not minerva_equal("Final Answer: The final answer is $5$. I hope it is correct.", "\\frac{3}{4}")


def test_interval_and_negative_fraction_answers():
    grader = get_grader("math_hard")
    doc = {"solution": "Hence the domain is $\\boxed{[2,5)}$."}
    assert grader.score(doc, "Final Answer: The final answer is $[2,5)$. I hope it is correct.")["exact_match"] == 1
    assert grader.score(doc, "Final Answer: The final answer is $[2,5]$. I hope it is correct.")["exact_match"] == 0
    doc = {"solution": "So $\\frac{a}{b}=\\boxed{-\\frac{2}{3}}.$"}
    assert grader.score(doc, "so the ratio is $\\boxed{-\\frac{2}{3}}$")["exact_match"] == 1
    assert grader.score(doc, "so the ratio is $\\boxed{\\frac{2}{3}}$")["exact_match"] == 0


# ---- the reference's gold rule, the parser runtime, and hard time limits -------------------

def test_gold_is_read_as_the_leaderboard_reads_it():
    from judgeaudit.graders.math_answers import reference_gold

    assert reference_gold("so $\\boxed{\\frac{3}{4}}$") == "\\frac{3}{4}"
    assert reference_gold("so \\boxed 5$") == "5"
    # The leaderboard's remove_boxed accepts only \boxed: a last \fbox gives no gold answer.
    assert reference_gold("so \\fbox{7}") == INVALID
    assert reference_gold("\\boxed{unclosed") == INVALID


def test_sympy_latex_parser_runs_on_the_pinned_antlr4_runtime():
    # With antlr4 4.13 sympy's LaTeX parser fails to import and the reference falls back
    # to string matching, so exact_match_original differs on answers such as these.
    from importlib.metadata import version

    assert version("antlr4-python3-runtime").startswith("4.11")
    from sympy.parsing.latex import parse_latex

    assert str(parse_latex("\\frac{1}{2}")) == "1/2"
    assert minerva_equal("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", "0.5")
    assert not minerva_equal("Final Answer: The final answer is $\\frac{1}{3}$. I hope it is correct.", "0.5")


def test_guarded_worker_kills_an_overrunning_check_off_the_main_thread():
    import threading
    import time

    from judgeaudit.graders.guarded import CheckTimeout, GuardedWorker

    worker = GuardedWorker(warm=())
    outcome = {}

    def run():
        start = time.monotonic()
        try:
            worker.call("time:sleep", 60, timeout_s=1.0)
        except CheckTimeout:
            outcome["timeout"] = time.monotonic() - start

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    try:
        assert not thread.is_alive() and outcome["timeout"] < 10
        assert worker.call("math:factorial", 5, timeout_s=30) == 120   # a fresh child took over
        assert worker.restarts == 1
    finally:
        worker.close()


def test_a_timed_out_check_scores_zero_and_is_counted():
    from judgeaudit.graders.math_answers import MathHardGrader

    grader = MathHardGrader(timeout_s=0.0)   # no check can answer in no time
    result = grader.score(DOC, "Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.")
    assert result["exact_match"] == 0 and result["exact_match_original"] == 0
    assert result["equivalence_timeouts"] == 2
    agg = grader.aggregate([result, {**result, "equivalence_timeouts": 0.0}])
    assert agg["equivalence_timeouts"] == 2


@pytest.mark.parametrize("answer", ["$(10^{100})!$", "$9^{9^{9^{9}}}$"])
def test_adversarial_answers_finish_within_the_limit_off_the_main_thread(answer):
    import threading
    import time

    from judgeaudit.graders.math_answers import MathHardGrader

    grader = MathHardGrader(timeout_s=8)
    generation = f"Final Answer: The final answer is {answer}. I hope it is correct."
    out = {}

    def run():
        start = time.monotonic()
        out["result"] = grader.score({"solution": "so $\\boxed{5}$"}, generation)
        out["wall"] = time.monotonic() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)   # two checks of at most 8 s each, plus starting the checker
    assert not thread.is_alive(), "grading an adversarial answer did not return"
    assert out["result"]["exact_match"] == 0 and out["result"]["exact_match_original"] == 0
