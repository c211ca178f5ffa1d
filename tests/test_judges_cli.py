"""`judgeaudit judges list` and `judgeaudit judges try`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from judgeaudit.cli import main


def test_list_shows_families_and_templates():
    result = CliRunner().invoke(main, ["judges", "list"])
    assert result.exit_code == 0, result.output
    for word in ("synthetic:oracle", "smollm2", "--api-base", "factorwise", "single"):
        assert word in result.output


def test_try_prints_the_verdict_distribution():
    result = CliRunner().invoke(main, ["judges", "try", "--judge", "synthetic:longer", "--prompt", "p",
                                       "--a", "a much longer answer than the other", "--b", "short", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["probs"]["A>>B"] == 1.0 and out["win_score_a"] == 1.0 and out["parsed"]
    text = CliRunner().invoke(main, ["judges", "try", "--judge", "synthetic:longer", "--prompt", "p",
                                     "--a", "x", "--b", "y"])
    assert text.exit_code == 0 and "win score of A: 0.500" in text.output


def test_try_bad_spec_is_one_line():
    result = CliRunner().invoke(main, ["judges", "try", "--judge", "synthetic:nope", "--prompt", "p",
                                       "--a", "x", "--b", "y"])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "synthetic:oracle" in result.output
    dry = CliRunner().invoke(main, ["judges", "try", "--judge", "synthetic:oracle", "--prompt", "p",
                                    "--a", "x", "--b", "y", "--dry-run"])
    assert dry.exit_code == 1 and "calls no API" in dry.output
