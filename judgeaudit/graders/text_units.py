"""Sentence, word and token counting for the instruction checkers, as IFEval defines them.

The reference IFEval checkers count sentences with NLTK's english Punkt model, words as
runs of word characters (NLTK's `RegexpTokenizer(r"\\w+")`) and capitalised words over
`nltk.word_tokenize`. The same NLTK code is used here, with the Punkt tables installed
from a package (see `punkt_data`), so the counts are the benchmark's own.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=1)
def _sentence_tokenizer():
    from nltk.tokenize import PunktTokenizer

    from judgeaudit.graders.punkt_data import nltk_data_dir

    nltk_data_dir()
    return PunktTokenizer("english")


def split_sentences(text: str) -> list[str]:
    """Punkt's english sentences; empty or whitespace-only text has none."""
    return _sentence_tokenizer().tokenize(text)


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


_WORD = re.compile(r"\w+")


def count_words(text: str) -> int:
    """Runs of word characters, as the reference counts words (so "don't" is two)."""
    return len(_WORD.findall(text))


def word_tokens(text: str) -> list[str]:
    """`nltk.word_tokenize` (Punkt sentences, then the Treebank word tokenizer):
    "CANNOT" is "CAN" + "NOT", "I'M" is "I" + "'M"."""
    from nltk.tokenize import word_tokenize

    _sentence_tokenizer()  # makes sure the punkt tables are on nltk's data path
    return word_tokenize(text)
