"""Each option default a command shares with a library dataclass is the dataclass's own (written once)."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from objectix_edge.cascade.frame_cascade import CascadeConfig
from objectix_edge.cascade.track_labels import ReclassifyPolicy
from objectix_edge.cascade.tracking import TrackConfig
from objectix_edge.cli.app import app
from objectix_edge.defaults import default_of
from objectix_edge.serve.run_config import RunConfig
from objectix_edge.serve.shadow import ShadowConfig
from objectix_edge.stream.frame_loop import LoopConfig
from objectix_edge.stream.health import HealthConfig


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


def _other_commands() -> list[tuple[str, str, Any]]:
    from objectix_edge.bench.harness import BenchConfig
    from objectix_edge.bench.suite_config import SuiteConfig
    from objectix_edge.calib.int8 import Int8Config
    from objectix_edge.deploy.demo_config import DemoConfig
    from objectix_edge.deploy.deploy_config import DeployConfig
    from objectix_edge.eval.parity_config import FootageParityConfig, ParityConfig
    from objectix_edge.runtime.batch_profile import BatchProfile
    from objectix_edge.runtime.trt_build import EngineConfig
    from objectix_edge.train.train_config import TrainConfig

    train = {"epochs": "epochs", "batch": "batch", "lr": "lr", "weight_decay": "weight_decay", "imgsz": "imgsz"}
    train.update({"warmup": "warmup_steps", "save_every": "save_every", "keep_last": "keep_last"})
    train.update({"patience": "patience", "seed": "seed", "workers": "workers", "device": "device"})
    train.update({"crop_scale": "crop_scale", "progress": "progress"})
    rows = [("train", option, default_of(TrainConfig, f)) for option, f in train.items()]
    rows.append(("train", "schedule", default_of(TrainConfig, "schedule").value))
    for option in ("calib_images", "parity_images", "warmup", "iters", "device", "threads", "seed", "max_drop"):
        rows.append(("deploy", option, default_of(DeployConfig, option)))
    rows.append(("deploy", "batch", ",".join(map(str, default_of(DeployConfig, "batches")))))
    demo = {"threads": "threads", "frames": "video_frames", "det_epochs": "det_epochs"}
    demo.update({"cls_epochs": "cls_epochs", "val_images": "val_images"})
    rows += [("demo", option, default_of(DemoConfig, f)) for option, f in demo.items()]
    rows += [("parity", o, default_of(FootageParityConfig, o)) for o in ("every", "max_frames")]
    rows += [("parity", o, default_of(ParityConfig, o)) for o in ("max_images", "batch", "device")]
    rows += [
        ("bench", "batch", ",".join(map(str, default_of(BenchConfig, "batches")))),
        ("bench", "warmup", default_of(BenchConfig, "warmup")),
        ("bench", "device", default_of(SuiteConfig, "device")),
        ("bench", "no_baseline", not default_of(SuiteConfig, "baseline")),
        ("bench", "precision", default_of(SuiteConfig, "torch_precision")),
        ("bench", "cuda_graph", default_of(SuiteConfig, "cuda_graph")),
    ]
    calib = {"num_images": "num_images", "method": "method", "seed": "seed", "batch": "batch_size"}
    calib.update({"holdout": "holdout"})
    rows += [("calibrate", option, default_of(Int8Config, f)) for option, f in calib.items()]
    profile = BatchProfile()
    rows += [
        ("build-engine", "num_images", default_of(Int8Config, "num_images")),
        ("build-engine", "batch", f"{profile.min},{profile.opt},{profile.max}"),
        ("build-engine", "workspace", default_of(EngineConfig, "workspace_gib")),
        ("build-engine", "tf32", default_of(EngineConfig, "tf32")),
    ]
    return rows


@pytest.mark.parametrize(("command", "option", "expected"), _other_commands())
def test_other_commands_default_to_their_config_defaults(command: str, option: str, expected: Any) -> None:
    assert _defaults(command)[option] == expected


@pytest.mark.parametrize("option", ["batch", "conf", "device", "roi_mask", "per_class_images"])
def test_eval_options_default_to_evaluate_artifacts_defaults(option: str) -> None:
    from objectix_edge.defaults import default_arg
    from objectix_edge.eval.eval_report import evaluate_artifact

    assert _defaults("eval")[option] == default_arg(evaluate_artifact, option)


def test_data_options_default_to_the_library_defaults() -> None:
    from objectix_edge.cli.data_cmd import app as data_app
    from objectix_edge.data.split import split_coco
    from objectix_edge.data.subset import SubsetConfig
    from objectix_edge.data.synth import write_synthetic_coco
    from objectix_edge.defaults import default_arg

    group = typer.main.get_command(data_app)
    params = {
        name: {p.name: p.default for p in cmd.params}
        for name, cmd in group.commands.items()  # type: ignore[attr-defined]
    }
    h, w = default_arg(write_synthetic_coco, "image_size")
    assert (
        params["synth"]["seed"] == default_arg(write_synthetic_coco, "seed") and params["synth"]["size"] == f"{h}x{w}"
    )
    assert params["split"]["seed"] == default_arg(split_coco, "seed")
    subset = SubsetConfig()
    assert params["subset"]["seed"] == subset.seed and params["subset"]["count"] == subset.max_images
    assert params["subset"]["redistributable"] == subset.redistributable_only and params["subset"]["ids"] == ""


def test_export_import_and_predict_options_default_to_the_library_defaults() -> None:
    from objectix_edge.defaults import default_arg
    from objectix_edge.export.onnx import ExportConfig
    from objectix_edge.models.importers.mobilelike import import_mobilelike
    from objectix_edge.models.importers.objectix import import_objectix
    from objectix_edge.models.importers.torchvision_cls import import_torchvision_classifier
    from objectix_edge.serve.predict import predict_file

    export = _defaults("export")
    assert (export["opset"], export["dynamic_batch"], export["simplify"]) == (
        default_of(ExportConfig, "opset"),
        default_of(ExportConfig, "dynamic_batch"),
        default_of(ExportConfig, "simplify"),
    )
    imports = _defaults("import")
    assert imports["max_side"] == default_arg(import_objectix, "max_side")
    for option in ("arch", "imgsz"):
        assert imports[option] == default_arg(import_torchvision_classifier, option)
    for option in ("num_classes", "boxes", "box_format", "boxes_scaled"):
        assert imports[option] == default_arg(import_mobilelike, option)
    assert _defaults("predict")["device"] == default_arg(predict_file, "device")
