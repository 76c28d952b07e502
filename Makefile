# The README's commands. `make demo` and `make test` set everything up themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.antlm-installed
# The data directory: ANTLM_DATA_DIR if set, else ../shared/data when it exists.
ANTLM_DATA_DIR ?= $(shell [ -d ../shared/data ] && cd ../shared/data && pwd)
export ANTLM_DATA_DIR
# Zero-shot pairs scored per subtask in the demo (all backends on every pair would take longer
# than the training; `antlm eval runs/demo --backend all` scores everything). The demo ends
# with the headline: the macro-average under the run's declared backend, naming the suite.
DEMO_EVAL_PAIRS ?= 50

.PHONY: setup demo test bench lint clean

setup: $(STAMP)

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
	rm -rf runs/demo
	$(BIN)/antlm train configs/runs/demo.yaml --out runs/demo
	$(BIN)/antlm eval runs/demo --tasks blimp_filtered,blimp_supplement,ewok --backend auto \
	  --suite babylm2025 --max-pairs $(DEMO_EVAL_PAIRS)

test: setup
	$(BIN)/python -m pytest -q

# tcmalloc when installed (Debian: apt-get install libtcmalloc-minimal4): +15-30% fp32 and up
# to 2x bf16 on CPU, see docs/PERFORMANCE.md. Without it LD_PRELOAD stays empty (glibc malloc).
TCMALLOC := $(firstword $(wildcard /usr/lib/*/libtcmalloc_minimal.so.4 /usr/lib/libtcmalloc_minimal.so.4))

bench: setup
	LD_PRELOAD=$(TCMALLOC) $(BIN)/python benchmarks/train_speed.py

lint: setup
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf runs .antlm_cache
