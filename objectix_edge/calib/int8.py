"""``calibrate --int8`` as one library call: ranges (or a cache) → both Q/DQ files, optionally budgeted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from objectix_edge.calib.candidate_eval import CandidateEvaluator, make_evaluator
from objectix_edge.calib.footage_reader import FootageCalibReader, calibration_profile
from objectix_edge.calib.quantize import Int8Form, QuantizeConfig, calibrate, int8_paths, quantize_from_cache
from objectix_edge.calib.reader import CalibDataConfig, CocoCalibReader
from objectix_edge.calib.sensitivity import BudgetConfig, BudgetResult, fit_budget
from objectix_edge.cpu_isa import CpuIsa, build_isa
from objectix_edge.data.footage import DEFAULT_HOLDOUT, plan_footage
from objectix_edge.defaults import CALIB_BATCH, CALIB_IMAGES, CALIB_METHOD, CALIB_SEED
from objectix_edge.enums import CalibMethod, Precision, Task
from objectix_edge.errors import BudgetExceededError, InputError
from objectix_edge.eval.budgets import budget_for
from objectix_edge.eval.verdict import Verdict
from objectix_edge.export.calib_cache import CalibCache, load_cache, save_cache, sha256_file
from objectix_edge.export.metadata import load_onnx, require_fp32, spec_from_metadata
from objectix_edge.runtime.open import open_runner
from objectix_edge.spec import ModelSpec


@dataclass(frozen=True)
class Int8Config:
    """Either ``data`` (calibrate on images) or ``from_cache`` (re-quantize, no images)."""

    data: Path | None = None
    ann: Path | None = None
    num_images: int = CALIB_IMAGES
    method: CalibMethod = CALIB_METHOD
    seed: int = CALIB_SEED
    batch_size: int = CALIB_BATCH
    exclude: tuple[str, ...] = ()
    from_cache: Path | None = None
    out_dir: Path | None = None
    max_drop: float | None = None
    val_data: Path | None = None
    val_ann: Path | None = None
    max_fp32_layers: int | None = None  # --max-drop may keep at most this many layers FP32
    holdout_ids: frozenset[int | str] = frozenset()  # image ids calibration must not use (besides --val-data's)
    # The CPU ISA class the CPU form is built for; None: this machine's, or the one --from-cache recorded.
    cpu_isa: CpuIsa | None = None
    # Footage (a video file, or a frame folder without --ann): frames sampled evenly, the end held out.
    every: int | None = None  # every N-th frame (at most num_images of them); None: num_images evenly
    holdout: float = DEFAULT_HOLDOUT
    detector: Path | None = None  # an ROI classifier calibrates on this detector's boxes over the frames


@dataclass(frozen=True)
class Int8Result:
    cache_path: Path
    cache: CalibCache
    files: dict[str, Path]
    budget: BudgetResult | None = None


@dataclass(frozen=True)
class Int8Hooks:
    """Progress callbacks: ``start(total_images)``, ``image()`` per image, ``step(message)`` per search step."""

    start: Callable[[int], None] = lambda _n: None
    image: Callable[[], None] = lambda: None
    step: Callable[[str], None] = lambda _msg: None


def _validate(config: Int8Config) -> None:
    if (config.data is None) == (config.from_cache is None):
        raise InputError("calibrate --int8 needs exactly one of --data COCO_IMAGES or --from-cache model.calib.json")
    if config.num_images < 1:
        raise InputError(f"--num-images must be at least 1, got {config.num_images}")
    if config.max_drop is not None and (config.val_data is None or config.val_ann is None):
        raise InputError("--max-drop measures accuracy on held-out images: pass --val-data and --val-ann too")


def uses_footage(config: Int8Config) -> bool:
    """Calibrate on footage: ``--data`` is a video file, or a folder of frames without ``--ann``."""
    return config.data is not None and (Path(config.data).is_file() or config.ann is None)


def footage_reader(spec: ModelSpec, config: Int8Config) -> FootageCalibReader:
    """The plan's frames (the end held out), with an ROI classifier's boxes from ``config.detector``."""

    plan = plan_footage(config.data, config.num_images, config.every, config.holdout)  # type: ignore[arg-type]
    detector = open_runner(config.detector) if config.detector is not None else None
    if detector is not None and detector.spec.task != Task.DETECT:
        raise InputError(
            f"{config.detector}: --detector must be a detector, this is a {detector.spec.task.value} model"
        )
    return FootageCalibReader(spec, plan, config.batch_size, detector=detector)


def _footage_record(model_path: Path, reader: FootageCalibReader) -> dict[str, object]:
    """The plan (sha256, frames, split) and, for a detector, its detections' profile on those frames."""
    record: dict[str, object] = reader.plan.to_dict()
    if reader.spec.task == Task.DETECT:
        record["baseline"] = calibration_profile(model_path, reader.plan)
    return record


