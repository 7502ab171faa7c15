# The two commands of the README:
#   make demo    set up .venv and run the main job (the MLP through every level, on CPU; then a
#                GPT-2-style block from PyTorch, compared with PyTorch)
#   make check   set up .venv and run every test (lit + pytest); .ci/run calls it
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo check check-lit check-python lint bench setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: setup
	$(BIN)/strata demo
	$(BIN)/strata run examples/gpt2_block.py

check: lint check-lit check-python

lint: setup
	$(BIN)/ruff check python test/python bench
	$(BIN)/ruff format --check python test/python bench
	$(BIN)/mypy

check-lit: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/lit -sv test

check-python: setup
	$(BIN)/pytest -q

# Benchmarks (not part of check): Strata vs numpy, PyTorch eager, ONNX Runtime.
bench: setup
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build python/*.egg-info
