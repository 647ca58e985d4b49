"""The real-time loop: capture thread → inference thread → output (render + sinks) on the calling thread.

Capture and inference hand frames over through a channel: for live sources a one-slot
``LatestChannel`` (stale frames are dropped and counted, latency stays about one inference), for files
and folders a bounded ``OrderedChannel`` (every frame, in order). Inference hands results to the output
stage through another bounded FIFO, so a slow sink slows the loop instead of piling up memory.
OpenCV and ONNX Runtime release the GIL, so the three stages really overlap. On live sources the ROI
classifier runs on a fourth thread (the cascade's worker), so the detector never waits for it.

Stopping (end of source, ``max_frames``, q/Esc in the window, Ctrl-C, an error) always ends the same
way: capture stops, the frame in flight finishes, every processed frame reaches the sinks, the sinks are
finalized, and a RunSummary is returned.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from objectix_edge.cascade.frame_cascade import Cascade, FrameResult
from objectix_edge.errors import InputError, ObjxError
from objectix_edge.stream.channels import Channel, LatestChannel, OrderedChannel
from objectix_edge.stream.draw import draw_overlay, hud_text
from objectix_edge.stream.frame_checker import FrameChecker
from objectix_edge.stream.health import HealthMonitor
from objectix_edge.stream.run_stats import RunStats, RunSummary, StopReason
from objectix_edge.stream.sinks import Sink
from objectix_edge.stream.sources import Frame, FrameSource

Notify = Callable[[str], None]


@dataclass(frozen=True)
class LoopConfig:
    """``max_frames``: stop after this many processed frames (None: run to the end of the source).
    ``queue_size``: frames buffered ahead of inference for files and folders (live sources keep one)."""

    max_frames: int | None = None
    queue_size: int = 4
    join_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.max_frames is not None and self.max_frames < 1:
            raise InputError(f"--max-frames must be at least 1, got {self.max_frames}")
        if self.queue_size < 1:
            raise InputError(f"queue size must be at least 1, got {self.queue_size}")


class RunError(ObjxError):
    """A run ended by an error after some frames were processed; carries the summary of what was done."""

    def __init__(self, message: str, summary: RunSummary) -> None:
        super().__init__(message)
        self.summary = summary


class Pipeline:
    """Runs ``cascade`` over ``source`` and feeds ``sinks``; ``run()`` blocks until the run ends."""

    def __init__(
        self,
        source: FrameSource,
        cascade: Cascade,
        sinks: Sequence[Sink] = (),
        config: LoopConfig = LoopConfig(),
        notify: Notify | None = None,
        shadow: FrameChecker | None = None,
        health: HealthMonitor | None = None,
    ) -> None:
        self.source = source
        self.shadow = shadow
        self.health = health or HealthMonitor(source.name, notify=notify)
        self._shadow_summary: Any = None  # the checker's close() summary
        self.cascade = cascade
        self.sinks = list(sinks)
        self.config = config
        self.notify = notify or (lambda message: None)
        self.stats = RunStats()
        self._frames: Channel[Frame] = LatestChannel() if source.live else OrderedChannel(config.queue_size)
        # Live: one result in flight at most, so a slow sink cannot build a backlog either.
        self._results: OrderedChannel[tuple[Frame, FrameResult]] = OrderedChannel(
            1 if source.live else config.queue_size
        )
        self._stop = threading.Event()  # stop capturing and inferring; output still drains
        self._abort = threading.Event()  # the output stage is gone: nobody will take results
        self._stopped_by: StopReason | None = None
        self._error: BaseException | None = None
        self._sigint = False  # set by the Ctrl-C handler only; the output loop acts on it
        self._lock = threading.Lock()

    def request_stop(self, reason: StopReason) -> None:
        """Stop capture and inference (thread-safe); the first reason given is the one reported."""
        with self._lock:
            if self._stopped_by is None:
                self._stopped_by = reason
        self._stop.set()
        self.source.interrupt()

    def _fail(self, exc: BaseException, stop: bool = True) -> None:
        with self._lock:
            if self._error is None:
                self._error = exc
            if self._stopped_by is None:
                self._stopped_by = StopReason.ERROR
        if stop:
            self.request_stop(StopReason.ERROR)

    def _capture(self) -> None:
        try:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                frame = self.source.read()
                if frame is None:
                    break
                self.stats.add("capture", (time.perf_counter() - t0) * 1e3)
                self.stats.count_in()
                if not self._frames.put(frame, self._stop):
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the caller of run()
            # Frames read before the failure are still processed: closing the channel lets inference drain it.
            self._fail(exc, stop=False)
        finally:
            self._frames.close()
            self.source.close()

    def _infer(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self._frames.get(0.1)
                if frame is None:
                    if self._frames.finished:
                        break
                    continue
                wait_ms = (time.perf_counter() - frame.captured_at) * 1e3
                result = self.cascade(frame.image, frame.index)
                result.timings_ms["wait"] = wait_ms
                if self.shadow is not None:
                    result = self._shadow_check(frame, result)
                self.stats.add_all(result.timings_ms)
                if not self._results.put((frame, result), self._abort):
                    break
                self.stats.count_processed()
                if self.config.max_frames is not None and self.stats.processed >= self.config.max_frames:
                    self.request_stop(StopReason.MAX_FRAMES)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller of run()
            self._fail(exc)
        finally:
            self._results.close()
            self.cascade.close()  # the classifier worker (if any) stops with the thread that feeds it
            self._close_shadow()

    def _shadow_check(self, frame: Frame, result: FrameResult) -> FrameResult:
        """Hand every K-th frame to the shadow worker (never waits) and attach the checks finished since."""
        assert self.shadow is not None  # called only with a shadow
        t0 = time.perf_counter()
        if result.candidates is not None:
            self.shadow.offer(frame.index, frame.image, result.candidates)
        done, segment = self.shadow.collect()
        record: dict[str, Any] | None = None
        if done or segment is not None:
            record = {"checks": [c.record() for c in done]}
            if segment is not None:
                record["verdict"] = segment.record()
                self.notify(segment.describe())
        result.timings_ms["shadow"] = (time.perf_counter() - t0) * 1e3
        return dataclasses.replace(result, shadow=record)

    def _close_shadow(self) -> None:
        if self.shadow is not None and self._shadow_summary is None:
            self._shadow_summary = self.shadow.close()

    def _output(self, frame: Frame, result: FrameResult) -> None:
        # Frame age (capture → result) is a timing: it goes into the record's timings_ms, health's fields
        # (frozen seconds, drift) are a function of the frames alone.
        result.timings_ms["age"] = (time.perf_counter() - frame.captured_at) * 1e3
        health = self.health.update(frame, result.candidates, result.timings_ms["age"])
        result = dataclasses.replace(result, health=health)
        t0 = time.perf_counter()
        overlay = None
        if any(s.needs_overlay for s in self.sinks):
            hud = hud_text(self.stats.fps_now(), self.stats.last_ms(), self._frames.dropped)
            overlay = draw_overlay(frame.image, result.detections, hud)
        t1 = time.perf_counter()
        keep_going = True
        for sink in self.sinks:
            keep_going &= sink.write(frame, result, overlay)
        t2 = time.perf_counter()
        self.stats.add_all(
            {"render": (t1 - t0) * 1e3, "sinks": (t2 - t1) * 1e3, "latency": (t2 - frame.captured_at) * 1e3}
        )
        if not keep_going:
            self.request_stop(StopReason.USER)

    def _output_or_fail(self, frame: Frame, result: FrameResult) -> None:
        """A sink that cannot write stops the run: the error is reported with the summary of what was done."""
        try:
            self._output(frame, result)
        except ObjxError as exc:
            self._abort.set()  # inference stops handing over results nobody will write
            self._fail(exc)

    def _close_or_fail(self, sink: Sink) -> None:
        try:
            sink.close()
        except ObjxError as exc:  # e.g. the video's index could not be written: every other sink still closes
            self._fail(exc)

    def run(self) -> RunSummary:
        """Run to the end; raises RunError (with the summary) when the source or a model failed."""
        self.source.open()
        self.health.fps = self.health.fps or self.source.fps  # known once open: drift spans count footage seconds
        self.cascade.start(live=self.source.live)
        threads = [
            threading.Thread(target=self._capture, name="objx-capture", daemon=True),
            threading.Thread(target=self._infer, name="objx-infer", daemon=True),
        ]
        try:
            with self._ctrl_c():
                for thread in threads:
                    thread.start()
                while not self._results.finished:
                    item = self._results.get(0.1)
                    if item is not None and not self._abort.is_set():
                        self._output_or_fail(*item)
                    if self._sigint and not self._stop.is_set():
                        self.notify(
                            "interrupted: finishing the frame in flight and closing the outputs (Ctrl-C again to abort)"
                        )
                        self.request_stop(StopReason.INTERRUPT)
        except BaseException:
            self._abort.set()
            self.request_stop(StopReason.ERROR)
            raise
        finally:
            for thread in threads:
                if thread.ident is not None:  # started
                    thread.join(self.config.join_timeout_s)
            for sink in self.sinks:
                self._close_or_fail(sink)
            if not threads[0].is_alive():
                self.source.close()
            if not threads[1].is_alive():
                self.cascade.close()  # also when the inference thread never started
                self._close_shadow()
        return self._finish()

    def _finish(self) -> RunSummary:
        stopped_by = self._stopped_by or StopReason.END
        summary = self.stats.summary(
            self.source.name,
            # Files and folders never drop: frames read ahead of an early stop are unprocessed, not dropped.
            dropped=self.stats.frames_in - self.stats.processed if self.source.live else 0,
            skipped=self.source.skipped,
            stopped_by=stopped_by,
            warnings=(f"{self.source.name}: {self.source.skipped} undecodable frame(s) skipped",)
            if self.source.skipped
            else (),
            classifier=self.cascade.summary(),
        )
        health = self.health.summary(self.source.skipped, int(getattr(self.source, "reconnects", 0)))
        summary = dataclasses.replace(summary, shadow=self._shadow_summary, health=health)
        if self._error is not None:
            if isinstance(self._error, ObjxError):
                raise RunError(str(self._error), summary) from self._error
            raise self._error
        return summary

    @contextlib.contextmanager
    def _ctrl_c(self) -> Iterator[None]:
        """First Ctrl-C asks for a clean stop; a second one interrupts at once (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: object) -> None:
            # Only flip a flag: taking locks here could deadlock with the code the signal interrupted.
            if self._sigint:
                raise KeyboardInterrupt
            self._sigint = True

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
