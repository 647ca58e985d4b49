"""Benchmark results as records (JSON), flat rows (CSV) and a rich table; files written atomically."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from objectix_edge.bench.env import environment_lines
from objectix_edge.bench.suite import Row, SuiteResult
from objectix_edge.fileio import write_json_atomic, write_text_atomic

SCHEMA = "objx-bench-v1"
CSV_FIELDS = (
    "label",
    "artifact",
    "model",
    "backend",
    "precision",
    "device",
    "int8_kernels",
    "batch",
    "iters",
    "clock",
    "copies",
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "latency_min_ms",
    "latency_max_ms",
    "latency_std_ms",
    "throughput_per_s",
    "h2d_ms",
    "compute_ms",
    "d2h_ms",
    "speedup_vs_pytorch_fp32",
    "is_baseline",
    "baseline_weights",
)


def row_record(row: Row) -> dict[str, Any]:
    """One result as a JSON-ready dict (latencies in milliseconds, throughput in items per second)."""
    t, lat = row.timing, row.timing.latency
    return {
        "label": row.label,
        "artifact": row.artifact,
        "model": row.model,
        "model_key": row.model_key,
        "backend": row.backend,
        "precision": row.precision,
        "device": row.device,
        "int8_kernels": row.int8_kernels,
        "batch": t.batch,
        "iters": t.iters,
        "clock": t.clock,
        "copies": t.copies,
        "latency_ms": {
            "mean": lat.mean,
            "p50": lat.p50,
            "p90": lat.p90,
            "p99": lat.p99,
            "min": lat.min,
            "max": lat.max,
            "std": lat.std,
        },
        "throughput_per_s": t.throughput,
        "h2d_ms": t.h2d_ms,
        "compute_ms": t.compute_ms,
        "d2h_ms": t.d2h_ms,
        "speedup_vs_pytorch_fp32": row.speedup,
        "is_baseline": row.is_baseline,
        "baseline_weights": row.baseline_weights,
    }


def result_record(result: SuiteResult) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "environment": result.environment,
        "config": result.config,
        "results": [row_record(r) for r in result.rows],
        "accuracy": result.accuracy,
        "notes": result.notes,
    }


def flat_record(record: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in record.items() if k in CSV_FIELDS}
    for key, value in record["latency_ms"].items():
        flat[f"latency_{key}_ms"] = value
    return flat


def write_json(result: SuiteResult, path: Path) -> Path:
    write_json_atomic(path, result_record(result))
    return path


def csv_text(result: SuiteResult) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in result.rows:
        writer.writerow(flat_record(row_record(row)))
    return buffer.getvalue()


def write_csv(result: SuiteResult, path: Path) -> Path:
    write_text_atomic(path, csv_text(result))
    return path


SHORT_BACKEND = {"onnxruntime": "ort", "tensorrt": "trt", "torch": "torch"}


def _ms(value: float | None) -> str:
    """Three significant digits or so: enough to compare, narrow enough for an 80-column terminal."""
    if value is None:
        return "—"
    return (
        f"{value:.3f}"
        if value < 1
        else f"{value:.2f}"
        if value < 10
        else f"{value:.1f}"
        if value < 100
        else f"{value:.0f}"
    )


def display_name(record_artifact: str, is_baseline: bool) -> str:
    """File name of the artifact, or what the baseline is when it is not a file of the run."""
    if is_baseline and not Path(record_artifact).suffix:
        return "pytorch eager (baseline)"
    return Path(record_artifact).name


def latency_table(result: SuiteResult) -> Table:
    """Rich table: one line per artifact × backend × batch; copy columns only when something ran on CUDA."""
    cuda = any(r.timing.copies == "separate" for r in result.rows)
    table = Table(
        title=f"objx-edge bench on {result.config['device']} (latency per batch, ms)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("artifact", overflow="fold", min_width=14)
    table.add_column("runs on", no_wrap=True)
    for name in ("batch", "mean", "p50", "p90", "p99", "items/s", "speedup"):  # items: images or ROIs
        table.add_column(name, justify="right", no_wrap=True)
    if cuda:
        for name in ("H2D", "compute", "D2H"):
            table.add_column(name, justify="right", no_wrap=True)
    for r in result.rows:
        lat = r.timing.latency
        cells = [
            display_name(r.artifact, r.is_baseline),
            f"{SHORT_BACKEND.get(r.backend, r.backend)}/{r.precision}",
            str(r.timing.batch),
            _ms(lat.mean),
            _ms(lat.p50),
            _ms(lat.p90),
            _ms(lat.p99),
            _ms(r.timing.throughput),
            "—" if r.speedup is None else f"{r.speedup:.2f}×",
        ]
        if cuda:
            cells += [_ms(r.timing.h2d_ms), _ms(r.timing.compute_ms), _ms(r.timing.d2h_ms)]
        table.add_row(*cells)
    return table


def environment_table(env: dict[str, Any]) -> Table:
    table = Table(title="environment", show_header=False)
    for key, value in environment_lines(env):
        table.add_row(key, value)
    return table


def accuracy_table(result: SuiteResult) -> Table | None:
    if not result.accuracy:
        return None
    table = Table(title="accuracy (points = AP×100 or top-1×100)", box=box.SIMPLE_HEAD)
    for name in ("artifact", "runs on", "metric", "value", "original", "drop", "agreement"):
        table.add_column(name, justify="left" if name in ("artifact", "runs on", "metric") else "right")
    for a in result.accuracy:
        table.add_row(
            Path(a["artifact"]).name,
            f"{SHORT_BACKEND.get(a['backend'], a['backend'])}/{a['precision']}",
            a["metric"],
            _num(a["value"]),
            _num(a.get("reference_value")),
            _num(a.get("drop_points")),
            _num(a.get("agreement")),
        )
    return table


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
