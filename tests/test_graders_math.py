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
