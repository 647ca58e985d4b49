"""Your own camera, no labels, on ``vtest.avi``: calibrate INT8 on the footage, judge parity on its held-out
end, and measure what shadow mode costs the live loop. Prints every figure the README's "Your own camera"
section quotes, with the model, data, frames and CPU.

    python benchmarks/own_camera.py [--vtest PATH] [--work DIR] [--seconds 20] [--fps 30]

Models: the committed coco-mini person detector (``tests/assets/calib/detector.pt`` / ``.onnx``, mobilenet-det
@192, weak: AP50 about 12 on coco-mini, but it finds the walkers) and the coco-mini ROI classifier asset
(``tests/assets/calib/classifier.pt``, resnet50-roi blocks 1-1-1-1, width 16, 64 px, 6 categories), which
classifies the detector's boxes. Commands are run through the real CLI (``objx-edge``), except the shadow
FPS runs, which call the same library function as ``run`` to read its summary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vtest import fetch_vtest

from objectix_edge.cpu_isa import host_isa, vector_isa
from objectix_edge.serve.run_config import RunConfig
from objectix_edge.serve.session import run_pipeline
from objectix_edge.stream.frame_loop import LoopConfig
from objectix_edge.stream.sources import VideoFileSource

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "tests" / "assets" / "calib"


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def cli(*args: str) -> tuple[int, str]:
    """Run ``objx-edge ARGS`` and echo the command; returns (exit code, output)."""
    shown = " ".join(args)
    print(f"\n$ objx-edge {shown}", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "objectix_edge", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    lines = [
        line
        for line in done.stdout.splitlines()
        if line.startswith(("PASS", "FAIL", "INCONCLUSIVE", "footage", "calib"))
    ]
    print("\n".join(lines) or done.stdout[-2000:], done.stderr[-1000:] if done.returncode == 1 else "", flush=True)
    return done.returncode, done.stdout


def parity_row(name: str, path: Path) -> str:
    data = json.loads(path.read_text())
    ev, fo = data["evidence"], data["footage"]
    agreement = ev["agreement"]
    matched = ev.get("matched")

    def cell(i: dict | None, unit: str) -> str:
        return "—" if i is None else f"{i['value']:.1f}{unit} [{i['low']:.1f}, {i['high']:.1f}]"

    frames = fo["frames_judged"]
    need = data["judgement"].get("images_needed")
    verdict = data["verdict"] + (f" (≈{need} frames would decide)" if need else "")
    return (
        f"| {name} | {data['precision']} | {len(frames)} ({frames[0]}–{frames[-1]}) | {fo['block_length']} | "
        f"{cell(agreement, '')} | {cell(matched, ' %')} | not judged (no labels) | **{verdict}** |"
    )


def shadow_fps(detector: Path, video: Path, shadow: Path | None, args: argparse.Namespace, jsonl: Path) -> tuple:
    """The live loop (file read as a camera at --fps) for --seconds. Returns (steady FPS, summary): steady =
    processed frames over the span of their capture times, from the JSONL (start-up and shutdown excluded)."""
    source = VideoFileSource(video, realtime=True, loop=True, pace_fps=args.fps)
    frames = LoopConfig(max_frames=int(args.seconds * args.fps))
    config = RunConfig(
        detector=detector, threads=1, classifier_threads=1, shadow=shadow, shadow_every=10, loop=frames, jsonl=jsonl
    )
    summary = run_pipeline(source, config)
    stamps = [json.loads(line)["timestamp"] for line in jsonl.read_text().splitlines()]
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), summary


def shadow_cost(work: Path, video: Path, args: argparse.Namespace) -> None:
    print(
        f"\nshadow cost: `run --video vtest.avi --realtime` read as a {args.fps:g} FPS camera, {args.seconds:g} s each, "
        "deployed det.int8cpu.onnx, shadow = the original det.pt every 10th frame (--shadow-every 10)",
        flush=True,
    )
    alone, s0 = shadow_fps(work / "det.int8cpu.onnx", video, None, args, work / "alone.jsonl")
    with_shadow, s1 = shadow_fps(work / "det.int8cpu.onnx", video, ASSETS / "detector.pt", args, work / "shadow.jsonl")
    for name, fps, s in (("without shadow", alone, s0), ("with --shadow-every 10", with_shadow, s1)):
        det = s.stages["detector"]
        print(
            f"{name}: {fps:.2f} FPS steady ({s.fps:.2f} over the whole run incl. start/stop), {s.processed} processed, "
            f"{s.dropped} replaced by newer frames, detector p50 {det.p50_ms:.1f} ms p95 {det.p95_ms:.1f} ms"
        )
    print(f"ratio with / without (steady FPS): {with_shadow / alone:.3f}× (goal ≥ 0.9)")
    sh = s1.shadow
    print(
        f"shadow: {sh.submitted} submitted, {sh.checked} checked, {sh.dropped} dropped (queue full), {sh.unfinished} "
        f"unfinished, latency p50 {sh.latency_ms_p50:.1f} ms p95 {sh.latency_ms_p95:.1f} ms; {sh.verdict.describe()}"
    )
    h = s1.health
    print(
        f"health (with shadow): frame age p50 {h.frame_age_ms_p50:.1f} ms p95 {h.frame_age_ms_p95:.1f} ms, decode errors "
        f"{h.decode_errors}, frozen episodes {h.frozen_episodes}, drift PSI counts {h.drift_psi_counts} scores "
        f"{h.drift_psi_scores} (warned: {h.drift_warned})"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vtest", type=Path, help="a local vtest.avi (default: fetched and cached)")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--every", type=int, default=5, help="calibrate on every N-th frame (default 5)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each shadow FPS run")
    parser.add_argument("--fps", type=float, default=30.0, help="camera rate the file is read at for the FPS runs")
    parser.add_argument("--shadow-only", action="store_true", help="only the shadow FPS runs (reuses --work)")
    args = parser.parse_args()
    video = fetch_vtest(args.vtest)
    work = args.work or Path(tempfile.mkdtemp(prefix="objx-own-camera-"))
    work.mkdir(parents=True, exist_ok=True)
    det, cls = (
        Path(shutil.copy(ASSETS / "detector.onnx", work / "det.onnx")),
        Path(shutil.copy(ASSETS / "classifier.onnx", work / "roi.onnx")),
    )
    load = os.getloadavg()[0]
    print(
        f"CPU: {cpu_name()}, {os.cpu_count()} cores, vector ISA {vector_isa()}, INT8 class {host_isa().value}; "
        f"load average {load:.1f}; ONNX Runtime 1 thread per model\n"
        f"data: {video} (vtest.avi, 768×576 pedestrians, 10 FPS, no labels)\n"
        f"models: detector {ASSETS / 'detector.pt'} (coco-mini person detector, mobilenet-det @192), "
        f"ROI classifier {ASSETS / 'classifier.pt'} (coco-mini, 6 categories, 64 px)",
        flush=True,
    )
    if args.shadow_only:
        shadow_cost(work, video, args)
        return
    t0 = time.perf_counter()
    cli("calibrate", str(det), "--int8", "--data", str(video), "--every", str(args.every))
    cache = json.loads((work / "det.calib.json").read_text())["footage"]
    print(
        f"calibration: {len(cache['calib_frames'])} frames ({cache['calib_frames'][0]}, {cache['calib_frames'][1]}, … "
        f"{cache['calib_frames'][-1]}) of {cache['frames']}; held out for parity: frames {cache['holdout'][0]}–"
        f"{cache['holdout'][1] - 1}; sha256 {cache['sha256'][:16]}…",
        flush=True,
    )
    cli("calibrate", str(cls), "--int8", "--data", str(video), "--every", str(args.every), "--detector", str(det))
    rows = []
    for name, artifact in (
        ("det.onnx", det),
        ("det.int8.onnx", work / "det.int8.onnx"),
        ("det.int8cpu.onnx", work / "det.int8cpu.onnx"),
    ):
        out = work / f"parity_{name}.json"
        cli("parity", str(artifact), "-r", str(ASSETS / "detector.pt"), "--video", str(video), "--json", str(out))
        rows.append(parity_row(f"person detector, `{name}`", out))
    for name in ("roi.onnx", "roi.int8.onnx", "roi.int8cpu.onnx"):
        out = work / f"parity_{name}.json"
        cli(
            "parity",
            str(work / name),
            "-r",
            str(ASSETS / "classifier.pt"),
            "--video",
            str(video),
            "--detector",
            str(det),
            "--json",
            str(out),
        )
        rows.append(parity_row(f"ROI classifier on the detector's boxes, `{name}`", out))
    print(f"\n(calibration and parity: {time.perf_counter() - t0:.0f} s)\n")
    print("| model, artifact | precision | frames judged | block | agreement [95%] | matched [95%] | drop | verdict |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))

    shadow_cost(work, video, args)


if __name__ == "__main__":
    main()
