"""Timing one Runner at one batch size: warm-up, timed iterations, percentiles.

On the CPU each iteration is timed with ``perf_counter_ns`` around ``Runner.infer`` (end to end, as a
caller sees it). On CUDA the clock is CUDA events: host→device copy, compute and device→host copy are
recorded apart, so a copy-bound model is visible as such; the latency figures are their sum.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from objectix_edge.errors import InputError
from objectix_edge.runtime.base import Runner

PERCENTILES = (50, 90, 99)
MIN_TIMED_ITERS = 3  # a time-bounded run still needs a few samples for its percentiles


COMMAND_ITERS = 50  # objx-edge bench's timed iterations per batch when neither --iters nor --seconds is given


def timed_by(iters: int | None, seconds: float | None) -> tuple[int | None, float | None]:
    """bench's ``--iters`` / ``--seconds`` → BenchConfig's (iters, seconds): at most one may be given; neither
    means COMMAND_ITERS iterations."""
    if seconds is not None and iters is not None:
        raise InputError("give either --iters or --seconds, not both")
    return (None, seconds) if seconds is not None else (iters or COMMAND_ITERS, None)


def parse_batches(text: str) -> tuple[int, ...]:
    """ "1,4,16" → (1, 4, 16), sorted, repeats dropped (``--batch`` of bench and deploy); one line naming the
    flag on anything else."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InputError(f"--batch {text!r}: give comma-separated positive integers, e.g. --batch 1,4,16") from None
    if not values or any(v < 1 for v in values):
        raise InputError(f"--batch {text!r}: give comma-separated positive integers, e.g. --batch 1,4,16")
    return tuple(sorted(set(values)))


@dataclass(frozen=True)
class BenchConfig:
    """How to time: batch sizes, warm-up iterations, and either a fixed count or a time budget."""

    batches: tuple[int, ...] = (1,)
    warmup: int = 10
    iters: int | None = 100
    seconds: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.batches or any(b < 1 for b in self.batches):
            raise InputError(f"batch sizes must be positive integers, got {self.batches}; e.g. --batch 1,4,16")
        if self.warmup < 0:
            raise InputError(f"--warmup must be >= 0, got {self.warmup}")
        if (self.iters is None) == (self.seconds is None):
            raise InputError("give exactly one of --iters N or --seconds S")
        if self.iters is not None and self.iters < MIN_TIMED_ITERS:
            raise InputError(f"--iters must be >= {MIN_TIMED_ITERS} for percentiles, got {self.iters}")
        if self.seconds is not None and self.seconds <= 0:
            raise InputError(f"--seconds must be > 0, got {self.seconds}")


@dataclass(frozen=True)
class LatencyStats:
    """Summary of per-iteration latencies in milliseconds."""

    mean: float
    p50: float
    p90: float
    p99: float
    min: float
    max: float
    std: float

    @classmethod
    def of(cls, samples_ms: np.ndarray) -> LatencyStats:
        s = np.asarray(samples_ms, dtype=np.float64)
        p50, p90, p99 = (float(v) for v in np.percentile(s, PERCENTILES))
        return cls(float(s.mean()), p50, p90, p99, float(s.min()), float(s.max()), float(s.std()))


@dataclass(frozen=True)
class Timing:
    """One (runner, batch) measurement. ``throughput`` is items per second from the mean latency.

    ``h2d_ms`` / ``compute_ms`` / ``d2h_ms`` are set on CUDA (means, ms); ``copies`` says whether the
    copies were timed apart ("separate"), or are inside the latency because the backend takes host
    arrays only ("included"), or do not exist ("none", CPU).
    """

    batch: int
    iters: int
    latency: LatencyStats
    throughput: float
    clock: str
    copies: str = "none"
    h2d_ms: float | None = None
    compute_ms: float | None = None
    d2h_ms: float | None = None
    samples_ms: tuple[float, ...] = field(default=(), repr=False)


