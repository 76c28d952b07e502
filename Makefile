# The README's commands. `make demo` and `make test` set everything up themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.antlm-installed
# The data directory: ANTLM_DATA_DIR if set, else ../shared/data when it exists.
ANTLM_DATA_DIR ?= $(shell [ -d ../shared/data ] && cd ../shared/data && pwd)
export ANTLM_DATA_DIR
# Zero-shot pairs scored per subtask in the demo, under the run's declared backend alone (`antlm
# eval runs/demo --backend all` scores every backend on every pair). The demo ends with the
# headline (the macro-average under the declared backend, naming the suite), the word-order
# diagnostic next to chance (a tiny model near chance on BLiMP is far above it there), and the
# path of the run's dev-loss plot.
DEMO_EVAL_PAIRS ?= 50

.PHONY: setup demo test test-fast bench lint wheel clean gpu-pack gpu-check gpu-check-dry \
  gpu-rehearsal

# setup also links ./data to the data directory when there is none: the CLI reads --data-dir,
# else ANTLM_DATA_DIR, else ./data, so the README's commands work as written.
setup: $(STAMP)
	@if [ -n "$(ANTLM_DATA_DIR)" ] && [ ! -e data ]; then ln -s "$(ANTLM_DATA_DIR)" data && \
	  echo "linked ./data -> $(ANTLM_DATA_DIR)"; fi

# torch first, pinned: on the project's machines torch==2.13.0 is a local CPU build, while any
# other spec (or a package that pulls torch in) would download a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	@if [ -z "$(ANTLM_DATA_DIR)" ]; then \
	  echo "No data directory. Set ANTLM_DATA_DIR to a folder holding the BabyLM corpus"; \
	  echo "(e.g. babylm_10M/train_10M/*.train from https://babylm.github.io) and the evaluation data;"; \
	  echo "see README.md, section 'Data'."; exit 2; fi
	@if [ -e runs/demo ]; then echo "make demo: replacing the previous demo run in runs/demo"; fi
	rm -rf runs/demo
	$(BIN)/antlm train configs/runs/demo.yaml --out runs/demo
	$(BIN)/antlm eval runs/demo --tasks blimp_filtered,blimp_supplement,ewok,word_order \
	  --backend declared --suite babylm2025 --max-pairs $(DEMO_EVAL_PAIRS) --no-progress
	$(BIN)/antlm plot runs/demo

# The fast lane first (no training, no Python subprocess: about a minute), so a broken change
# fails in a minute; then the slow lane (training real models: most of the suite's time).
# tests/conftest.py marks and enforces the lanes.
test: test-fast
	$(BIN)/python -m pytest -q -m "slow and not benchmark"

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not benchmark"

