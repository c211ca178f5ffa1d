"""The typed records that cross layers, one definition each, shared by writers and readers.

- ``JudgmentRecord``: one line of a probe run's records.jsonl (written by the judge runner,
  read by the statistics);
- ``ProbeResults``: a probe run's results.json (written by the statistics, read by the
  reports, the policy and ``compare``);
- ``SosRecord``: one line of an SOS-Bench run's records.jsonl (written by the SOS runner,
  read by the aggregation).

On disk they stay plain JSON (``model_dump``); fields a newer writer adds are kept
(``extra="allow"``) so older readers do not break. ``validate_line`` turns a validation
failure into an InputError naming file, line and field.
"""

from __future__ import annotations

import os
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from judgeaudit.errors import InputError
from judgeaudit.vocabulary import ORDERS, PAIR_KINDS, PROBE_KINDS

Order = Literal["base_first", "perturbed_first"]
ProbeKind = Literal["style", "substance", "crossed", "judge", "control"]
PairKind = Literal["style", "substance", "crossed", "judge", "control", "arena"]
assert set(Order.__args__) == set(ORDERS) and set(ProbeKind.__args__) == set(PROBE_KINDS)  # noqa: S101
assert set(PairKind.__args__) == set(PAIR_KINDS)  # noqa: S101

M = TypeVar("M", bound=BaseModel)


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Usage(_Record):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None: the model has no known price (a self-hosted server)
    cached: bool = False


class MemberVerdict(_Record):
    """A jury member's own verdict inside a jury's judgment record."""

    probs: dict[str, float] | None = None
    parsed: bool = False
    score_perturbed: float | None = Field(default=None, ge=0.0, le=1.0)


class JudgmentRecord(_Record):
    """One judgment of one pair in one order; scores are the perturbed answer's win score."""

    pair_id: str
    item_id: str
    probe: str
    kind: PairKind
    order: Order
    score_perturbed: float | None = Field(ge=0.0, le=1.0)
    key: str = ""
    judge: str = ""
    template: str = ""
    category: str | None = ""
    repeat: int = 0
    base: str | None = ""
    perturbed: str | None = ""
    probs: dict[str, float] | None = None
    parsed: bool | None = None  # None (older records): parsed exactly when a score is present
    ambiguous: bool = False  # the judge's unquoted verdicts disagreed (read by judges.verdicts' rule)
    criteria_perturbed: dict[str, float | None] | None = None
    raw: str = ""
    usage: Usage = Field(default_factory=Usage)
    # Jury judges only: each member's own verdict, by member name.
    members: dict[str, MemberVerdict] | None = None

    @field_validator("score_perturbed", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not (v is None or isinstance(v, (int, float))):
            raise ValueError("expected a number in [0, 1] or null")
        return v

    @property
    def is_parsed(self) -> bool:
        return (self.score_perturbed is not None) if self.parsed is None else (self.parsed and
                                                                              self.score_perturbed is not None)


class PositionShares(_Record):
    """MT-Bench position classes: shares of pairs (sum to 1) and the number of pairs."""

    consistent: float = Field(ge=0.0, le=1.0)
    biased_first: float = Field(ge=0.0, le=1.0)
    biased_second: float = Field(ge=0.0, le=1.0)
    undecided: float = Field(ge=0.0, le=1.0)
    n: int = Field(ge=0)


class BaselineRow(_Record):
    """A content-blind baseline on one probe's pairs."""

    win_rate: float
    delta: float
    accuracy: float | None = None
    pair_accuracy: float | None = None


class ProbeEffectRow(_Record):
    """One probe's effect in results.json (see stats.effects.ProbeEffect.to_dict)."""

    name: str
    kind: str
    delta: float | None = None
    win_rate: float | None = None
    mean_score: float | None = None
    mean_score_ci: list[float] | None = None
    strong_share: float | None = None
    position: PositionShares | None = None
    first_position_rate: float | None = None
    first_position_rate_ci: list[float] | None = None
    accuracy: float | None = None
    accuracy_ci: list[float] | None = None
    pair_accuracy: float | None = None
    baselines: dict[str, BaselineRow] | None = None
    min_detectable_delta: float | None = None


class SummaryIndices(_Record):
    """results.json ``indices`` (definitions in stats.indices and docs/results_schema.md)."""

    style_sensitivity: float | None = None
    substance_sensitivity: float | None = None
    style_over_substance_rate: float | None = None
    style_over_substance_strict: float | None = None
    position_consistency: float | None = None
    first_position_rate: float | None = None
    first_position_rate_control: float | None = None
    accuracy: float | None = None
    pair_accuracy: float | None = None
    ece: float | None = None
    brier: float | None = None
    strong_share: float | None = None
    noise_floor: float | None = None
    position: PositionShares | None = None
    position_control: PositionShares | None = None
    calibration: dict[str, Any] | None = None


class JudgeIdentity(_Record):
    """What makes a judge's verdicts what they are; ``compare`` warns when two runs differ in any of it."""

    spec: str
    name: str = ""
    model: str | None = None  # hub revision or file hash of the weights, when the judge has weights
    template: str = "pairwise"
    template_hash: str | None = None
    mode: str | None = None
    sampling: dict[str, Any] = Field(default_factory=dict)
    toolkit_version: str = ""
    items_hash: str | None = None


class ProbeResults(_Record):
    """results.json of a probe run."""

    schema_version: int = 1
    judge: str
    battery: str
    seed: int
    template: str = "pairwise"
    n_items: int = 0
    n_pairs: int = 0
    n_judgments: int
    unparsed: int
    probes: list[ProbeEffectRow]
    indices: SummaryIndices
    indices_ci: dict[str, Any] = Field(default_factory=dict)
    baselines: dict[str, Any] | None = None
    judge_identity: JudgeIdentity | None = None
    style_control: dict[str, Any] | None = None
    criteria_weights: dict[str, Any] | None = None
    method: dict[str, Any] = Field(default_factory=dict)
    run: dict[str, Any] = Field(default_factory=dict)
    sos: dict[str, Any] | None = None
    # Jury judges only: each member's results from its own verdicts (stats.members).
    members: list[dict[str, Any]] | None = None


class SosRecord(_Record):
    """One scored SOS-Bench document: multiple-choice fields or a generation and its grader metrics."""

    key: str
    benchmark: str
    subtask: str
    index: int
    # multiple choice
    loglikelihoods: list[float] | None = None
    is_greedy: list[bool] | None = None
    gold: list[int] | None = None
    pred: int | None = None
    pred_norm: int | None = None
    acc: float | None = None
    acc_norm: float | None = None
    # generative
    output: str | None = None
    metrics: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def validate_line(model: type[M], obj: Any, path: str | os.PathLike, line: int | None = None) -> M:
    """``model`` from ``obj``, or an InputError naming file, line and the first bad field."""
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        if err["type"] == "missing":
            message = "missing"
        else:
            got = err.get("input")
            message = f"{err['msg']}, got {got!r}"[:300]
        raise InputError(path, message, line=line, field=field) from None
