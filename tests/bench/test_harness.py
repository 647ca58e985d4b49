"""Timing harness on real tiny torch models: percentiles ordered, throughput consistent, configs checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from objectix_edge.bench.harness import MIN_TIMED_ITERS, BenchConfig, LatencyStats, make_feeds, measure
from objectix_edge.errors import InputError
from objectix_edge.models import create_model
from objectix_edge.runtime.torch_runner import TorchRunner
from tests.conftest import TINY_CLASSIFIER, TINY_DETECTOR
from tests.runtime.recording import RecordingTorchRunner


@pytest.fixture(scope="module")
def detector_runner() -> TorchRunner:
    model = create_model("mobilenet-det", **TINY_DETECTOR)
    return TorchRunner(model, model.spec)


def test_latency_stats_match_hand_computed_percentiles() -> None:
    samples = np.arange(1, 101, dtype=np.float64)  # 1..100 ms
    stats = LatencyStats.of(samples)
    # numpy's linear interpolation: position q/100 * (n - 1) in the sorted samples.
    assert stats.p50 == pytest.approx(50.5)
    assert stats.p90 == pytest.approx(90.1)
    assert stats.p99 == pytest.approx(99.01)
    assert stats.mean == pytest.approx(50.5)
    assert (stats.min, stats.max) == (1.0, 100.0)


@pytest.mark.parametrize("batch", [1, 3])
def test_measure_orders_percentiles_and_derives_throughput(detector_runner: TorchRunner, batch: int) -> None:
    timing = measure(detector_runner, batch, BenchConfig(batches=(batch,), warmup=1, iters=7))
    lat = timing.latency
    assert timing.batch == batch and timing.iters == 7 and len(timing.samples_ms) == 7
    assert 0 < lat.min <= lat.p50 <= lat.p90 <= lat.p99 <= lat.max
    assert lat.mean == pytest.approx(np.mean(timing.samples_ms))
    assert timing.throughput == pytest.approx(batch * 1000.0 / lat.mean)
    assert timing.clock == "perf_counter" and timing.copies == "none" and timing.compute_ms is None


def test_time_bounded_run_lasts_its_budget(detector_runner: TorchRunner) -> None:
    timing = measure(detector_runner, 1, BenchConfig(warmup=0, iters=None, seconds=0.15))
    assert timing.iters >= MIN_TIMED_ITERS
    # The loop stops at the first iteration that ends past the budget: the samples cover it.
    assert sum(timing.samples_ms) >= 0.15 * 1000 * 0.8


def test_classifier_feeds_follow_runner_inputs() -> None:
    model = create_model("resnet50-roi", **TINY_CLASSIFIER)
    runner = TorchRunner(model, model.spec)
    feeds = make_feeds(runner, 2)
    assert feeds["images"].shape == (2, 3, 64, 64) and feeds["images"].dtype == np.float32
    assert feeds["roi_mask"].shape == (2, 1, 64, 64)
    assert set(np.unique(feeds["roi_mask"])) == {0.0, 1.0}
    timing = measure(runner, 2, BenchConfig(batches=(2,), warmup=0, iters=3))
    assert timing.latency.p50 <= timing.latency.p99


@pytest.mark.parametrize(
    "kwargs",
    [
        {"iters": 10, "seconds": 1.0},
        {"iters": None, "seconds": None},
        {"batches": (0,)},
        {"batches": ()},
        {"iters": 2},
        {"warmup": -1},
        {"iters": None, "seconds": 0.0},
    ],
)
def test_bad_configs_raise_one_line_errors(kwargs: dict) -> None:
    with pytest.raises(InputError) as info:
        BenchConfig(**kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("warmup", "checks"), [(2, [True] + [False] * 4), (0, [True, False, False])])
def test_timed_calls_skip_the_feed_check_after_the_first(tiny_det_ckpt: Path, warmup: int, checks: list[bool]) -> None:
    runner = RecordingTorchRunner.load(tiny_det_ckpt)
    timing = measure(runner, 1, BenchConfig(batches=(1,), warmup=warmup, iters=3))
    assert timing.iters == 3 and runner.checks == checks and runner.input_calls == 2  # make_feeds, first check