# tcmalloc when installed (Debian: apt-get install libtcmalloc-minimal4): +15-30% fp32 and up
# to 2x bf16 on CPU, see docs/PERFORMANCE.md. Without it LD_PRELOAD stays empty (glibc malloc).
TCMALLOC := $(firstword $(wildcard /usr/lib/*/libtcmalloc_minimal.so.4 /usr/lib/libtcmalloc_minimal.so.4))

bench: setup
	LD_PRELOAD=$(TCMALLOC) $(BIN)/python benchmarks/train_speed.py

lint: setup
	$(BIN)/ruff check src tests benchmarks

# The wheel the README installs outside a checkout (dist/antlm-VERSION-py3-none-any.whl). pip
# builds it offline with the environment's setuptools when it has one, else in an isolated
# build environment (which downloads setuptools).
wheel: setup
	rm -f dist/antlm-*.whl
	isolation=; $(BIN)/python -c 'import setuptools' 2>/dev/null && isolation=--no-build-isolation; \
	  $(BIN)/pip wheel -q --no-deps $$isolation -w dist .
	@ls dist/antlm-*.whl

clean:
	rm -rf runs .antlm_cache

# ---------------------------------------------------------------------------- the GPU check
# docs/GPU.md says what these do, how the work was sized and how to run them on a GPU machine.
# gpu-pack (here, with the data and a package index): wheels of the pure-Python dependencies a
# GPU machine with its own torch may lack, for its Python 3.12, and the data the check reads,
# both in $(GPU_DIR), which git ignores. gpu-check (there): benchmarks/gpu_check.sh, which a
# machine without make runs directly: unpacks the wheels of what that machine lacks, without
# pip, and stops unless $(GPU_IMPORTS) import (benchmarks/gpu_deps.py), unpacks the data, runs
# benchmarks/gpu_check.py with that machine's python3 and torch.
# gpu-check-dry: the same on this machine's CPU at a tiny size.
GPU_DIR := .gpu
GPU_PYTHON ?= python3
GPU_CHECK_SIZE ?= full
GPU_CHECK_OUT ?= runs/gpu-check
GPU_CHECK_STAGES ?= tests,memory,speed,headline
GPU_CHECK_DEADLINE ?=
GPU_WHEELS := pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 \
  typing-inspection==0.4.5 typing-extensions==4.16.0 \
  pytest==9.2.0 pluggy==1.7.0 iniconfig==2.3.1 pygments==2.21.0 packaging==24.2
# What must import on the GPU machine before any stage runs (gpu_deps.py stops there otherwise).
GPU_IMPORTS := pydantic pytest antlm.config antlm.cli
# All training and dev text, and the zero-shot tasks the headline scores (EWoK stays zipped).
GPU_DATA := PROVENANCE.md babylm_10M/train_10M babylm_10M/dev babylm_2023_partial \
  blimp_filtered blimp_supplement ewok

gpu-pack: setup $(GPU_DIR)/data.tar.gz
	rm -rf $(GPU_DIR)/wheels
	$(BIN)/pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
	  --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
	  -d $(GPU_DIR)/wheels $(GPU_WHEELS)
	$(BIN)/pip install -q --dry-run --ignore-installed --target $(GPU_DIR)/resolve \
	  --python-version 3.12 --implementation cp --platform manylinux2014_x86_64 \
	  --only-binary=:all: --no-index --find-links $(GPU_DIR)/wheels pydantic pytest
	du -sh $(GPU_DIR)/wheels $(GPU_DIR)/data.tar.gz

$(GPU_DIR)/data.tar.gz:
	@test -n "$(ANTLM_DATA_DIR)" || { echo "Set ANTLM_DATA_DIR to the data folder"; exit 2; }
	mkdir -p $(GPU_DIR)
	tar -C $(ANTLM_DATA_DIR) -czf $@.tmp $(GPU_DATA) && mv $@.tmp $@

gpu-check:
	GPU_PYTHON=$(GPU_PYTHON) GPU_IMPORTS="$(GPU_IMPORTS)" bash benchmarks/gpu_check.sh \
	  $(GPU_CHECK_OUT) --size $(GPU_CHECK_SIZE) --stages $(GPU_CHECK_STAGES) \
	  $(if $(GPU_CHECK_DEADLINE),--deadline-s $(GPU_CHECK_DEADLINE))

gpu-check-dry: setup $(GPU_DIR)/data.tar.gz
	$(MAKE) gpu-check GPU_CHECK_SIZE=tiny GPU_PYTHON=$(BIN)/python \
	  GPU_CHECK_OUT=runs/gpu-check-dry

# gpu-rehearsal: gpu-check at the tiny size in a copy of the GPU machine built here (Python 3.12,
# torch 2.11, transformers 5.17, that machine's packages, no pip, no C compiler, no network, a
# read-only parent of $$OUT), run from a copy of the tree as the device runner makes it. Not part
# of `make test`: the first run downloads ~3 GB into ~/.cache/antlm-gpu-rehearsal (about 3
# minutes), every run then takes about as long as gpu-check-dry. Needs root (unshare, mount).
gpu-rehearsal: gpu-pack
	bash benchmarks/gpu_rehearsal.sh
