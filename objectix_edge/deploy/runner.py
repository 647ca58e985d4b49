"""Run the deployment steps in order, record each, and always write the report.

Steps that make artifacts stop the chain when they fail (later steps need their files); checking
steps (parity) record their failure and let the benchmark still run. Either way the earlier files
stay where they are and the report names the failed step and why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from objectix_edge.bench.env import collect_environment
from objectix_edge.deploy.context import DeployContext, Step, StepOutcome, StepRecord, StepStatus
from objectix_edge.deploy.deploy_config import DeployConfig
from objectix_edge.deploy.deploy_report import write_reports
from objectix_edge.deploy.steps import DEPLOY_STEPS
from objectix_edge.errors import ObjxError
from objectix_edge.fileio import make_output_dir


@dataclass(frozen=True)
class DeployHooks:
    """Progress callbacks: a step starts (name, title, index, total), ends (its record), or notes progress."""

    start: Callable[[str, str, int, int], None] = lambda _name, _title, _i, _n: None
    done: Callable[[StepRecord], None] = lambda _record: None
    note: Callable[[str], None] = lambda _msg: None


def _record(ctx: DeployContext, step: Step, outcome: StepOutcome, seconds: float) -> None:
    ctx.artifacts.update(outcome.artifacts)
    names = tuple(str(p) for p in outcome.artifacts.values())
    ctx.steps.append(StepRecord(step.name, outcome.status, outcome.message, round(seconds, 2), names))


def run_steps(ctx: DeployContext, steps: tuple[Step, ...], hooks: DeployHooks = DeployHooks()) -> DeployContext:
    """Run ``steps`` on ``ctx``; after a chain-stopping failure the rest are recorded as not run."""

    stopped_by: str | None = None
    ctx.note = hooks.note
    for index, step in enumerate(steps, start=1):
        if stopped_by is not None:
            ctx.steps.append(StepRecord(step.name, StepStatus.NOT_RUN, f"not run: step {stopped_by!r} failed", 0.0))
            hooks.done(ctx.steps[-1])
            continue
        hooks.start(step.name, step.title, index, len(steps))
        start = time.perf_counter()
        try:
            outcome = step.run(ctx)
        except ObjxError as exc:
            outcome = StepOutcome(StepStatus.FAILED, str(exc))
        except Exception as exc:
            # A bug, not a user error: keep the record and the report, then let the traceback surface.
            _record(
                ctx,
                step,
                StepOutcome(StepStatus.FAILED, f"internal error {type(exc).__name__}: {exc}"),
                time.perf_counter() - start,
            )
            write_reports(ctx)
            raise
        _record(ctx, step, outcome, time.perf_counter() - start)
        hooks.done(ctx.steps[-1])
        if outcome.status == StepStatus.FAILED and step.stops_chain:
            stopped_by = step.name
    write_reports(ctx)
    return ctx


def run_deploy(config: DeployConfig, hooks: DeployHooks = DeployHooks()) -> DeployContext:
    """The whole deployment of one checkpoint; returns the context (its steps say what happened)."""

    config.validate()
    make_output_dir(config.out)
    ctx = DeployContext(config=config, environment=collect_environment())
    return run_steps(ctx, DEPLOY_STEPS, hooks)
