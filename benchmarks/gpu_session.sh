#!/usr/bin/env bash
# Every GPU measurement and GPU test of the project in ONE call on a lent GPU machine (device tool):
#   here, once:   scripts/gpu_wheels.sh
#   then:         run(command="bash benchmarks/gpu_session.sh", carry=[".whl"], timeout_s=600)
# Writes 7 files to $OUT (the tool's 8-file limit): info, GPU tests, torch eager vs CUDA graph, bench
# --device cuda (FP32 eager and FP16 CUDA graph, each against FP32 eager in the same run), camera loop
# FPS with GPU vs host preprocessing. Models are default-size with seeded random weights: latency does
# not depend on the weights. A failing step is recorded and the next one still runs.
set -uo pipefail
out=${OUT:-/tmp/objx-gpu}
work=$(mktemp -d)
mkdir -p "$out"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl ||
    exit 1
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH:-}" PYTHONUNBUFFERED=1
objx() { python3 -m objectix_edge "$@"; }

{ nvidia-smi; objx info; } >"$out/info.txt" 2>&1
python3 -m pytest -q -p no:cacheprovider -m "gpu or tensorrt" tests >"$out/pytest_gpu.txt" 2>&1
python3 benchmarks/torch_cuda.py --batch 1,8 --json "$out/torch_cuda.json" >"$out/torch_cuda.txt" 2>&1

python3 - "$work" <<'PY'
import sys
from pathlib import Path

import torch

from objectix_edge.models import create_model
from objectix_edge.models.checkpoint import save_checkpoint

torch.manual_seed(0)
save_checkpoint(Path(sys.argv[1]) / "det.pt", create_model("mobilenet-det", imgsz=320).eval())
PY
{
  objx bench "$work/det.pt" --device cuda --batch 1,8 --json "$work/bench_fp32.json"
  objx bench "$work/det.pt" --device cuda --precision fp16 --cuda-graph --batch 1,8 --json "$out/bench_fp16_graph.json"
} >"$out/bench.txt" 2>&1
python3 benchmarks/run_fps.py --detector "$work/det.pt" --device cuda --frames 200 --rounds 3 >"$out/run_fps.txt" 2>&1
tail -n 3 "$out"/*.txt
