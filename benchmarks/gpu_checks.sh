#!/usr/bin/env bash
# What a lent GPU machine runs for this project, in one go: the `gpu` tests, then the avatar benchmark (training on
# CUDA, time to a model, CPU and GPU inference). It needs only the machine's Python with torch, OpenCV, ONNX and
# onnxruntime (plus PyAV for the matting test): the tests run without tests/conftest.py (--noconftest).
# Usage: bash benchmarks/gpu_checks.sh [OUT_DIR]   (logs and tables are written there)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-build/gpu-checks}}
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$out/gpu.txt"
python3 -m pytest --noconftest -p no:cacheprovider -m gpu -q tests/nets/test_lipsync_gpu.py \
  tests/media/test_matting_torch.py 2>&1 | tee "$out/gpu_tests.log"
tests=${PIPESTATUS[0]}
python3 -m benchmarks.avatar --repeats 20 2>&1 | tee "$out/avatar_benchmark.log"
exit $(( tests || PIPESTATUS[0] ))