def make_feeds(runner: Runner, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic inputs matching ``runner.inputs()``: normalized-image noise, a centred box for masks."""
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for info in runner.inputs():
        shape = [batch if i == 0 and d == -1 else d for i, d in enumerate(info.shape)]
        if runner.spec.dynamic_hw and len(shape) == 4:  # any-size model (ObjectiX): time it at its nominal size
            shape[2:] = [s if s > 0 else n for s, n in zip(shape[2:], runner.spec.input_size, strict=True)]
        if any(d < 1 for d in shape):
            raise InputError(
                f"{runner.describe()}: input {info.name!r} has dynamic non-batch dims {info.shape}; "
                "bench needs fixed image sizes: re-export with a fixed --imgsz"
            )
        if info.name == "roi_mask":
            mask = np.zeros(shape, dtype=info.dtype)
            h, w = shape[-2:]
            mask[..., h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 1
            feeds[info.name] = mask
        else:
            feeds[info.name] = rng.standard_normal(shape).astype(info.dtype)
    return feeds


def _iterations(config: BenchConfig) -> Callable[[int, float], bool]:
    """Predicate ``more(done, elapsed_s)`` for a count- or time-bounded loop."""
    if config.iters is not None:
        count = config.iters
        return lambda done, _elapsed: done < count
    seconds = float(config.seconds or 0.0)
    return lambda done, elapsed: done < MIN_TIMED_ITERS or elapsed < seconds


def _summarize(batch: int, samples: list[float], clock: str, **extra: Any) -> Timing:
    arr = np.asarray(samples, dtype=np.float64)
    stats = LatencyStats.of(arr)
    throughput = batch * 1000.0 / stats.mean if stats.mean > 0 else float("inf")
    return Timing(
        batch=batch,
        iters=len(samples),
        latency=stats,
        throughput=throughput,
        clock=clock,
        samples_ms=tuple(float(v) for v in arr),
        **extra,
    )


def time_cpu(runner: Runner, feeds: dict[str, np.ndarray], config: BenchConfig) -> Timing:
    """Wall-clock timing of ``runner.infer`` on host arrays (the first call checks the feeds, the rest don't)."""
    batch = next(iter(feeds.values())).shape[0]
    for i in range(config.warmup):
        runner.infer(feeds, check=i == 0)
    more = _iterations(config)
    samples: list[float] = []
    start = time.perf_counter()
    while more(len(samples), time.perf_counter() - start):
        t0 = time.perf_counter_ns()
        runner.infer(feeds, check=not (samples or config.warmup))
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return _summarize(batch, samples, clock="perf_counter")


def time_cuda(runner: Runner, feeds: dict[str, np.ndarray], config: BenchConfig) -> Timing:
    """CUDA-event timing with host→device, compute and device→host recorded separately."""
    import torch

    device = torch.device(runner.device)
    batch = next(iter(feeds.values())).shape[0]
    pinned = {k: torch.from_numpy(v).pin_memory() for k, v in feeds.items()}
    caps = runner.capabilities
    if not caps.device_tensors:  # e.g. ONNX Runtime wants numpy: copies are then timed inside infer
        return _time_cuda_host_io(runner, feeds, config, device)
    dev_feeds = {k: v.to(device) for k, v in pinned.items()}
    # Record the events on the stream the runner executes on. A runner with its own stream (TensorRT) is
    # launched there without its host synchronization and output copy, so compute_ms is the engine alone;
    # others (torch) run on the current stream.
    stream = runner.cuda_stream if caps.stream else torch.cuda.current_stream(device)
    launch = runner.enqueue if caps.stream else runner.infer
    # Pinned host buffers for the outputs, so the device→host copy is a real async DMA like the upload.
    # This first call checks the feeds; the timed launches below skip the check.
    host_out = {k: torch.empty(v.shape, dtype=v.dtype).pin_memory() for k, v in runner.infer(dev_feeds).items()}

    def step(events: list[Any] | None) -> None:
        with torch.cuda.stream(stream):  # copies and events on the runner's stream, in order with its work
            if events:
                events[0].record(stream)
            staged = {k: dev_feeds[k].copy_(v, non_blocking=True) for k, v in pinned.items()}
            if events:
                events[1].record(stream)
            out = launch(staged, check=False)
            if events:
                events[2].record(stream)
            for name, value in out.items():
                host_out[name].copy_(value, non_blocking=True)
            if events:
                events[3].record(stream)

    for _ in range(config.warmup):
        step(None)
    torch.cuda.synchronize(device)
    more = _iterations(config)
    rows: list[list[float]] = []
    start = time.perf_counter()
    while more(len(rows), time.perf_counter() - start):
        events = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
        step(events)
        events[3].synchronize()
        rows.append([events[i].elapsed_time(events[i + 1]) for i in range(3)])
    parts = np.asarray(rows, dtype=np.float64)
    return _summarize(
        batch,
        list(parts.sum(axis=1)),
        clock="cuda-events",
        copies="separate",
        h2d_ms=float(parts[:, 0].mean()),
        compute_ms=float(parts[:, 1].mean()),
        d2h_ms=float(parts[:, 2].mean()),
    )


def _time_cuda_host_io(runner: Runner, feeds: dict[str, np.ndarray], config: BenchConfig, device: Any) -> Timing:
    """CUDA events around a host-array ``infer``: the backend's own copies are inside the latency."""
    import torch

    for i in range(config.warmup):
        runner.infer(feeds, check=i == 0)
    torch.cuda.synchronize(device)
    more = _iterations(config)
    samples: list[float] = []
    start = time.perf_counter()
    while more(len(samples), time.perf_counter() - start):
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        runner.infer(feeds, check=not (samples or config.warmup))
        end.record()
        end.synchronize()
        samples.append(begin.elapsed_time(end))
    return _summarize(feeds[next(iter(feeds))].shape[0], samples, clock="cuda-events", copies="included")


def measure(runner: Runner, batch: int, config: BenchConfig) -> Timing:
    """Time ``runner`` at ``batch`` with the clock its device calls for."""
    import torch

    feeds = make_feeds(runner, batch, config.seed)
    # CUDA events need torch with CUDA; a TensorRT runner over cuda-python alone gets the wall clock
    # (its infer synchronizes before returning host arrays, so the wall clock is still the whole call).
    if runner.device.startswith("cuda") and torch.cuda.is_available():
        return time_cuda(runner, feeds, config)
    return time_cpu(runner, feeds, config)
