"""IFEval checkers: each instruction type on responses that follow it and ones that do not."""

import pytest

from judgeaudit.graders import get_grader
from judgeaudit.graders.ifeval import INSTRUCTIONS, InstructionArgsError, follows, loose_variants
from judgeaudit.graders.text_units import count_sentences, count_words, split_sentences, word_tokens

EN = "The committee reviewed the proposal carefully and decided to approve the new library budget for next year."
FR = "Le comité a examiné la proposition avec soin et a décidé d'approuver le nouveau budget de la bibliothèque."

# (instruction id, kwargs, response, expected)
CASES = [
    ("keywords:existence", {"keywords": ["river", "Bridge"]}, "The bridge spans the river.", True),
    ("keywords:existence", {"keywords": ["river", "bridge"]}, "The bridge spans the valley.", False),
    ("keywords:frequency", {"keyword": "cat", "frequency": 3, "relation": "at least"}, "Cat, cat and CAT.", True),
    ("keywords:frequency", {"keyword": "cat", "frequency": 3, "relation": "at least"}, "A cat and a cat.", False),
    ("keywords:frequency", {"keyword": "dog", "frequency": 2, "relation": "less than"}, "One dog.", True),
    ("keywords:frequency", {"keyword": "dog", "frequency": 2, "relation": "less than"}, "dog dog", False),
    ("keywords:forbidden_words", {"forbidden_words": ["red", "blue"]}, "The sky was bluish and reddened.", True),
    ("keywords:forbidden_words", {"forbidden_words": ["red", "blue"]}, "It was Blue.", False),
    ("keywords:letter_frequency", {"letter": "z", "let_frequency": 2, "let_relation": "at least"}, "Zig zag", True),
    ("keywords:letter_frequency", {"letter": "z", "let_frequency": 2, "let_relation": "less than"}, "Zig zag", False),
    ("language:response_language", {"language": "fr"}, FR, True),
    ("language:response_language", {"language": "fr"}, EN, False),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"}, "One. Two.", True),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "at least"}, "One. Two.", False),
    ("length_constraints:number_sentences", {"num_sentences": 2, "relation": "less than"},
     "Dr. Smith met Mr. Jones at 3.30 p.m. yesterday.", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 3}, "Para one.\n***\nPara two.\n***\nPara three.", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 3}, "Para one.\n***\nPara two.", False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "One.\n***\n\n***\nTwo.", False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "***\nOne.\n***\nTwo.\n***", True),
    ("length_constraints:number_words", {"num_words": 5, "relation": "at least"}, "one two three four five", True),
    ("length_constraints:number_words", {"num_words": 5, "relation": "less than"}, "one two three four five", False),
    ("length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "summer"}, "Winter is cold.\n\n\"Summer, however, is warm.", True),
    ("length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "summer"}, "Winter is cold.\n\nSummer is warm.", False),
    ("length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "summer"}, "Winter is cold.\n\nAutumn is cool.", False),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name], see you at [address].", True),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name], see you there.", False),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hello.\n\nP.S. bring snacks", True),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hello.\n\nP. P. S. one more", True),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hello, no postscript here.", False),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "Intro\n* first\n- second", True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* first\n* second\n* third", False),
    ("detectable_format:constrained_response", {}, "After thought: My answer is maybe.", True),
    ("detectable_format:constrained_response", {}, "Maybe.", False),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and **two**", True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and ** **", False),
    ("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2},
     "Section 1\nintro\nSection 2\nbody", True),
    ("detectable_format:multiple_sections", {"section_spliter": "SECTION", "num_sections": 3},
     "SECTION 1\nintro\nSECTION 2\nbody", False),
    ("detectable_format:json_format", {}, "```json\n{\"a\": [1, 2]}\n```", True),
    ("detectable_format:json_format", {}, "Here is JSON: {\"a\": 1}", False),
    ("detectable_format:title", {}, "<<A Quiet Morning>>\nThe sun rose.", True),
    ("detectable_format:title", {}, "<<   >>\nNo real title.", False),
    ("combination:two_responses", {}, "First answer.\n******\nSecond answer.", True),
    ("combination:two_responses", {}, "Same.\n******\nSame.", False),
    ("combination:two_responses", {}, "One.\n******\n\n******\nTwo.", False),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a haiku about rain."},
     "write a haiku about rain. Drops on the tin roof", True),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a haiku about rain."}, "Drops on the tin roof", False),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "That is all. Any other questions?\"", True),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Any other questions? Bye.", False),
    ("startend:quotation", {}, "  \"Wrapped in quotes.\"  ", True),
    ("startend:quotation", {}, "\"Only opened.", False),
    ("change_case:capital_word_frequency", {"capital_frequency": 3, "capital_relation": "at least"},
     "I DO NOT agree with the U.S. plan.", True),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "less than"},
     "We MUST act NOW.", False),
    ("change_case:english_capital", {}, EN.upper(), True),
    ("change_case:english_capital", {}, EN, False),
    ("change_case:english_capital", {}, FR.upper(), False),
    ("change_case:english_lowercase", {}, EN.lower(), True),
    ("change_case:english_lowercase", {}, EN, False),
    ("punctuation:no_comma", {}, "No commas in this sentence.", True),
    ("punctuation:no_comma", {}, "One, two.", False),
]


