"""``objx-edge bench`` end to end: real runners, JSON / CSV / PNG files checked field by field."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from objectix_edge.bench.bench_report import CSV_FIELDS
from objectix_edge.cli.app import app

RESULT_FIELDS = {
    "label",
    "artifact",
    "model",
    "model_key",
    "backend",
    "precision",
    "device",
    "int8_kernels",
    "batch",
    "iters",
    "clock",
    "copies",
    "latency_ms",
    "throughput_per_s",
    "h2d_ms",
    "compute_ms",
    "d2h_ms",
    "speedup_vs_pytorch_fp32",
    "is_baseline",
    "baseline_weights",
}
ACCURACY_FIELDS = {
    "artifact",
    "backend",
    "precision",
    "int8_kernels",
    "metric",
    "images",
    "value",
    "reference",
    "reference_value",
    "drop_points",
    "agreement",
    "max_abs_diff",
    "rel_diff",
    "drop_low",
    "drop_high",
    "agreement_low",
    "agreement_high",
    "limit_points",
    "verdict",
    "images_needed",
    "unit",
    "message",
}


@pytest.fixture(scope="module")
def trained_det_onnx(trained_detector_ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained tiny detector (circle/square/triangle) exported to ONNX once for this module."""
    from objectix_edge.export.onnx import export_onnx

    return export_onnx(trained_detector_ckpt, tmp_path_factory.mktemp("bench_cli") / "trained.onnx")


def _invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def test_bench_writes_json_csv_and_plot(tiny_det_onnx: Path, tiny_det_ckpt: Path, tmp_path: Path) -> None:
    out_json, out_csv, out_png = tmp_path / "b.json", tmp_path / "b.csv", tmp_path / "b.png"
    code, output = _invoke(
        [
            "bench",
            str(tiny_det_onnx),
            str(tiny_det_ckpt),
            "--batch",
            "1,3",
            "--iters",
            "5",
            "--warmup",
            "1",
            "--threads",
            "1",
            "--json",
            str(out_json),
            "--csv",
            str(out_csv),
            "--plot",
            str(out_png),
        ]
    )
    assert code == 0, output
    from objectix_edge.bench.env import cpu_model
    from objectix_edge.cpu_isa import host_isa, vector_isa

    assert "speedup" in output and "det.onnx" in output
    # The environment block names the CPU, its vector ISA and its INT8 class.
    assert cpu_model() in output and f"{vector_isa()} (INT8 class {host_isa().value})" in output

    data = json.loads(out_json.read_text())
    assert data["schema"] == "objx-bench-v1"
    assert {"cpu", "os", "gpus", "libraries", "onnxruntime_providers", "torch_threads"} <= set(data["environment"])
    assert data["config"]["batches"] == [1, 3] and data["config"]["iters"] == 5
    results = data["results"]
    assert len(results) == 4  # 2 artifacts × 2 batches; the checkpoint is its own baseline
    for r in results:
        assert set(r) == RESULT_FIELDS
        lat = r["latency_ms"]
        assert set(lat) == {"mean", "p50", "p90", "p99", "min", "max", "std"}
        assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
        assert r["iters"] == 5
        assert r["throughput_per_s"] == pytest.approx(r["batch"] * 1000.0 / lat["mean"])
        assert r["speedup_vs_pytorch_fp32"] > 0

    with out_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows) == len(results)
    for row, r in zip(rows, results, strict=True):
        assert float(row["latency_p99_ms"]) == pytest.approx(r["latency_ms"]["p99"])
        assert int(row["batch"]) == r["batch"] and row["backend"] == r["backend"]

    image = cv2.imread(str(out_png))
    assert image is not None and image.shape[0] > 100 and image.shape[1] > 100


@pytest.mark.slow
def test_bench_with_data_measures_accuracy_against_the_original(
    trained_det_onnx: Path, trained_detector_ckpt: Path, synth_coco_val: tuple[Path, Path], tmp_path: Path
) -> None:
    images, ann = synth_coco_val
    out_json, out_png = tmp_path / "acc.json", tmp_path / "acc.png"
    code, output = _invoke(
        [
            "bench",
            str(trained_det_onnx),
            "--reference",
            str(trained_detector_ckpt),
            "--iters",
            "3",
            "--warmup",
            "0",
            "--threads",
            "1",
            "--data",
            str(images),
            "--ann",
            str(ann),
            "--max-images",
            "6",
            "--json",
            str(out_json),
            "--plot",
            str(out_png),
        ]
    )
    assert code == 0, output
    data = json.loads(out_json.read_text())
    baseline = [r for r in data["results"] if r["is_baseline"]]
    assert len(baseline) == 1 and baseline[0]["baseline_weights"] == str(trained_detector_ckpt)
    by_artifact = {Path(a["artifact"]).name: a for a in data["accuracy"]}
    assert set(by_artifact) == {"trained.onnx", trained_detector_ckpt.name}
    onnx = by_artifact["trained.onnx"]
    assert set(onnx) == ACCURACY_FIELDS and onnx["metric"] == "mAP" and onnx["images"] == 6
    # FP32 ONNX reproduces its original: same mAP, and it passes the FP32 parity budget.
    assert onnx["verdict"] == "PASS" and onnx["drop_points"] == pytest.approx(0.0, abs=1e-6)
    assert onnx["reference_value"] == pytest.approx(by_artifact[trained_detector_ckpt.name]["value"])
    assert onnx["value"] > 10.0  # a trained model on unseen images: real accuracy, not noise
    two_panels = cv2.imread(str(out_png))
    assert two_panels is not None and two_panels.shape[1] > 1.5 * two_panels.shape[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--batch", "1,x"], "--batch"),
        (["--batch", "0"], "--batch"),
        (["--iters", "5", "--seconds", "1"], "--iters"),
        (["--data", "somewhere"], "--ann"),
    ],
)
def test_bad_options_are_one_red_line(tiny_det_onnx: Path, args: list[str], needle: str) -> None:
    code, output = _invoke(["bench", str(tiny_det_onnx), *args])
    assert code == 1
    assert needle in output and len(output.strip().splitlines()) == 1


def test_missing_artifact_exits_1(tmp_path: Path) -> None:
    code, output = _invoke(["bench", str(tmp_path / "missing.onnx")])
    assert code == 1 and "missing.onnx" in output
