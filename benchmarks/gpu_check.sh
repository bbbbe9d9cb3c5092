#!/usr/bin/env bash
# The GPU check, in one command (about 5 minutes on an H200; the limit below keeps it under 10):
#     benchmarks/gpu_check.sh [OUT_DIR]
# 1. builds and installs fastnn with FASTNN_CUDA=ON for this machine's GPU (native architecture),
# 2. runs the device tests (pytest -m cuda) and the CUDA API tests,
# 3. runs benchmarks/gpu_bench.py (fastnn device="cuda" against PyTorch's eager CUDA loop).
# Everything goes to OUT_DIR (default: $OUT, else benchmarks/results/gpu). The machine needs no
# network: PYTHON (default python) must already have the build requirements (scikit-build-core,
# pybind11), nvidia-cublas (or a toolkit with cuBLAS), pytest, numpy and, for the comparison, a
# CUDA build of torch. The exit status is the tests' (the benchmark's failure is reported, not fatal).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-benchmarks/results/gpu}}
py=${PYTHON:-python}
mkdir -p "$out"
{ nvidia-smi || echo "nvidia-smi failed"; } > "$out/nvidia-smi.txt" 2>&1

echo "== build (FASTNN_CUDA=ON, native architecture)"
FASTNN_CUDA=ON FASTNN_CUDA_ARCHITECTURES=native CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-16} \
  timeout 300 "$py" -m pip install --no-build-isolation --no-deps -v . > "$out/build.log" 2>&1
rc=$?
tail -5 "$out/build.log"
if [ $rc -ne 0 ]; then echo "build failed (see $out/build.log)"; exit $rc; fi
(cd "$out" && "$py" -c "import fastnn; fastnn.show_config()") | tee "$out/config.txt"

echo "== tests (pytest -m cuda)"
timeout 240 "$py" -m pytest -q -p no:cacheprovider -m cuda -rs tests/engine/test_cuda_device.py > "$out/pytest_cuda.txt" 2>&1
test_rc=$?
timeout 120 "$py" -m pytest -q -p no:cacheprovider tests/api/test_cuda_api.py tests/engine/test_backend_memory.py tests/engine/test_cuda_fused_emulation.py tests/engine/test_cuda_stream_plan.py >> "$out/pytest_cuda.txt" 2>&1 || test_rc=1
tail -15 "$out/pytest_cuda.txt"

echo "== benchmark"
timeout 240 "$py" benchmarks/gpu_bench.py --out "$out" > "$out/bench.log" 2>&1 || echo "benchmark failed (see $out/bench.log)"
cat "$out/gpu_bench.md" 2>/dev/null || tail -20 "$out/bench.log"
exit $test_rc
