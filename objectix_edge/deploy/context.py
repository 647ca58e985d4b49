"""What the deployment steps share: the config, the artifacts made so far, and each step's record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from objectix_edge.deploy.deploy_config import DeployConfig
from objectix_edge.deploy.splits import Split
from objectix_edge.enums import ArtifactKind


class StepStatus(str, Enum):
    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"
    NOT_RUN = "not run"


@dataclass(frozen=True)
class StepOutcome:
    """What a step returns: its status, one line for the reader, and the files it wrote."""

    status: StepStatus
    message: str
    artifacts: dict[ArtifactKind, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class StepRecord:
    name: str
    status: StepStatus
    message: str
    seconds: float
    artifacts: tuple[str, ...] = ()


@dataclass
class DeployContext:
    """Mutable state of one run; steps read earlier artifacts from ``artifacts`` by name."""

    config: DeployConfig
    artifacts: dict[ArtifactKind, Path] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    parity: list[dict[str, Any]] = field(default_factory=list)
    inconclusive: list[str] = field(default_factory=list)  # artifacts whose parity the held-out set cannot decide
    bench: dict[str, Any] | None = None
    calibration: dict[str, Any] = field(default_factory=dict)
    plots: dict[str, Path] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    split: Split | None = None
    note: Callable[[str], None] = field(default=lambda _msg: None, repr=False)  # progress inside a step

    @property
    def out(self) -> Path:
        return self.config.out

    def failed_step(self) -> StepRecord | None:
        return next((s for s in self.steps if s.status == StepStatus.FAILED), None)


@dataclass(frozen=True)
class Step:
    """One step of the chain: ``run`` makes or checks artifacts; a failed ``stops_chain`` step ends the chain."""

    name: str
    title: str
    run: Callable[[DeployContext], StepOutcome]
    stops_chain: bool = True
