"""PNG plots of a benchmark: latency vs batch, and accuracy vs latency when accuracy was measured.

Uses matplotlib's object API with the Agg canvas (no pyplot global state, no display needed).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from objectix_edge.bench.suite import SuiteResult
from objectix_edge.fileio import atomic_path


def _series(result: SuiteResult) -> dict[str, list[tuple[int, float, float, float]]]:
    """label → sorted (batch, p50, mean, p99) points."""
    series: dict[str, list[tuple[int, float, float, float]]] = defaultdict(list)
    for r in result.rows:
        lat = r.timing.latency
        series[r.label].append((r.timing.batch, lat.p50, lat.mean, lat.p99))
    return {k: sorted(v) for k, v in series.items()}


def _colors(result: SuiteResult) -> dict[str, str]:
    """One colour per runner label, shared by both panels so a runner looks the same in each."""
    return {label: f"C{i % 10}" for i, label in enumerate(_series(result))}


def _latency_panel(ax: Any, result: SuiteResult) -> None:
    colors = _colors(result)
    for label, points in _series(result).items():
        batches = [p[0] for p in points]
        p50 = [p[1] for p in points]
        p99 = [p[3] for p in points]
        ax.plot(batches, p50, marker="o", label=label, color=colors[label])
        ax.fill_between(batches, p50, p99, color=colors[label], alpha=0.15)
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    batches = sorted({r.timing.batch for r in result.rows})
    ax.set_xticks(batches)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("batch size")
    ax.set_ylabel("latency per batch, ms (p50 line, band to p99)")
    ax.set_title("latency vs batch")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _accuracy_panel(ax: Any, result: SuiteResult) -> None:
    # Accuracy is per artifact × backend; place it at that runner's smallest-batch mean latency.
    latency, color = {}, {}
    colors = _colors(result)
    for r in sorted(result.rows, key=lambda r: -r.timing.batch):
        latency[(r.artifact, r.backend, r.precision)] = r.timing.latency.mean
        color[(r.artifact, r.backend, r.precision)] = colors[r.label]
    # The PyTorch original, when the records name one that was timed: the point the others moved from.
    originals = {
        (a["reference"], a["reference_value"]) for a in result.accuracy if a.get("reference_value") is not None
    }
    for reference, value in sorted(originals):
        x = latency.get((reference, "torch", "fp32"))
        if x is not None:
            ax.scatter([x], [value], s=60, marker="*", color="black")
            ax.annotate(
                f"{Path(reference).name}\nPyTorch original",
                (x, value),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    for a in result.accuracy:
        key = (a["artifact"], a["backend"], a["precision"])
        x = latency.get(key)
        if x is None or a.get("value") is None:
            continue
        ax.scatter([x], [a["value"]], s=40, color=color[key])
        ax.annotate(
            f"{Path(a['artifact']).name}\n{a['backend']}/{a['precision']}",
            (x, a["value"]),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    metrics = sorted({a["metric"] for a in result.accuracy})
    metric = metrics[0] if len(metrics) == 1 else " or ".join(metrics)
    ax.set_xlabel(f"latency at batch {min(result.config['batches'])}, ms (mean)")
    ax.set_ylabel(f"{metric} (points)")
    ax.set_title("accuracy vs latency")
    ax.grid(True, alpha=0.3)


def write_plot(result: SuiteResult, path: Path) -> Path:
    """Write the PNG: one panel, or two when accuracy figures exist."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = 2 if any(a.get("value") is not None for a in result.accuracy) else 1
    fig = Figure(figsize=(6.5 * panels, 4.8), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    _latency_panel(axes[0], result)
    if panels == 2:
        _accuracy_panel(axes[1], result)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
