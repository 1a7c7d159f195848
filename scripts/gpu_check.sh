#!/usr/bin/env bash
# The CUDA checks in one go, for a machine with a GPU (about 5 minutes on one GPU):
#   1. optbench perf gpu        -> results/perf-gpu.json: scalar vs batch on cuda vs cpu, the instrument's
#                                  split (device_s, item wait/copy) against a synchronized wall time, the
#                                  stacked backtest on cuda vs cpu, syncs per evaluation
#   2. a traced profile on cuda -> profiles/gpu/*.trace.json with torch.profiler's CUDA kernels merged
#   3. the tests that run only where CUDA is available
# Run from the repository root with the project's environment active: bash scripts/gpu_check.sh
set -euo pipefail
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA here: nothing to check')"
timeout 420 optbench perf gpu
timeout 180 optbench profile --objective maxdiff --option device=cuda --optimizer scipy.de --budget 300 \
    --no-py-spy --trace --torch-profiler --out profiles/gpu
timeout 300 python -m pytest -q tests/harness/test_trace.py tests/harness/test_perf_gpu.py
