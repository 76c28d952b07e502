#!/usr/bin/env bash
# `make gpu-check` without make (a GPU machine may lack it): the device command of docs/GPU.md.
# Unpacks the carried wheels of what that machine lacks and stops, with the reason, unless
# $GPU_IMPORTS import (benchmarks/gpu_deps.py, no pip needed), unpacks the data once, then runs
# benchmarks/gpu_check.py with that machine's python3 and torch; arguments after OUT go to it.
#
#     bash benchmarks/gpu_check.sh OUT [--size tiny] [--stages ...] [--deadline-s N]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: gpu_check.sh OUT [gpu_check.py arguments]}
shift
PY=${GPU_PYTHON:-python3}
GPU_DIR=.gpu
[[ -f $GPU_DIR/data.tar.gz ]] || { echo "gpu-check: STOP: no $GPU_DIR/data.tar.gz (make gpu-pack, carry it)"; exit 2; }
# shellcheck disable=SC2086 - the module list is words on purpose
PYTHONPATH=$PWD/src "$PY" benchmarks/gpu_deps.py $GPU_DIR/wheels $GPU_DIR/site \
  ${GPU_IMPORTS:-pydantic pytest antlm.config antlm.cli}
if [[ ! -d $GPU_DIR/data ]]; then
  rm -rf $GPU_DIR/data.tmp && mkdir -p $GPU_DIR/data.tmp
  tar -C $GPU_DIR/data.tmp -xzf $GPU_DIR/data.tar.gz && mv $GPU_DIR/data.tmp $GPU_DIR/data
fi
PYTHONPATH=$PWD/src:$PWD/$GPU_DIR/site exec "$PY" benchmarks/gpu_check.py --out "$OUT" \
  --data-dir $GPU_DIR/data "$@"
