from __future__ import annotations

import pytest

from judgeaudit.errors import InputError
from judgeaudit.stats import compute_results, evaluate, load_policy
from judgeaudit.stats.policy import passed
from simulated_records import simulate_records


def _oracle(probe, kind, order, i, rng):
    return 0.0 if kind in ("substance", "crossed") else 0.5


def _stylist(probe, kind, order, i, rng):
    # prefers anything styled, even when wrong; prefers position A half the time
    if kind == "control":
        return 0.75 if order == "perturbed_first" and i % 2 else 0.5
    if probe in ("markdown", "verbose", "crossed_markdown"):
        return 1.0
    return 0.25 if kind == "substance" else 0.5


def _results(rule):
    return compute_results(simulate_records(rule, n_items=30), judge="sim", battery="t", seed=0, resamples=300)


def test_default_policy_passes_oracle_and_fails_stylist():
    policy = load_policy()
    assert policy.name == "default"
    good = evaluate(policy, _results(_oracle))
    assert passed(good), [c for c in good if not c.passed]
    bad = evaluate(policy, _results(_stylist))
    failing = {c.name for c in bad if not c.passed}
    assert "style_over_substance_rate" in failing and "style_sensitivity" in failing
    assert not passed(bad)


def test_custom_policy_only_checks_its_keys(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[policy]\nname = "lenient"\nmin_position_consistency = 0\n')
    policy = load_policy(path)
    checks = evaluate(policy, _results(_stylist))
    assert [c.name for c in checks] == ["position_consistency"] and passed(checks)


@pytest.mark.parametrize("text, needle", [
    ('[policy]\nmax_style_sensitivty = 0.1\n', "policy.max_style_sensitivty"),
    ('[policy]\nmin_position_consistency = "high"\n', "policy.min_position_consistency"),
    ('[policy]\nmin_position_consistency = \n', ":2:"),
    ('max_unparsed_share = 0.1\n', "policy"),
])
def test_bad_policy_is_one_clear_input_error(tmp_path, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_policy(path)
    assert str(path) in str(exc.value) and needle in str(exc.value)
