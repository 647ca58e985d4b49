"""Benchmark runs over real artifacts (tiny checkpoint + its ONNX export): rows, baseline, speedups."""

from __future__ import annotations

from pathlib import Path

import pytest

from objectix_edge.bench.harness import BenchConfig
from objectix_edge.bench.suite import run_suite, torch_device
from objectix_edge.bench.suite_config import SuiteConfig
from objectix_edge.enums import Backend
from objectix_edge.errors import InputError

FAST = BenchConfig(batches=(1, 2), warmup=1, iters=4)


def test_checkpoint_in_the_list_is_the_baseline(tiny_det_onnx: Path, tiny_det_ckpt: Path) -> None:
    result = run_suite(SuiteConfig(artifacts=(tiny_det_onnx, tiny_det_ckpt), bench=FAST, threads=1))
    assert [(Path(r.artifact).name, r.backend, r.timing.batch) for r in result.rows] == [
        ("det.onnx", "onnxruntime", 1),
        ("det.onnx", "onnxruntime", 2),
        ("det.pt", "torch", 1),
        ("det.pt", "torch", 2),
    ]
    base = {r.timing.batch: r for r in result.rows if r.is_baseline}
    assert set(base) == {1, 2} and all(
        r.backend == "torch" and r.baseline_weights.endswith("det.pt") for r in base.values()
    )
    for row in result.rows:
        lat = row.timing.latency
        assert lat.p50 <= lat.p90 <= lat.p99
        assert row.timing.throughput == pytest.approx(row.timing.batch * 1000.0 / lat.mean)
        assert row.speedup == pytest.approx(base[row.timing.batch].timing.latency.mean / lat.mean)
    assert result.environment["cpu"]["usable_cores"] >= 1
    assert result.environment["cpu"]["isa_class"] in ("vnni", "x86", "arm64", "unknown")
    assert result.environment["cpu"]["vector_isa"]
    assert result.environment["libraries"]["onnxruntime"] != "not installed"


def test_random_weight_baseline_when_no_checkpoint_matches(tiny_det_onnx: Path) -> None:
    result = run_suite(SuiteConfig(artifacts=(tiny_det_onnx,), bench=BenchConfig(warmup=0, iters=3), threads=1))
    baseline = [r for r in result.rows if r.is_baseline]
    assert len(baseline) == 1 and baseline[0].backend == "torch" and baseline[0].precision == "fp32"
    assert baseline[0].baseline_weights == "random (same architecture)"
    assert baseline[0].model_key == result.rows[0].model_key


def test_backend_filter_skips_other_artifacts_with_a_note(tiny_det_onnx: Path, tiny_det_ckpt: Path) -> None:
    config = SuiteConfig(
        artifacts=(tiny_det_onnx, tiny_det_ckpt),
        bench=BenchConfig(warmup=0, iters=3),
        backends=(Backend.TORCH,),
        baseline=False,
    )
    result = run_suite(config)
    assert {r.backend for r in result.rows} == {"torch"}
    assert len(result.notes) == 1 and "det.onnx" in result.notes[0]


def test_missing_artifact_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        run_suite(SuiteConfig(artifacts=(tmp_path / "nope.onnx",), bench=FAST))
    assert "nope.onnx" in str(info.value) and "\n" not in str(info.value)


def test_engines_are_timed_on_the_gpu_only(tmp_path: Path) -> None:
    # Refused before anything is loaded: an engine's speedup against PyTorch on the CPU would compare two devices.
    engine = tmp_path / "det.fp16.engine"
    engine.write_bytes(b"refused before it is read")
    with pytest.raises(InputError, match="det.fp16.engine: a TensorRT engine runs on a CUDA GPU.*pass --device cuda"):
        run_suite(SuiteConfig(artifacts=(engine,), bench=FAST, device="cpu"))


def test_torch_device_of_a_bench_device() -> None:
    assert [torch_device(d) for d in ("cpu", "cuda", "cuda:1", "tensorrt", "tensorrt:1")] == [
        "cpu",
        "cuda",
        "cuda:1",
        "cuda",
        "cuda:1",
    ]
