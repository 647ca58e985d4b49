"""`objx-edge calibrate` and `objx-edge build-engine` end to end through the real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
from typer.testing import CliRunner

from objectix_edge.calib.quantize import Int8Form, QuantizeConfig, quantize_from_cache
from objectix_edge.cli.app import app
from objectix_edge.export.calib_cache import load_cache
from objectix_edge.export.fp16 import convert_fp16
from objectix_edge.export.metadata import CPU_ISA_METADATA_KEY, read_onnx_spec
from objectix_edge.runtime.ort_runner import OrtRunner
from tests.fixtures.calib import metric_points

BUDGET = 1.0
BUDGET_VAL_IMAGES = 40  # a smaller held-out set keeps the per-layer search quick


def _invoke(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [str(a) for a in args])


def _has_tensorrt() -> bool:
    try:
        import tensorrt  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@pytest.fixture(scope="module")
def small_val(calib_split, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = json.loads(calib_split.val_ann.read_text())
    keep = set(calib_split.val_ids[:BUDGET_VAL_IMAGES])
    data["images"] = [im for im in data["images"] if im["id"] in keep]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in keep]
    path = tmp_path_factory.mktemp("small_val") / "val.json"
    path.write_text(json.dumps(data))
    return path


def test_calibrate_writes_fp16_cache_and_both_int8_forms(calib_onnx, calib_split, tmp_path: Path) -> None:
    model = tmp_path / "det.onnx"
    shutil.copy(calib_onnx["detector"], model)
    result = _invoke(
        "calibrate",
        model,
        "--fp16",
        "--int8",
        "--data",
        calib_split.images,
        "--ann",
        calib_split.ann,
        "--num-images",
        16,
        "--method",
        "minmax",
        "--seed",
        7,
    )
    assert result.exit_code == 0, result.output
    assert "calibrating" in result.output and "16/16" in result.output  # the progress bar ran to the end
    for name in ("det.fp16.onnx", "det.calib.json", "det.int8.onnx", "det.int8cpu.onnx"):
        assert (tmp_path / name).stat().st_size > 0 and name in result.output.replace("\n", "")
    cache = json.loads((tmp_path / "det.calib.json").read_text())
    assert cache["method"] == "minmax" and cache["seed"] == 7 and len(cache["image_ids"]) == 16 and cache["ranges"]
    for name in ("det.fp16.onnx", "det.int8.onnx", "det.int8cpu.onnx"):
        with OrtRunner(tmp_path / name) as runner:
            assert runner.spec == read_onnx_spec(model)
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_from_cache_is_identical_and_stale_cache_refused(calib_onnx, calib_int8, tmp_path: Path) -> None:
    model = tmp_path / "detector.onnx"
    shutil.copy(calib_onnx["detector"], model)
    result = _invoke("calibrate", model, "--from-cache", calib_int8["detector"].cache_path)
    assert result.exit_code == 0, result.output
    for form in Int8Form:
        assert (tmp_path / f"detector.{form.value}.onnx").read_bytes() == calib_int8["detector"].files[
            form.value
        ].read_bytes()
    other = tmp_path / "classifier.onnx"
    shutil.copy(calib_onnx["classifier"], other)
    stale = _invoke("calibrate", other, "--from-cache", calib_int8["detector"].cache_path)
    assert stale.exit_code == 1
    assert "stale calibration cache" in stale.output and len(stale.output.strip().splitlines()) == 1
    assert not (tmp_path / "classifier.int8.onnx").exists()


@pytest.mark.parametrize(
    ("reduced", "flag"), [("fp16", "--fp16"), ("fp16", "--int8"), ("int8", "--int8"), ("int8", "--fp16")]
)
def test_a_reduced_onnx_is_refused_in_one_line_and_nothing_written(
    calib_onnx, calib_int8, calib_split, tmp_path: Path, reduced: str, flag: str
) -> None:
    """Converting an FP16 or INT8 file again would round twice or quantize Q/DQ: only the FP32 export converts."""
    model = tmp_path / f"det.{reduced}.onnx"
    if reduced == "fp16":
        convert_fp16(calib_onnx["detector"], model)
    else:
        shutil.copy(calib_int8["detector"].files[Int8Form.TENSORRT.value], model)
    data = ["--data", calib_split.images, "--ann", calib_split.ann, "--num-images", 8] if flag == "--int8" else []
    result = _invoke("calibrate", model, flag, *data)
    wanted = flag.removeprefix("--")
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        f"error: {model}: is a {reduced} ONNX; pass the FP32 export to convert it to {wanted}"
    )
    assert [p.name for p in tmp_path.iterdir()] == [model.name]


def _cpu_isa_of(path: Path) -> str | None:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}.get(CPU_ISA_METADATA_KEY)


def test_cpu_isa_is_recorded_kept_by_from_cache_and_overridable(calib_onnx, calib_int8, tmp_path: Path) -> None:
    model = tmp_path / "detector.onnx"
    shutil.copy(calib_onnx["detector"], model)
    cache = tmp_path / "detector.calib.json"
    shutil.copy(calib_int8["detector"].cache_path, cache)
    retarget = _invoke("calibrate", model, "--from-cache", cache, "--cpu-isa", "x86")
    assert retarget.exit_code == 0, retarget.output
    assert "built for x86" in retarget.output
    assert load_cache(cache).cpu_isa.value == "x86" and _cpu_isa_of(tmp_path / "detector.int8cpu.onnx") == "x86"
    assert _cpu_isa_of(tmp_path / "detector.int8.onnx") is None  # the TensorRT form has no CPU class
    first = (tmp_path / "detector.int8cpu.onnx").read_bytes()
    again = _invoke("calibrate", model, "--from-cache", cache)  # keeps the recorded class
    assert again.exit_code == 0, again.output
    assert (tmp_path / "detector.int8cpu.onnx").read_bytes() == first
    # A cache written before classes existed reads as "unknown", and so do the files made from it.
    old = json.loads(cache.read_text())
    del old["cpu_isa"]
    cache.write_text(json.dumps(old))
    legacy = _invoke("calibrate", model, "--from-cache", cache)
    assert legacy.exit_code == 0, legacy.output
    assert _cpu_isa_of(tmp_path / "detector.int8cpu.onnx") == "unknown"
    bad = _invoke("calibrate", model, "--from-cache", cache, "--cpu-isa", "avx2")
    assert bad.exit_code == 1 and len(bad.output.strip().splitlines()) == 1
    assert "--cpu-isa" in bad.output and "vnni, x86, arm64" in bad.output


def test_max_drop_keeps_the_sensitive_layers_then_says_how_many_images_would_decide(
    outlier_classifier_onnx, calib_split, small_val, tmp_path: Path
) -> None:
    source, hostile = outlier_classifier_onnx
    model = tmp_path / "outlier.onnx"
    shutil.copy(source, model)
    result = _invoke(
        "calibrate",
        model,
        "--int8",
        "--data",
        calib_split.images,
        "--ann",
        calib_split.ann,
        "--num-images",
        32,
        "--max-drop",
        BUDGET,
        "--val-data",
        calib_split.images,
        "--val-ann",
        small_val,
    )
    # Plain INT8 FAILs (agreement ≈ 1 %); with the 3 hostile convs in FP32 every point estimate is within
    # its limit, but 40 images (103 ROIs) cannot bound a 0.86-point limit: the search stops there, keeps
    # that configuration, writes both files and exits 2 saying how many images would decide it.
    assert result.exit_code == 2, result.output
    out = result.output.replace("\n", " ")
    assert "kept in FP32" in out and "INCONCLUSIVE" in out and "validation images would decide it" in out
    assert (tmp_path / "outlier.int8.onnx").is_file() and (tmp_path / "outlier.int8cpu.onnx").is_file()
    cache = load_cache(tmp_path / "outlier.calib.json")
    assert set(cache.exclude) & set(hostile), f"kept {cache.exclude}, the hostile convs are {hostile}"
    for name in cache.exclude:
        assert name in out
    spec = read_onnx_spec(model)
    with OrtRunner(model) as runner:
        fp32 = metric_points(runner, spec, calib_split.images, small_val)
    plain = quantize_from_cache(model, cache, tmp_path / "plain.onnx", Int8Form.CPU, QuantizeConfig())
    with OrtRunner(plain, judge=True) as runner:
        plain_drop = fp32 - metric_points(runner, spec, calib_split.images, small_val)
    assert plain_drop > BUDGET, f"the constructed case should defeat plain INT8 (drop {plain_drop:.2f})"
    for form in Int8Form:
        with OrtRunner(tmp_path / f"outlier.{form.value}.onnx", judge=True) as runner:
            drop = fp32 - metric_points(runner, spec, calib_split.images, small_val)
        assert drop <= BUDGET, f"{form.value}: drop {drop:.2f}"
    print(f"outlier classifier: plain INT8 drop {plain_drop:.2f}, kept {cache.exclude}")


def test_max_drop_that_cannot_be_met_exits_1(outlier_classifier_onnx, calib_split, small_val, tmp_path: Path) -> None:
    source, _ = outlier_classifier_onnx
    model = tmp_path / "outlier.onnx"
    shutil.copy(source, model)
    result = _invoke(
        "calibrate",
        model,
        "--int8",
        "--data",
        calib_split.images,
        "--ann",
        calib_split.ann,
        "--num-images",
        16,
        "--max-drop",
        0.0,
        "--max-fp32-layers",
        1,
        "--val-data",
        calib_split.images,
        "--val-ann",
        small_val,
    )
    assert result.exit_code == 1, result.output
    assert "fails its budget" in result.output and "FAIL" in result.output
    assert not list(tmp_path.glob("*.int8*.onnx"))


@pytest.mark.skipif(_has_tensorrt(), reason="checks the message shown when TensorRT is absent")
def test_build_engine_without_tensorrt_says_what_is_missing_and_writes_nothing(
    calib_onnx, calib_split, tmp_path: Path
) -> None:
    model = tmp_path / "det.onnx"
    shutil.copy(calib_onnx["detector"], model)
    for extra in (
        [],
        ["--int8", "--calib-data", calib_split.images],
        ["--fp16", "--timing-cache", tmp_path / "t.cache"],
    ):
        result = _invoke("build-engine", model, *extra, "-o", tmp_path / "det.engine")
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "TensorRT" in lines[0] and 'pip install "objectix-edge[tensorrt]"' in lines[0]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["det.onnx"]
