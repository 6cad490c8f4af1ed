# The README's two commands: `make demo` (install, then analyse a zoo CNN and write a report)
# and `make test` (install, then run the test suite). Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-out

# Every benchmarks/*.py script (helpers start with _) takes --quick: bench-quick runs them all that way
# (CI runs it after the tests, so a broken benchmark fails CI); bench runs the full versions, which
# write benchmarks/results/.
BENCH_SCRIPTS := $(filter-out benchmarks/_%,$(sort $(wildcard benchmarks/*.py)))

.PHONY: install demo test test-all bench bench-quick gpu-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/intensity analyze noscope-coral --batch 1024 --dtype fp16 --device v100
	$(BIN)/intensity report noscope-coral --batch 1024 --dtype fp16 --device v100 \
		--measure --measure-batch 256 --out $(DEMO_OUT)
	@echo "open $(DEMO_OUT)/report.html"

test: install
	$(BIN)/python -m pytest -q -n 2

test-all: install
	$(BIN)/python -m pytest -q -m ""

bench: install
	@set -e; for script in $(BENCH_SCRIPTS); do echo "== $$script"; $(BIN)/python $$script; done

bench-quick: install
	@set -e; for script in $(BENCH_SCRIPTS); do echo "== $$script --quick"; $(BIN)/python $$script --quick; done

# Every GPU path in one run of under 8 minutes (benchmarks/gpu_check.py): throughput, calibration, Triton
# block fusion, folding, NVML energy, training; each part writes benchmarks/results/<part>_gpu.txt or
# says why it was skipped (no CUDA, no NVML, no Triton). The gpu extra brings NVML's bindings.
gpu-check: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[gpu]"
	$(BIN)/python benchmarks/gpu_check.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build src/*.egg-info
