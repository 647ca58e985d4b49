#!/usr/bin/env bash
# Run HERE (with internet), before a session's first call to a lent GPU machine (device tool), which has
# torch, onnx, onnxruntime, onnxscript, OpenCV, typer, rich and pytest but not the three packages below
# and cannot download anything. Writes Python 3.12 x86-64 wheels into .whl/ (git-ignored through
# .git/info/exclude); benchmarks/gpu_session.sh installs them there. Versions: those the tests ran with here.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
grep -qxF '/.whl/' .git/info/exclude || echo '/.whl/' >>.git/info/exclude
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl pycocotools==2.0.11 onnxslim==0.1.98 onnxconverter-common==1.16.0
ls -l .whl
