"""One whole run: open the source and the models, attach the sinks, run the pipeline, close everything.

Shared by ``objx-edge run`` and the demo, so both open, order and finalize things the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from objectix_edge.cascade.frame_cascade import Cascade, CascadeConfig
from objectix_edge.enums import Backend
from objectix_edge.errors import InputError
from objectix_edge.outputs import check_outputs
from objectix_edge.serve.shadow import ShadowConfig
from objectix_edge.stream.frame_loop import LoopConfig, Pipeline, RunError
from objectix_edge.stream.health import DetectionProfile, HealthConfig, HealthMonitor
from objectix_edge.stream.run_stats import RunSummary
from objectix_edge.stream.sinks import JsonlSink, Sink, save_sink
from objectix_edge.stream.sources import FrameSource
from objectix_edge.stream.window import WindowSink

LIVE_SEGMENT_S = 300.0
# Measured with benchmarks/run_fps.py (README, "End-to-end camera loop"): every 10 frames keeps the INT8
# cascade near the detector's own rate while a label is at most a third of a second old at 30 FPS.
DEFAULT_RECLASSIFY_EVERY = 10


@dataclass(frozen=True)
class RunConfig:
    """Models, outputs and limits of one run (the source is passed separately: it is a live object).

    ``threads``: intra-op threads of the detector; ``classifier_threads``: of the classifier (None: the
    same), so two ONNX Runtime sessions running side by side need not oversubscribe the cores.
    ``segment_s``: write ``--save`` video in closed segments of this many seconds; None: LIVE_SEGMENT_S on
    live sources (a camera loop runs for days: a crash loses at most one segment), one file otherwise;
    0: one file always. ``overwrite``: replace a previous run's outputs (else they are refused, and
    segments continue its numbering).
    """

    detector: Path
    classifier: Path | None = None
    show: bool = False
    save: Path | None = None
    jsonl: Path | None = None
    cascade: CascadeConfig = CascadeConfig()
    loop: LoopConfig = LoopConfig()
    device: str = "cpu"
    threads: int | None = None
    classifier_threads: int | None = None
    segment_s: float | None = None
    overwrite: bool = False
    shadow: Path | None = None  # the original (or any second detector) re-checking every shadow_every-th frame
    shadow_every: int = ShadowConfig.every
    frozen_s: float = HealthConfig.frozen_s  # warn when the picture has not changed for this long

    def __post_init__(self) -> None:
        if self.segment_s is not None and self.segment_s < 0:
            raise InputError(f"--segment-seconds must be positive (or 0 for one file), got {self.segment_s}")


def tracking_for(
    source: FrameSource, track: bool | None, every: int | None, default_every: int = DEFAULT_RECLASSIFY_EVERY
) -> tuple[bool, int]:
    """(track?, reclassify every N frames) when the user left either unset (None).

    A folder of photos is not a video: consecutive images show different scenes, so ByteTrack would carry
    one photo's labels over to another's boxes. Folders are not tracked unless asked, and without tracking
    every box of every image is classified (every = 1).
    """
    from objectix_edge.stream.sources import ImageFolderSource

    tracked = not isinstance(source, ImageFolderSource) if track is None else track
    return tracked, (default_every if tracked else 1) if every is None else every


def calibration_baseline(detector: Path) -> DetectionProfile | None:
    """The detections' profile on the calibration footage, from the cache beside the detector (if any)."""
    from objectix_edge.export.calib_cache import cache_beside, load_cache

    cache = cache_beside(detector)
    footage = load_cache(cache).footage if cache is not None else None
    if footage is None or "baseline" not in footage:
        return None
    return DetectionProfile.from_dict(footage["baseline"])


def run_pipeline(source: FrameSource, config: RunConfig, notify: Callable[[str], None] | None = None) -> RunSummary:
    """Run ``config`` over ``source``; outputs are finalized before this returns or raises RunError.

    The summary's ``outputs`` lists the files written (video segments included)."""
    from objectix_edge.runtime.open import open_runner

    check_outputs(
        {"--save": config.save, "--jsonl": config.jsonl},
        {
            "source": source.input_path,
            "--detector": config.detector,
            "--classifier": config.classifier,
            "--shadow": config.shadow,
        },
        folders=("--save",),
    )
    sinks: list[Sink] = []

    def written() -> tuple[str, ...]:
        return tuple(str(p) for sink in sinks for p in sink.outputs())

    with ExitStack() as stack:
        source.open()  # first, so a missing camera or file fails before models load
        stack.callback(source.close)
        det = stack.enter_context(open_runner(config.detector, device=config.device, threads=config.threads))
        cls_threads = config.classifier_threads if config.classifier_threads is not None else config.threads
        cls = (
            stack.enter_context(open_runner(config.classifier, device=config.device, threads=cls_threads))
            if config.classifier
            else None
        )
        if config.threads is not None and any(r is not None and r.backend == Backend.TORCH for r in (det, cls)):
            import torch

            torch.set_num_threads(config.threads)  # an oversubscribed OpenMP pool spins: far slower than fewer threads
        cascade = Cascade(det, cls, config.cascade)  # before any output file: a wrong model writes nothing
        monitor = None
        if config.shadow is not None:
            from objectix_edge.serve.shadow import ShadowConfig, ShadowMonitor

            shadow = stack.enter_context(open_runner(config.shadow, device=config.device, threads=cls_threads))
            segment_s = (LIVE_SEGMENT_S if source.live else None) if config.segment_s is None else config.segment_s
            shadow_cfg = ShadowConfig(every=config.shadow_every, segment_s=segment_s or None, live=source.live)
            monitor = ShadowMonitor(shadow, det, shadow_cfg, fps=source.fps)

        def add(sink: Sink) -> None:
            sinks.append(sink)
            stack.callback(sink.close)  # also on a failure before the loop starts

        # The JSONL sink creates its file at once: build it last, after the others validated their options.
        if config.save is not None:
            segment_s = (LIVE_SEGMENT_S if source.live else None) if config.segment_s is None else config.segment_s
            add(save_sink(config.save, source.fps, segment_s or None, config.overwrite))
        if config.show:
            add(WindowSink(f"objx-edge: {source.name}"))
        if config.jsonl is not None:
            add(JsonlSink(config.jsonl, config.overwrite))
        for sink in sinks:  # only now: a run refused above changes nothing on disk
            notice = sink.prepare()
            if notice is not None and notify is not None:
                notify(notice)
        baseline = calibration_baseline(config.detector)
        health = HealthMonitor(source.name, HealthConfig(config.frozen_s, baseline), notify, source.fps)
        pipeline = Pipeline(source, cascade, sinks, config.loop, notify=notify, shadow=monitor, health=health)
        try:
            summary = pipeline.run()
        except RunError as exc:
            stack.close()  # finalize the outputs before the caller reports them
            exc.summary = dataclasses.replace(exc.summary, outputs=written())
            raise
    return dataclasses.replace(summary, outputs=written())