@pytest.mark.parametrize("inst_id,kwargs,response,expected", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_checker(inst_id, kwargs, response, expected):
    assert follows([inst_id], [kwargs], response) == [expected]


def test_every_instruction_type_has_a_passing_and_a_failing_case():
    assert len(INSTRUCTIONS) == 25
    for inst_id in INSTRUCTIONS:
        outcomes = {c[3] for c in CASES if c[0] == inst_id}
        assert outcomes == {True, False}, inst_id


def test_empty_response_follows_nothing():
    assert follows(["punctuation:no_comma"], [{}], "   ") == [False]


def test_null_kwargs_are_dropped_and_missing_required_ones_are_reported():
    kw = {"keywords": ["x"], "num_words": None, "relation": None}
    assert follows(["keywords:existence"], [kw], "x marks the spot") == [True]
    with pytest.raises(InstructionArgsError, match="num_words"):
        follows(["length_constraints:number_words"], [{"relation": "at least"}], "text")
    with pytest.raises(InstructionArgsError, match="unknown instruction"):
        follows(["keywords:telepathy"], [{}], "text")
    with pytest.raises(InstructionArgsError, match="relation"):
        follows(["length_constraints:number_words"], [{"num_words": 3, "relation": "about"}], "text")


def test_loose_accepts_what_strict_rejects():
    # An introductory line and markdown asterisks break strict checks, not loose ones.
    response = "Sure! Here is my answer:\n\"**all quiet** on the front\""
    assert follows(["startend:quotation"], [{}], response) == [False]
    assert follows(["startend:quotation"], [{}], response, loose=True) == [True]
    assert len(loose_variants("a\nb\nc")) == 8
    assert "b" in loose_variants("a\nb\nc")


def test_sentence_and_word_counts():
    assert count_words("don't stop-now") == 4
    assert count_sentences("") == 0
    # NLTK's english Punkt, the benchmark's own sentence splitter.
    assert split_sentences("It costs $3.50 today. Really? yes. Ask Dr. No.") == [
        "It costs $3.50 today.", "Really?", "yes.", "Ask Dr. No."]


@pytest.mark.parametrize("text, n", [
    ("it is cold. it is dark.", 2),              # a lowercase word may start a sentence
    ("Water is H2O. It is wet.", 2),             # a token ending in a letter is not an initial
    ("I woke at 7 a.m. The sun was up.", 2),     # Punkt's own abbreviation list and collocations
    ("Mr. Smith went to Washington. He won.", 2),
])
def test_sentence_counts_follow_punkt(text, n):
    assert count_sentences(text) == n


@pytest.mark.parametrize("text, n", [("We CANNOT stop.", 2), ("I'M GONNA WIN.", 5), ("NASA and the U.S. agree", 2)])
def test_capital_words_follow_nltk_word_tokenize(text, n):
    assert sum(tok.isupper() for tok in word_tokens(text)) == n
    kw = {"capital_frequency": n, "capital_relation": "at least"}
    assert follows(["change_case:capital_word_frequency"], [kw], text) == [True]
    kw = {"capital_frequency": n + 1, "capital_relation": "at least"}
    assert follows(["change_case:capital_word_frequency"], [kw], text) == [False]


def test_punkt_tables_are_written_in_nltk_layout(tmp_path):
    from judgeaudit.graders.punkt_data import install_punkt

    lang_dir = install_punkt(tmp_path)
    assert sorted(p.name for p in lang_dir.iterdir()) == [
        "abbrev_types.txt", "collocations.tab", "ortho_context.tab", "sent_starters.txt"]
    abbrevs = (lang_dir / "abbrev_types.txt").read_text(encoding="utf-8").split("\n")
    assert "a.m" in abbrevs and "dr" in abbrevs
    ortho = (lang_dir / "ortho_context.tab").read_text(encoding="utf-8").splitlines()
    assert len(ortho) > 10000 and all(line.split("\t")[1].isdigit() for line in ortho)
    assert all(len(line.split("\t")) == 2 for line in (lang_dir / "collocations.tab").read_text().splitlines())
    assert install_punkt(tmp_path) == lang_dir   # a second call rewrites nothing


def test_keyword_kwargs_are_regular_expressions_as_in_the_reference():
    # The reference passes keywords to re.search unescaped: "colou?r" matches "color".
    assert follows(["keywords:existence"], [{"keywords": ["colou?r"]}], "What a color.") == [True]
    assert follows(["keywords:frequency"], [{"keyword": "c.t", "frequency": 2, "relation": "at least"}],
                   "cat and cot") == [True]
    assert follows(["keywords:forbidden_words"], [{"forbidden_words": ["b.d"]}], "a bad day") == [False]
    # Not a valid expression (the reference would crash): matched as literal text.
    assert follows(["keywords:existence"], [{"keywords": ["C++"]}], "I like C++ a lot.") == [True]
    assert follows(["keywords:forbidden_words"], [{"forbidden_words": ["(oops"]}], "fine") == [True]


def test_language_detection_is_seeded_locally_not_globally():
    import langdetect
    from langdetect import DetectorFactory

    from judgeaudit.graders.ifeval import detect_language

    before = DetectorFactory.seed
    text = "Ceci est une phrase en français, écrite pour le test."
    assert {detect_language(text) for _ in range(5)} == {"fr"}
    assert DetectorFactory.seed == before          # the global factory is left as it was
    assert langdetect.detect(text) == "fr"


def test_grader_metrics_and_pooled_instruction_accuracy():
    grader = get_grader("ifeval")
    doc1 = {"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_comma", "startend:quotation"],
            "kwargs": [{}, {}]}
    doc2 = {"key": 2, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
    s1 = grader.score(doc1, "\"no commas here\"")   # both followed
    s2 = grader.score(doc2, "a, b")                  # not followed
    assert s1["prompt_level_strict_acc"] == 1.0 and s1["inst_level_strict_acc"] == 1.0
    assert s2["prompt_level_loose_acc"] == 0.0
    agg = grader.aggregate([s1, s2])
    assert agg["prompt_level_strict_acc"] == 0.5
    assert agg["inst_level_strict_acc"] == pytest.approx(2 / 3)  # pooled, not mean of 1.0 and 0.0
    assert agg["score"] == pytest.approx((0.5 + 2 / 3 + 0.5 + 2 / 3) / 4)
