"""``objx-edge demo``: the whole job on generated data, on a CPU, in a few minutes.

Synthetic COCO-format shapes → train a small detector and ROI classifier → deploy the detector
(export, FP16, budgeted INT8, parity, bench, report) → export the classifier → a headless run of the
cascade on a generated video. Every stage calls the same library functions as the commands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from objectix_edge.data.synth import synth_coco_dict, write_synthetic_coco
from objectix_edge.defaults import default_of
from objectix_edge.deploy.context import DeployContext
from objectix_edge.deploy.demo_config import DemoConfig
from objectix_edge.deploy.deploy_config import DeployConfig
from objectix_edge.deploy.runner import DeployHooks, run_deploy
from objectix_edge.enums import ArtifactKind
from objectix_edge.errors import InputError
from objectix_edge.export.onnx import export_onnx
from objectix_edge.fileio import atomic_path, user_cache_dir, write_json_atomic
from objectix_edge.serve.run_config import RunConfig
from objectix_edge.serve.session import run_pipeline
from objectix_edge.stream.sources import VideoFileSource
from objectix_edge.train.train_config import TrainConfig
from objectix_edge.train.trainer import train

# Small enough to train in about a minute on two cores, large enough to find the shapes (mAP ≈ 30+).
DEMO_DETECTOR = {"width_mult": 0.25, "depth_mult": 0.34, "neck_channels": 32, "out_stride": 4, "max_det": 50}
DEMO_CLASSIFIER = {"layers": (1, 1, 1, 1), "base_width": 8}
FRAME_SIZE = (240, 320)  # (h, w) of the synthetic images and the video
VIDEO_FPS = 10.0


def default_demo_dir() -> Path:
    """A per-user cache folder (``$XDG_CACHE_HOME/objectix-edge/demo``), never the current directory."""
    return user_cache_dir("demo")


def calib_images_for(val_images: int) -> int:
    """Calibration images of a demo with ``val_images`` held-out images: DemoConfig's default, at most half."""
    return min(default_of(DemoConfig, "calib_images"), val_images // 2)


@dataclass
class DemoResult:
    out: Path
    detector_ckpt: Path
    classifier_ckpt: Path
    deploy: DeployContext
    video: Path
    run_outputs: dict[str, Path] = field(default_factory=dict)
    run_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def report(self) -> Path:
        return self.deploy.out / "report.md"


@dataclass(frozen=True)
class DemoHooks:
    """``stage(message)`` when a demo stage starts; ``deploy`` receives the deploy steps' progress."""

    stage: Callable[[str], None] = lambda _msg: None
    deploy: DeployHooks = DeployHooks()
    train_progress: bool = False


def _train(
    model: str,
    kwargs: dict[str, Any],
    imgsz: int,
    data: tuple[Path, Path],
    out: Path,
    epochs: int,
    lr: float,
    batch: int,
    config: DemoConfig,
    progress: bool,
) -> Path:
    cfg = TrainConfig(
        model=model,
        data=data[0],
        ann=data[1],
        out=out,
        imgsz=imgsz,
        model_kwargs=dict(kwargs),
        epochs=epochs,
        batch=batch,
        lr=lr,
        warmup_steps=5,
        seed=config.seed,
        device="cpu",
        progress=progress,
    )
    return train(cfg).last


def write_video(path: Path, num_frames: int, seed: int) -> Path:
    """A video of synthetic shape frames (cv2.VideoWriter, mp4v), written atomically."""
    import cv2

    _, frames = synth_coco_dict(num_frames, seed, FRAME_SIZE)
    h, w = FRAME_SIZE
    with atomic_path(path, suffix=".tmp" + path.suffix) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"mp4v"), VIDEO_FPS, (w, h))
        if not writer.isOpened():
            raise InputError(f"{path}: OpenCV cannot write mp4v video here; install an OpenCV build with video support")
        try:
            for frame in frames:
                writer.write(frame)
        finally:
            writer.release()
    return path


def run_video(
    video: Path, detector: Path, classifier: Path, out_dir: Path, threads: int | None
) -> tuple[dict[str, Path], dict[str, Any]]:
    """The headless cascade over ``video``: annotated video + JSONL; returns their paths and the run summary."""

    outputs = {"annotated video": out_dir / "annotated.mp4", "detections": out_dir / "detections.jsonl"}
    config = RunConfig(
        detector=detector,
        classifier=classifier,
        save=outputs["annotated video"],
        jsonl=outputs["detections"],
        threads=threads,
        overwrite=True,  # the demo remakes everything in its own folder, the previous demo's run included
    )
    summary = run_pipeline(VideoFileSource(video), config)
    record = dataclasses.asdict(summary)
    record["stopped_by"] = summary.stopped_by.value  # plain JSON types, as every record the demo returns
    outputs["run summary"] = out_dir / "summary.json"
    write_json_atomic(outputs["run summary"], record)
    return outputs, record


def run_demo(config: DemoConfig, hooks: DemoHooks = DemoHooks()) -> DemoResult:
    """Every stage in order; a failed deploy step still lets the run stage use what was built."""

    config.validate()
    if config.threads:
        import torch

        torch.set_num_threads(config.threads)  # training and the torch baseline; ONNX Runtime gets it per session
    out = config.out
    hooks.stage(f"writing {config.train_images} + {config.val_images} synthetic images")
    train_set = write_synthetic_coco(
        out / "data" / "train", config.train_images, seed=config.seed, image_size=FRAME_SIZE
    )
    val_set = write_synthetic_coco(out / "data" / "val", config.val_images, seed=config.seed + 1, image_size=FRAME_SIZE)
    hooks.stage(f"training the detector ({config.det_epochs} epochs)")
    det_ckpt = _train(
        "mobilenet-det",
        DEMO_DETECTOR,
        config.imgsz,
        train_set,
        out / "train" / "detector",
        config.det_epochs,
        5e-3,
        8,
        config,
        hooks.train_progress,
    )
    hooks.stage(f"training the ROI classifier ({config.cls_epochs} epochs)")
    cls_ckpt = _train(
        "resnet50-roi",
        DEMO_CLASSIFIER,
        config.cls_imgsz,
        train_set,
        out / "train" / "classifier",
        config.cls_epochs,
        3e-3,
        16,
        config,
        hooks.train_progress,
    )
    hooks.stage("deploying the detector")
    deploy_cfg = DeployConfig(
        checkpoint=det_ckpt,
        data=val_set[0],
        ann=val_set[1],
        out=out / "deploy",
        max_drop=config.max_drop,
        calib_images=config.calib_images,
        parity_images=config.val_images,
        threads=config.threads,
        seed=config.seed,
    )
    ctx = run_deploy(deploy_cfg, hooks.deploy)
    hooks.stage("exporting the ROI classifier")
    cls_onnx = export_onnx(cls_ckpt, out / "classifier" / "classifier.onnx")
    video = write_video(out / "video" / "shapes.mp4", config.video_frames, seed=config.seed + 2)
    detector = next(
        (ctx.artifacts[k] for k in (ArtifactKind.ONNX_INT8CPU, ArtifactKind.ONNX_FP32) if k in ctx.artifacts), det_ckpt
    )
    hooks.stage(f"running {detector.name} + {cls_onnx.name} on {video.name} (headless)")
    outputs, summary = run_video(video, detector, cls_onnx, out / "run", config.threads)
    return DemoResult(out, det_ckpt, cls_ckpt, ctx, video, outputs, summary)
