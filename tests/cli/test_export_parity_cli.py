"""`objx-edge export` and `objx-edge parity` end to end, including every refusal: one line, exit 1, no file."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import torch
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.export.metadata import read_onnx_spec
from objectix_edge.models.checkpoint import load_checkpoint


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(result) -> str:
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_export_default_output_beside_checkpoint(tiny_cls_ckpt: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "cls.pt"
    ckpt.write_bytes(tiny_cls_ckpt.read_bytes())
    result = invoke("export", ckpt, "--static-batch", "--no-simplify")
    assert result.exit_code == 0, result.output
    out = tmp_path / "cls.onnx"
    assert out.is_file() and "wrote" in result.output and "roi_mask[1,1,64,64]" in result.output
    assert read_onnx_spec(out) == load_checkpoint(ckpt).spec


def test_export_refusals_leave_no_file(tiny_cls_ckpt: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 truncated")
    assert "corrupt.pt: is not a readable checkpoint" in one_error_line(
        invoke("export", corrupt, "-o", tmp_path / "a.onnx")
    )

    payload = torch.load(tiny_cls_ckpt, weights_only=True)
    payload["spec"]["name"] = "yolo-x"
    unknown = tmp_path / "unknown.pt"
    torch.save(payload, unknown)
    assert "unknown model 'yolo-x'" in one_error_line(invoke("export", unknown, "-o", tmp_path / "b.onnx"))

    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    line = one_error_line(invoke("export", tiny_cls_ckpt, "-o", blocker / "model.onnx"))
    assert "cannot create the output folder" in line

    assert "--opset between 18 and 23" in one_error_line(
        invoke("export", tiny_cls_ckpt, "-o", tmp_path / "c.onnx", "--opset", "11")
    )
    assert "checkpoint not found" in one_error_line(invoke("export", tmp_path / "missing.pt"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "corrupt.pt", "unknown.pt"]


def test_parity_cli_pass_writes_json(coco_mini: Path, tiny_cls_ckpt: Path, tiny_cls_onnx: Path, tmp_path: Path) -> None:
    out = tmp_path / "report" / "parity.json"
    result = invoke(
        "parity",
        tiny_cls_onnx,
        "--reference",
        tiny_cls_ckpt,
        "--data",
        coco_mini / "images",
        "--ann",
        coco_mini / "annotations" / "instances_train2017.json",
        "--max-images",
        "3",
        "--json",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "fp32 PASS" in result.output
    report = json.loads(out.read_text())
    assert (
        report["passed"] is True
        and report["verdict"] == "PASS"
        and report["precision"] == "fp32"
        and report["images"] == 3
    )
    assert report["classification"]["agreement"] == 100.0 and report["classification"]["rel_diff"] <= 1e-4


def test_parity_cli_over_budget_exits_1(coco_mini: Path, tiny_cls_onnx: Path, tmp_path: Path) -> None:
    from tests.fixtures.onnx import make_tiny_checkpoint

    other = make_tiny_checkpoint(tmp_path / "other.pt", "resnet50-roi", seed=3)
    result = invoke(
        "parity",
        tiny_cls_onnx,
        "--reference",
        other,
        "--data",
        coco_mini / "images",
        "--ann",
        coco_mini / "annotations" / "instances_train2017.json",
        "--max-images",
        "2",
    )
    assert result.exit_code == 1
    assert "fp32 FAIL" in result.output and "exceeds" in result.output


def test_parity_cli_refuses_onnx_without_metadata(
    coco_mini: Path, tiny_cls_ckpt: Path, tiny_cls_onnx: Path, tmp_path: Path
) -> None:
    model = onnx.load(str(tiny_cls_onnx))
    del model.metadata_props[:]
    foreign = tmp_path / "foreign.onnx"
    onnx.save(model, str(foreign))
    json_out = tmp_path / "r.json"
    result = invoke(
        "parity",
        foreign,
        "--reference",
        tiny_cls_ckpt,
        "--data",
        coco_mini / "images",
        "--ann",
        coco_mini / "annotations" / "instances_train2017.json",
        "--json",
        json_out,
    )
    line = one_error_line(result)
    assert "foreign.onnx: ONNX file has no objectix-edge model spec" in line and "objx-edge export" in line
    assert not json_out.exists()
