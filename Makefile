# The README's two commands: `make demo` (install, then analyse a zoo CNN and write a report)
# and `make test` (install, then run the test suite). Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-out

.PHONY: install demo test test-all bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	mkdir -p $(DEMO_OUT)
	$(BIN)/intensity analyze noscope-coral --batch 1024 --dtype fp16 --device v100
	$(BIN)/intensity analyze noscope-coral --batch 1024 --dtype fp16 --device v100 \
		--format json --out $(DEMO_OUT)/noscope-coral.json
	@echo "report written to $(DEMO_OUT)/noscope-coral.json"

test: install
	$(BIN)/python -m pytest -q

test-all: install
	$(BIN)/python -m pytest -q -m ""

bench: install
	$(BIN)/python benchmarks/analysis_speed.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build src/*.egg-info
