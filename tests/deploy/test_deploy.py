"""One real deployment on the CPU (trained tiny detector, unseen synthetic images): files and report.

The run happens once per module; each test checks one promise about what it left behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import pytest

from objectix_edge.deploy.context import DeployContext, StepStatus
from objectix_edge.deploy.deploy_config import DeployConfig
from objectix_edge.deploy.deploy_report import fmt
from objectix_edge.deploy.runner import run_deploy
from objectix_edge.deploy.steps import tensorrt_missing
from objectix_edge.runtime.open import open_runner

pytestmark = pytest.mark.slow

PROMISED = (
    "model.onnx",
    "model.fp16.onnx",
    "model.calib.json",
    "model.int8.onnx",
    "model.int8cpu.onnx",
    "splits/calib.json",
    "splits/holdout.json",
    "bench.json",
    "bench.csv",
    "bench.png",
    "report.md",
    "report.json",
)


@pytest.fixture(scope="module")
def deployed(
    trained_detector_ckpt: Path, synth_coco_val: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> DeployContext:
    images, ann = synth_coco_val
    config = DeployConfig(
        checkpoint=trained_detector_ckpt,
        data=images,
        ann=ann,
        out=tmp_path_factory.mktemp("deploy"),
        max_drop=1.0,
        calib_images=6,
        parity_images=10,
        batches=(1, 2),
        warmup=1,
        iters=3,
        threads=1,
    )
    return run_deploy(config)


@pytest.fixture(scope="module")
def record(deployed: DeployContext) -> dict[str, Any]:
    return json.loads((deployed.out / "report.json").read_text())


def test_every_promised_file_exists_and_loads(deployed: DeployContext) -> None:
    for name in PROMISED:
        assert (deployed.out / name).is_file(), name
    for name in ("model.onnx", "model.fp16.onnx", "model.int8cpu.onnx"):
        with open_runner(deployed.out / name) as runner:
            assert runner.spec.category_names == ["circle", "square", "triangle"]
    assert cv2.imread(str(deployed.out / "bench.png")) is not None


def test_steps_ran_in_order_and_tensorrt_says_why_it_skipped(record: dict[str, Any]) -> None:
    steps = {s["name"]: s for s in record["steps"]}
    assert list(steps) == ["split", "export", "fp16", "int8", "tensorrt", "parity", "bench"]
    assert record["status"] == "ok" and record["failed_step"] is None
    missing = tensorrt_missing()
    if missing is not None:
        assert steps["tensorrt"]["status"] == StepStatus.SKIPPED.value and missing in steps["tensorrt"]["message"]
    assert all(steps[n]["status"] == "ok" for n in ("split", "export", "fp16", "int8", "parity", "bench"))


def test_parity_covers_every_artifact_on_held_out_images(record: dict[str, Any]) -> None:
    parity = {p["artifact"]: p for p in record["parity"]}
    assert set(parity) == {"model.onnx", "model.fp16.onnx", "model.int8.onnx", "model.int8cpu.onnx"}
    assert [parity[n]["precision"] for n in ("model.onnx", "model.fp16.onnx", "model.int8cpu.onnx")] == [
        "fp32",
        "fp16",
        "int8",
    ]
    holdout = json.loads(Path(record["config"]["out"], "splits", "holdout.json").read_text())
    assert all(p["images"] == len(holdout["images"]) for p in parity.values())
    assert all(p["verdict"] in ("PASS", "INCONCLUSIVE") for p in parity.values())
    assert parity["model.onnx"]["verdict"] == "PASS"  # FP32 reproduces the original on any sample
    undecided = [name for name, p in parity.items() if p["verdict"] == "INCONCLUSIVE"]
    assert [entry.split(" ")[0] for entry in record["inconclusive"]] == undecided  # named in the report
    assert parity["model.onnx"]["reference_value"] > 10.0  # the trained detector finds the shapes


def test_bench_rows_cover_artifacts_and_baseline(record: dict[str, Any], trained_detector_ckpt: Path) -> None:
    results = record["bench"]["results"]
    names = {Path(r["artifact"]).name for r in results}
    assert names == {trained_detector_ckpt.name, "model.onnx", "model.fp16.onnx", "model.int8cpu.onnx"}
    assert len(results) == 4 * 2
    base = [r for r in results if r["is_baseline"]]
    assert {r["batch"] for r in base} == {1, 2} and all(r["speedup_vs_pytorch_fp32"] == 1.0 for r in base)
    assert "model.int8.onnx" in " ".join(record["bench"]["notes"])


def _section(md: str, title: str) -> list[str]:
    return md.split(f"## {title}")[1].split("\n## ")[0].splitlines()


def test_report_md_figures_match_report_json(deployed: DeployContext, record: dict[str, Any]) -> None:
    md = (deployed.out / "report.md").read_text()
    assert "**Status: ok**" in md
    for s in record["steps"]:
        assert f"| {s['name']} | {s['status']} | {fmt(s['seconds'], 1)} |" in md
    for p in record["parity"]:
        row = next(line for line in _section(md, "Parity") if line.startswith(f"| `{p['artifact']}` |"))
        for value in (p["value"], p["reference_value"]):
            assert f"| {fmt(value)} |" in row, (row, value)
        for value, low, high in (
            (p["drop_points"], p["drop_low"], p["drop_high"]),
            (p["agreement"], p["agreement_low"], p["agreement_high"]),
        ):
            assert f"| {fmt(value)} [{fmt(low)}, {fmt(high)}] |" in row, (row, value)
        assert row.rstrip(" |").endswith(p["verdict"]) or f"| {p['verdict']} (≈" in row
    bench_rows = _section(md, "Benchmark")
    for r in record["bench"]["results"]:
        lat = r["latency_ms"]
        cells = (
            f"| {r['batch']} | {fmt(lat['mean'], 3)} | {fmt(lat['p50'], 3)} | "
            f"{fmt(lat['p90'], 3)} | {fmt(lat['p99'], 3)} | "
            f"{fmt(r['throughput_per_s'], 1)} | {fmt(r['speedup_vs_pytorch_fp32'])} |"
        )
        assert any(cells in line for line in bench_rows), cells
    for a in record["artifacts"]:
        assert f"`{a['path']}`" in md
        assert (deployed.out / a["path"]).stat().st_size == a["bytes"]
    assert "![latency and accuracy](bench.png)" in md
    assert record["environment"]["cpu"]["model"] in md