def run_int8(model_path: Path, config: Int8Config, hooks: Int8Hooks = Int8Hooks()) -> Int8Result:
    """Calibrate (or load the cache), write ``.calib.json``, ``.int8.onnx`` and ``.int8cpu.onnx``."""
    _validate(config)
    model_path = Path(model_path)
    model = load_onnx(model_path)
    spec = spec_from_metadata({p.key: p.value for p in model.metadata_props}, str(model_path))
    require_fp32(model, model_path, Precision.INT8)
    del model  # the calibration and quantization read the file themselves
    paths = int8_paths(model_path, config.out_dir)
    evaluator: CandidateEvaluator | None = None
    val_ids: list[int] = []
    if config.max_drop is not None:
        evaluator, val_ids = make_evaluator(spec, config.val_data, config.val_ann)  # type: ignore[arg-type]
    if config.from_cache is not None:
        cache = load_cache(config.from_cache)
        cache.check_model(model_path, config.from_cache)
        overlap = set(cache.image_ids) & set(val_ids)
        if overlap:
            raise InputError(
                f"{config.from_cache}: {len(overlap)} validation images were used for calibration "
                f"(e.g. {sorted(overlap, key=str)[0]}); "
                "validate on other images or re-calibrate with --data"
            )
        cache = replace(
            cache,
            exclude=tuple(dict.fromkeys(cache.exclude + config.exclude)),
            cpu_isa=config.cpu_isa or cache.cpu_isa,
        )
    else:
        data_cfg = CalibDataConfig(
            images_dir=config.data,  # type: ignore[arg-type]
            ann_file=config.ann,
            num_images=config.num_images,
            seed=config.seed,
            batch_size=config.batch_size,
            exclude_ids=frozenset(val_ids) | config.holdout_ids,
        )
        footage = uses_footage(config)
        reader = footage_reader(spec, config) if footage else CocoCalibReader(spec, data_cfg)
        hooks.start(len(reader))
        try:
            ranges = calibrate(model_path, reader, config.method, hooks.image)
        finally:
            if isinstance(reader, FootageCalibReader) and reader.detector is not None:
                reader.detector.close()  # the ROI classifier's box source is done
        cache = replace(
            ranges,
            exclude=config.exclude,
            cpu_isa=build_isa(config.cpu_isa),
            footage=_footage_record(model_path, reader) if isinstance(reader, FootageCalibReader) else None,
        )
    budget: BudgetResult | None = None
    if evaluator is not None and config.max_drop is not None:  # evaluator is made only for --max-drop
        limits = budget_for(spec.task, Precision.INT8).with_max_drop(config.max_drop)
        budget = fit_budget(
            model_path, cache, evaluator, BudgetConfig(limits, config.max_fp32_layers, cache.exclude), hooks.step
        )
        if budget.verdict != Verdict.FAIL:  # PASS, or the best configuration the images could not decide
            cache = replace(cache, exclude=cache.exclude + budget.kept)
    cache_path = config.from_cache
    retargeted = config.from_cache is not None and config.cpu_isa is not None
    if cache_path is None or budget is not None or retargeted:  # the cache records what the files were made from
        cache_path = save_cache(cache, paths["cache"])
        cache = load_cache(cache_path)  # quantize from the cache as stored: --from-cache gives the same bytes
    if budget is not None and budget.verdict == Verdict.FAIL:
        raise BudgetExceededError(
            f"{model_path}: INT8 fails its budget even with {len(budget.kept)} layers in FP32 ({budget.summary()}); "
            f"wrote only {cache_path.name}: retry with a looser --max-drop or more --max-fp32-layers"
        )
    files = {}
    # Both forms record the cache they come from: a run killed between the files, or files mixed from two
    # runs, is refused by every reader (check_int8_cache) instead of being judged as one set.
    digest = sha256_file(cache_path)
    for form in Int8Form:
        files[form.value] = quantize_from_cache(
            model_path, cache, paths[form.value], form, QuantizeConfig(exclude=cache.exclude, cache_sha256=digest)
        )
    return Int8Result(cache_path, cache, files, budget)
