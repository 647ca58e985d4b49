"""``report.json`` (every figure, for machines) and ``report.md`` (the same figures as tables + plots).

Both are written from one record built here, and numbers in the Markdown go through ``fmt``, so the
two files cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from objectix_edge.bench.bench_report import display_name
from objectix_edge.bench.env import environment_lines
from objectix_edge.deploy.context import DeployContext
from objectix_edge.enums import ArtifactKind
from objectix_edge.fileio import write_json_atomic, write_text_atomic

SCHEMA = "objx-deploy-v1"
REPORT_MD = "report.md"
REPORT_JSON = "report.json"


def fmt(value: float | None, digits: int = 2) -> str:
    """How every number appears in report.md (— for a missing one)."""
    return "—" if value is None else f"{value:.{digits}f}"


def _rel(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def build_record(ctx: DeployContext) -> dict[str, Any]:
    """The whole run as plain JSON types; report.md is rendered from this, not from the context."""
    cfg, out = ctx.config, ctx.out
    failed = ctx.failed_step()
    artifacts = [
        {
            "name": ArtifactKind(name).value,
            "path": _rel(path, out),
            "bytes": path.stat().st_size if path.is_file() else None,
        }
        for name, path in ctx.artifacts.items()
    ]
    return {
        "schema": SCHEMA,
        "written_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "failed" if failed else "ok",
        "inconclusive": list(ctx.inconclusive),
        "failed_step": {"name": failed.name, "message": failed.message} if failed else None,
        "config": {
            "checkpoint": str(cfg.checkpoint),
            "data": str(cfg.data),
            "ann": str(cfg.ann),
            "video": None if cfg.video is None else str(cfg.video),
            "out": str(cfg.out),
            "max_drop": cfg.max_drop,
            "calib_images": cfg.calib_images,
            "batches": list(cfg.batches),
            "warmup": cfg.warmup,
            "iters": cfg.iters,
            "device": cfg.device,
            "threads": cfg.threads,
            "seed": cfg.seed,
        },
        "steps": [
            {
                "name": s.name,
                "status": s.status.value,
                "seconds": s.seconds,
                "message": s.message,
                "artifacts": [_rel(Path(a), out) for a in s.artifacts],
            }
            for s in ctx.steps
        ],
        "artifacts": artifacts,
        "calibration": ctx.calibration,
        "parity": ctx.parity,
        "bench": ctx.bench,
        "plots": {k: _rel(v, out) for k, v in ctx.plots.items()},
        "environment": ctx.environment,
    }


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines + [""]


def _status_lines(record: dict[str, Any]) -> list[str]:
    failed = record["failed_step"]
    if failed is None:
        lines = ["**Status: ok** — every step ran or was skipped for a stated reason.", ""]
        for name in record.get("inconclusive", []):
            lines += [f"**INCONCLUSIVE parity:** {name}", ""]
        return lines
    return [
        f"**Status: FAILED at step `{failed['name']}`** — {failed['message']}",
        "",
        "Files written by the steps before it are kept in this folder.",
        "",
    ]


def _steps_section(record: dict[str, Any]) -> list[str]:
    rows = [[s["name"], s["status"], fmt(s["seconds"], 1), s["message"]] for s in record["steps"]]
    return ["## Steps", ""] + _table(["step", "status", "seconds", "detail"], rows)


def _artifacts_section(record: dict[str, Any]) -> list[str]:
    rows = [
        [f"`{a['path']}`", a["name"], fmt(None if a["bytes"] is None else a["bytes"] / 2**20, 3)]
        for a in record["artifacts"]
    ]
    return ["## Artifacts", ""] + _table(["file", "kind", "MiB"], rows)


def _calibration_section(record: dict[str, Any]) -> list[str]:
    cal = record["calibration"]
    if not cal:
        return []
    lines = [
        "## INT8 calibration",
        "",
        f"- {cal['images']} calibration images (`splits/calib.json`), {cal['method']} ranges, cache `{cal['cache']}`",
    ]
    if "footage" in cal:
        fo = cal["footage"]
        lines[-1] = (
            f"- {cal['images']} frames of `{fo['source']}` (sha256 {fo['sha256'][:12]}…, {fo['frames']} frames), "
            f"{cal['method']} ranges, cache `{cal['cache']}`; frames {fo['holdout'][0]}–{fo['holdout'][1] - 1} held "
            "out for parity"
        )
    if "max_drop_points" in cal:
        forms = ", ".join(f"{form} {fmt(value)}" for form, value in cal["int8_metric_points"].items())
        lines.append(
            f"- budget: INT8 limit capped by --max-drop {fmt(cal['max_drop_points'])} points, judged on the held-out "
            f"images: FP32 {fmt(cal['fp32_metric_points'])}, {forms}; {cal.get('verdict', '')}: {cal.get('judgement', '')}"
        )
    kept = cal["fp32_layers"]
    lines.append(f"- layers kept in FP32 besides the decode ({len(kept)}): {', '.join(kept) if kept else 'none'}")
    return lines + [""]


def _backend(row: dict[str, Any]) -> str:
    """backend/precision, and for INT8 files the kernels ONNX Runtime ran them with."""
    kernels = row.get("int8_kernels")
    return f"{row['backend']}/{row['precision']}" + (f" ({kernels} kernels)" if kernels else "")


def _interval(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "—"
    return fmt(value) if low is None or high is None else f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def _parity_section(record: dict[str, Any]) -> list[str]:
    if not record["parity"]:
        return []
    header = [
        "artifact",
        "backend/prec",
        "metric",
        "artifact value",
        "original value",
        "drop [95% interval]",
        "limit",
        "agreement [95% interval]",
        "max abs diff",
        "verdict",
    ]
    rows = [
        [
            f"`{p['artifact']}`",
            _backend(p),
            p["metric"],
            fmt(p["value"]),
            fmt(p["reference_value"]),
            _interval(p["drop_points"], p["drop_low"], p["drop_high"]),
            fmt(p["limit_points"]),
            _interval(p["agreement"], p["agreement_low"], p["agreement_high"]),
            fmt(p["max_abs_diff"], 6),
            p["verdict"]
            + (f" (≈{p['images_needed']} {p.get('unit', 'images')} would decide)" if p["images_needed"] else ""),
        ]
        for p in record["parity"]
    ]
    note = (
        "Values are points (AP×100 for the detector, top-1×100 for the classifier) on the held-out images "
        "(`splits/holdout.json`, never seen by the calibration); agreement scores the artifact against the "
        "original's own outputs; max abs diff is in input pixels (detector boxes) or logits (classifier). "
        "Intervals are two-sided 95% (paired bootstrap over images; Clopper–Pearson for classifiers). PASS: "
        "the drop's upper bound is within the limit (FP16 keeps 99.7%, INT8 99% of the original's metric) and "
        "agreement's lower bound meets its minimum; FAIL: a bound on the wrong side; else INCONCLUSIVE."
    )
    if any(p.get("unit") == "frames" for p in record["parity"]):
        note = (
            "Judged on your footage, without labels, on the frames the calibration held out (its end): the metric's "
            "drop is not judged (no labels), only agreement with the original's own outputs (detector: agreement "
            "mAP against its detections with score ≥ 0.3 and the share of them matched; classifier: top-1 agreement "
            "on a detector's boxes). Intervals are two-sided 95% from a block bootstrap over consecutive frames "
            "(neighbouring frames are not independent), widened to Clopper–Pearson for shares. PASS: every "
            "agreement lower bound meets its minimum; FAIL: an upper bound under it; else INCONCLUSIVE."
        )
    return ["## Parity against the PyTorch original", "", note, ""] + _table(header, rows)


def _bench_section(record: dict[str, Any]) -> list[str]:
    bench = record["bench"]
    if not bench:
        return []
    cfg = bench["config"]
    lines = [
        "## Benchmark",
        "",
        f"Device `{cfg['device']}`, batches {cfg['batches']}, {cfg['warmup']} warm-up + {cfg['iters']} timed "
        "iterations each; latency in ms per batch; speedup against PyTorch FP32 eager measured in this run.",
        "",
    ]
    header = ["artifact", "backend/prec", "batch", "mean", "p50", "p90", "p99", "items/s", "speedup"]
    rows = []
    for r in bench["results"]:
        lat = r["latency_ms"]
        name = display_name(r["artifact"], r["is_baseline"])
        rows.append(
            [
                name,
                _backend(r),
                str(r["batch"]),
                fmt(lat["mean"], 3),
                fmt(lat["p50"], 3),
                fmt(lat["p90"], 3),
                fmt(lat["p99"], 3),
                fmt(r["throughput_per_s"], 1),
                fmt(r["speedup_vs_pytorch_fp32"]),
            ]
        )
    lines += _table(header, rows)
    lines += [f"- note: {n}" for n in bench["notes"]]
    return lines + ([""] if bench["notes"] else [])


def _plots_section(record: dict[str, Any]) -> list[str]:
    if not record["plots"]:
        return []
    lines = ["## Plots", ""]
    lines += [f"![{name}]({path})" for name, path in record["plots"].items()]
    return lines + [""]


def _environment_section(record: dict[str, Any]) -> list[str]:
    if not record["environment"]:
        return []
    return ["## Environment", ""] + [f"- {k}: {v}" for k, v in environment_lines(record["environment"])] + [""]


def render_markdown(record: dict[str, Any]) -> str:
    cfg = record["config"]
    lines = [
        "# objectix-edge deployment report",
        "",
        f"Checkpoint `{cfg['checkpoint']}` · data `{cfg['data']}` · annotations `{cfg['ann']}` · "
        f"INT8 budget {'--max-drop ' + fmt(cfg['max_drop']) + ' points' if cfg['max_drop'] is not None else 'not set'}"
        f" · written {record['written_utc']}",
        "",
    ]
    lines += _status_lines(record)
    for section in (
        _steps_section,
        _artifacts_section,
        _calibration_section,
        _parity_section,
        _bench_section,
        _plots_section,
        _environment_section,
    ):
        lines += section(record)
    return "\n".join(lines).rstrip() + "\n"


def write_reports(ctx: DeployContext) -> tuple[Path, Path]:
    """Write DIR/report.json and DIR/report.md atomically; returns both paths."""
    record = build_record(ctx)
    json_path, md_path = ctx.out / REPORT_JSON, ctx.out / REPORT_MD
    write_json_atomic(json_path, record)
    write_text_atomic(md_path, render_markdown(record))
    return md_path, json_path
