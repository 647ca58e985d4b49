"""The calibration cache ``model.calib.json``: per-tensor ranges plus what produced them.

It records the calibration method, the image ids used and the sha256 of the FP32 ONNX, so a later
``--from-cache`` re-quantizes without images and refuses a cache made for another model; and the CPU ISA
class the CPU form is built for (caches written before classes existed read as ``unknown``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from objectix_edge.cpu_isa import CpuIsa
from objectix_edge.enums import CalibMethod
from objectix_edge.errors import ArtifactError
from objectix_edge.fileio import read_json, write_json_atomic

CACHE_FORMAT = "objx-calib-v1"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class CalibCache:
    """Ranges are ``{tensor_name: (min, max)}`` as float32 values stored exactly in JSON."""

    model_sha256: str
    model_name: str
    method: CalibMethod
    image_ids: tuple[int | str, ...]
    seed: int
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    onnxruntime_version: str = ""
    exclude: tuple[str, ...] = ()  # nodes kept FP32 (--exclude and --max-drop picks): --from-cache reuses them
    cpu_isa: CpuIsa = CpuIsa.UNKNOWN  # the class the CPU form is built for (--cpu-isa)
    # Calibrated on footage (no labels): the video's sha256, the sampled frame indices (= image_ids) and
    # the held-out stretch that parity judges on (data/footage.py FootagePlan.to_dict); None for COCO.
    footage: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": CACHE_FORMAT,
            "model_sha256": self.model_sha256,
            "model_name": self.model_name,
            "method": self.method.value,
            "seed": self.seed,
            "num_images": len(self.image_ids),
            "image_ids": list(self.image_ids),
            "onnxruntime_version": self.onnxruntime_version,
            "exclude": list(self.exclude),
            "cpu_isa": self.cpu_isa.value,
            **({"footage": self.footage} if self.footage is not None else {}),
            "ranges": {name: {"min": lo, "max": hi} for name, (lo, hi) in sorted(self.ranges.items())},
        }

    def check_model(self, model_path: Path, cache_path: Path) -> None:
        """Refuse a cache computed for another FP32 model (stale after re-export or retraining)."""
        actual = sha256_file(model_path)
        if actual != self.model_sha256:
            raise ArtifactError(
                f"{cache_path}: stale calibration cache, made for another model (sha256 {self.model_sha256[:12]}…, "
                f"{model_path} is {actual[:12]}…); re-calibrate with --data instead of --from-cache"
            )


ARTIFACT_SUFFIXES = (".int8cpu.onnx", ".int8.onnx", ".fp16.onnx", ".onnx")


def cache_path_for(artifact: Path) -> Path | None:
    """``model.calib.json`` for any file made from ``model.onnx`` (FP32, FP16 or either INT8 form), where
    calibrate writes it; None for a file not named like one of ours."""
    name = Path(artifact).name
    for suffix in ARTIFACT_SUFFIXES:
        if name.endswith(suffix):
            return Path(artifact).with_name(name[: -len(suffix)] + ".calib.json")
    return None


def cache_beside(artifact: Path) -> Path | None:
    """The calibration cache beside ``artifact`` when there is one."""
    cache = cache_path_for(artifact)
    return cache if cache is not None and cache.is_file() else None


def save_cache(cache: CalibCache, path: Path) -> Path:
    write_json_atomic(path, cache.to_dict())
    return path


def load_cache(path: Path) -> CalibCache:
    data = read_json(path, "calibration cache")
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        raise ArtifactError(
            f"{path}: not an objectix-edge calibration cache ({CACHE_FORMAT}); "
            "create one with objx-edge calibrate --int8"
        )
    try:
        return CalibCache(
            model_sha256=str(data["model_sha256"]),
            model_name=str(data["model_name"]),
            method=CalibMethod(data["method"]),
            image_ids=tuple(data["image_ids"]),
            seed=int(data["seed"]),
            ranges={name: (float(r["min"]), float(r["max"])) for name, r in data["ranges"].items()},
            onnxruntime_version=str(data.get("onnxruntime_version", "")),
            exclude=tuple(str(n) for n in data.get("exclude", [])),
            cpu_isa=CpuIsa(data.get("cpu_isa", CpuIsa.UNKNOWN.value)),
            footage=data.get("footage"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(
            f"{path}: calibration cache is malformed ({exc!r}); re-create it with objx-edge calibrate --int8"
        ) from exc


def check_int8_cache(int8_path: Path, recorded_sha256: str | None) -> None:
    """Refuse an INT8 file whose calibration cache (beside it) is not the one it was made from.

    A SIGKILL between writing the cache and the two forms, or files copied from two runs, leaves a set
    whose parts disagree; judging or deploying it would mix two calibrations. Files without the record
    (older) or without a cache beside them (deployed alone) have nothing to disagree with.
    """
    cache = cache_path_for(Path(int8_path)) or Path(int8_path).with_suffix(".calib.json")
    if recorded_sha256 is None or not cache.is_file():
        return
    actual = sha256_file(cache)
    if actual != recorded_sha256:
        raise ArtifactError(
            f"{int8_path}: made from another calibration than {cache.name} beside it (cache sha256 "
            f"{recorded_sha256[:12]}…, found {actual[:12]}…), e.g. a calibrate run killed midway; "
            f"re-make both INT8 files: objx-edge calibrate MODEL.onnx --int8 --from-cache {cache}"
        )
