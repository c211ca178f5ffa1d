"""--verdict-logprobs: API judges read the five-verdict distribution from top_logprobs at the verdict
position, on a loopback server, and fall back to the text verdict when the server gives none."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from judgeaudit.cli import main
from openai_fault_server import FaultServer, default_verdict

PROMPT, A, B = "What is 2 + 2?", "4.", "Four, obviously."


def try_judge(server: FaultServer, tmp_path, *flags: str) -> dict:
    res = CliRunner().invoke(main, ["judges", "try", "--judge", "loopback-judge", "--api-base", server.base_url,
                                    "--cache-dir", str(tmp_path / "cache"), "--prompt", PROMPT, "--a", A, "--b", B,
                                    "--json", *flags])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def messages_verdict(server_verdicts: list[str]) -> str:
    assert len(set(server_verdicts)) == 1
    return server_verdicts[0]


def test_verdict_logprobs_give_the_distribution_and_no_flag_gives_the_text_verdict(tmp_path):
    seen: list[str] = []

    def verdict(messages):
        seen.append(default_verdict(messages))
        return seen[-1]

    with FaultServer(verdict=verdict) as srv:
        on = try_judge(srv, tmp_path / "on", "--verdict-logprobs")
        off = try_judge(srv, tmp_path / "off", "--no-verdict-logprobs")
    written = messages_verdict(seen)
    # With log-probs: letters .7/.3 and operators .6/.25/.1/.05 at the verdict (see the server).
    assert math.isclose(sum(on["probs"].values()), 1.0, abs_tol=1e-9)
    assert 0.3 < max(on["probs"].values()) < 0.99 and sum(p > 0 for p in on["probs"].values()) >= 4
    assert max(on["probs"], key=on["probs"].get) == written
    # Without: a point mass on the verdict the judge wrote.
    assert off["probs"][written] == 1.0 and sum(off["probs"].values()) == 1.0


def test_a_server_without_logprobs_falls_back_to_the_text_verdict(tmp_path):
    # With a custom reply the server sends no log-probs even when asked.
    def content(messages, verdict):
        return f"Weighing both.\n[[{verdict}]]"

    with FaultServer(content=content) as srv:
        got = try_judge(srv, tmp_path, "--verdict-logprobs")
    assert got["parsed"] and sorted(got["probs"].values())[-1] == 1.0


def test_probe_records_the_choice_in_the_run_config(tmp_path):
    from judgeaudit.audit import run_probe
    from judgeaudit.runstore import RunStore

    with FaultServer() as srv:
        run_probe("loopback-judge", api_base=srv.base_url, battery="quick", limit=2, out=tmp_path / "run",
                  progress=False, verdict_logprobs=False, resamples=200)
        records = RunStore(tmp_path / "run").records()
        assert records and all(sorted(r["probs"].values())[-1] == 1.0 for r in records)
        assert RunStore(tmp_path / "run").config()["verdict_logprobs"] is False
        # Resuming with the other choice would mix the two kinds of judgments: refused.
        with pytest.raises(Exception, match="verdict_logprobs"):
            run_probe("loopback-judge", api_base=srv.base_url, battery="quick", limit=2, out=tmp_path / "run",
                      progress=False, verdict_logprobs=True, resamples=200)
