"""Each option default a command shares with a library dataclass is the dataclass's own (written once)."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from objectix_edge.cli.app import app
from objectix_edge.defaults import default_of
from objectix_edge.pipeline.cascade import CascadeConfig
from objectix_edge.pipeline.health import HealthConfig
from objectix_edge.pipeline.loop import LoopConfig
from objectix_edge.pipeline.session import RunConfig
from objectix_edge.pipeline.shadow import ShadowConfig
from objectix_edge.pipeline.track_labels import ReclassifyPolicy
from objectix_edge.pipeline.tracking import TrackConfig


def _defaults(command: str) -> dict[str, Any]:
    group = typer.main.get_command(app)
    cmd = group.commands[command]  # type: ignore[attr-defined]  # a click Group (typer vendors click)
    return {p.name: p.default for p in cmd.params if p.name is not None}


RUN = [
    ("conf", CascadeConfig, "conf"),
    ("top_k", CascadeConfig, "top_k"),
    ("track_floor", TrackConfig, "floor"),
    ("track_buffer", TrackConfig, "buffer"),
    ("area_growth", ReclassifyPolicy, "area_growth"),
    ("max_frames", LoopConfig, "max_frames"),
    ("shadow_every", ShadowConfig, "every"),
    ("frozen_seconds", HealthConfig, "frozen_s"),
    ("shadow_every", RunConfig, "shadow_every"),
    ("frozen_seconds", RunConfig, "frozen_s"),
    ("device", RunConfig, "device"),
    ("show", RunConfig, "show"),
    ("overwrite", RunConfig, "overwrite"),
]


@pytest.mark.parametrize(("option", "cls", "field"), RUN)
def test_run_options_default_to_the_dataclass_defaults(option: str, cls: type, field: str) -> None:
    assert _defaults("run")[option] == default_of(cls, field)


def test_default_of_reads_defaults_and_factories_and_names_missing_ones() -> None:
    assert default_of(CascadeConfig, "reclassify") == ReclassifyPolicy()
    with pytest.raises(KeyError, match="no field 'nope'"):
        default_of(CascadeConfig, "nope")
    with pytest.raises(KeyError, match="RunConfig.detector has no default"):
        default_of(RunConfig, "detector")
