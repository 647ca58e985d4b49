"""One whole run: open the source and the models, attach the sinks, run the pipeline, close everything.

Shared by ``objx-edge run`` and the demo, so both open, order and finalize things the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from objectix_edge.cascade.frame_cascade import Cascade
from objectix_edge.enums import Backend
from objectix_edge.export.calib_cache import cache_beside, load_cache
from objectix_edge.outputs import check_outputs
from objectix_edge.runtime.open import open_runner
from objectix_edge.serve.run_config import DEFAULT_RECLASSIFY_EVERY, RunConfig
from objectix_edge.serve.shadow import ShadowConfig, ShadowMonitor
from objectix_edge.stream.frame_loop import Pipeline, RunError
from objectix_edge.stream.health import DetectionProfile, HealthConfig, HealthMonitor
from objectix_edge.stream.media_sinks import save_sink
from objectix_edge.stream.run_stats import RunSummary
from objectix_edge.stream.sinks import JsonlSink, Sink
from objectix_edge.stream.sources import FrameSource, ImageFolderSource
from objectix_edge.stream.window import WindowSink

LIVE_SEGMENT_S = 300.0


def tracking_for(
    source: FrameSource, track: bool | None, every: int | None, default_every: int = DEFAULT_RECLASSIFY_EVERY
) -> tuple[bool, int]:
    """(track?, reclassify every N frames) when the user left either unset (None).

    A folder of photos is not a video: consecutive images show different scenes, so ByteTrack would carry
    one photo's labels over to another's boxes. Folders are not tracked unless asked, and without tracking
    every box of every image is classified (every = 1).
    """

    tracked = not isinstance(source, ImageFolderSource) if track is None else track
    return tracked, (default_every if tracked else 1) if every is None else every


def calibration_baseline(detector: Path) -> DetectionProfile | None:
    """The detections' profile on the calibration footage, from the cache beside the detector (if any)."""

    cache = cache_beside(detector)
    footage = load_cache(cache).footage if cache is not None else None
    if footage is None or "baseline" not in footage:
        return None
    return DetectionProfile.from_dict(footage["baseline"])


def run_pipeline(source: FrameSource, config: RunConfig, notify: Callable[[str], None] | None = None) -> RunSummary:
    """Run ``config`` over ``source``; outputs are finalized before this returns or raises RunError.

    The summary's ``outputs`` lists the files written (video segments included)."""

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
