"""How far each INT8 file, run with each kernel choice, lands from FP32 — here, and on an emulated AVX2 CPU.

ONNX Runtime's u8×s8 kernels saturate on x86 without VNNI, so the same INT8 file can be exact on one CPU
and wrong on another (cpu_isa.py, runtime/int8_kernels.py). This script calibrates the coco-mini ROI
classifier asset (tests/assets/calib/classifier.onnx) on 32 coco-mini images, builds the TensorRT form
and the CPU form for ``vnni`` and for ``x86`` from the one cache, then prints, for every file × kernel
choice, the mean |logit − FP32 logit| and the top-1 agreement with FP32 on 96 coco-mini ROIs.

With ``--emulate Haswell`` the measuring half runs again under Debian's ``qemu-x86_64 -cpu Haswell``
(apt-get install qemu-user): QEMU's TCG has AVX2 but no AVX-512/VNNI, so ONNX Runtime picks the AVX2
kernels there, as on a real AVX2-only machine. Accuracy only: times under emulation mean nothing.

    python benchmarks/int8_isa.py [--emulate Haswell] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
COCO = REPO.parent / "shared" / "data" / "coco-mini"
ROIS = 96
# (label, file name, kernels): every way a file may be run.
RUNS = [
    ("TensorRT form, native kernels", "cls.int8.onnx", "native"),
    ("TensorRT form, simulated (how it is judged)", "cls.int8.onnx", "simulated"),
    ("CPU form for vnni, native kernels", "cls.int8cpu.onnx", "native"),
    ("CPU form for vnni, u8u8 kernels (x86 hosts)", "cls.int8cpu.onnx", "u8u8"),
    ("CPU form for x86 (7-bit weights), native", "cls.int8cpu.x86.onnx", "native"),
]


def prepare(out: Path) -> None:
    """Calibrate once (CPU form for vnni), re-build the CPU form for x86, save the ROI feeds."""
    from objectix_edge.calib.int8 import Int8Config, run_int8
    from objectix_edge.calib.quantize import QuantizeConfig, quantize_from_cache
    from objectix_edge.cpu_isa import CpuIsa
    from objectix_edge.data.coco import load_coco, read_image
    from objectix_edge.enums import Int8Form
    from objectix_edge.export.metadata import read_onnx_spec
    from objectix_edge.modelio.roi_feeds import preprocess_rois

    model = Path(shutil.copy(REPO / "tests" / "assets" / "calib" / "classifier.onnx", out / "cls.onnx"))
    ann = COCO / "annotations" / "instances_train2017.json"
    result = run_int8(model, Int8Config(data=COCO / "images", ann=ann, num_images=32, cpu_isa=CpuIsa.VNNI))
    x86 = replace(result.cache, cpu_isa=CpuIsa.X86)
    quantize_from_cache(model, x86, out / "cls.int8cpu.x86.onnx", Int8Form.CPU, QuantizeConfig(result.cache.exclude))
    spec = read_onnx_spec(model)
    source = load_coco(COCO / "images", ann, spec.category_names)
    calibrated = set(result.cache.image_ids)
    feeds = []
    for image_id in source.image_ids:  # ROIs of images the calibration did not see
        targets = source.targets(image_id)
        if image_id not in calibrated and len(targets.labels):
            feeds.append(preprocess_rois(read_image(targets.path), targets.boxes, spec))
    merged = {k: np.concatenate([f[k] for f in feeds])[:ROIS] for k in spec.input_names}
    np.savez(out / "feeds.npz", **merged)


def measure(out: Path, where: str) -> None:
    """Print one row per file × kernels: distance from FP32 on the saved ROIs."""
    from objectix_edge.runtime.int8_kernels import Int8Kernels
    from objectix_edge.runtime.ort_runner import OrtRunner

    data = np.load(out / "feeds.npz")
    feeds = {k: data[k] for k in data.files}
    with OrtRunner(out / "cls.onnx", threads=1) as runner:
        ref = next(iter(runner.infer(feeds).values()))
    print(
        f"\n{where}: {len(ref)} coco-mini ROIs, ROI classifier asset (resnet50-roi, blocks 1-1-1-1, width 16, 64 px, 6 classes), ONNX Runtime, 1 thread"
    )
    print(f"| {'file, kernels':46s} | mean abs logit diff vs FP32 | top-1 agreement |")
    print(f"|{'-' * 48}|-----------------------------|-----------------|")
    for label, name, kernels in RUNS:
        with OrtRunner(out / name, threads=1, int8_kernels=Int8Kernels(kernels)) as runner:
            got = next(iter(runner.infer(feeds).values()))
        agree = 100.0 * float(np.mean(got.argmax(1) == ref.argmax(1)))
        print(f"| {label:46s} | {np.abs(got - ref).mean():27.4f} | {agree:14.1f}% |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--emulate", metavar="CPU", help="also measure under qemu-x86_64 -cpu CPU (e.g. Haswell)")
    parser.add_argument("--out", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--measure-only", type=Path, help=argparse.SUPPRESS)  # the emulated half
    parser.add_argument("--where", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        measure(args.measure_only, args.where)
        return
    from objectix_edge.cpu_isa import host_isa, vector_isa

    out = args.out or Path(tempfile.mkdtemp(prefix="objx-int8-isa-"))
    out.mkdir(parents=True, exist_ok=True)
    prepare(out)
    measure(out, f"this CPU ({vector_isa()}, INT8 class {host_isa().value})")
    if args.emulate:
        qemu = shutil.which("qemu-x86_64")
        if qemu is None:
            sys.exit("--emulate needs qemu-user: apt-get install qemu-user")
        # The interpreter itself (not the venv's symlink) under QEMU, with the venv's packages on the path.
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), *(p for p in sys.path if p)]))
        where = f"qemu-x86_64 -cpu {args.emulate} (emulated; {args.emulate} has AVX2, no AVX-512/VNNI)"
        cmd = [qemu, "-cpu", args.emulate, os.path.realpath(sys.executable), __file__, "--measure-only", str(out)]
        result = subprocess.run([*cmd, "--where", where], env=env, capture_output=True, text=True, check=False)
        print(result.stdout, end="")
        if result.returncode != 0:  # QEMU's feature warnings go to stderr; show them only on failure
            sys.exit(result.stderr[-2000:])


if __name__ == "__main__":
    main()
