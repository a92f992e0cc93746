# The whole set-up on a fresh machine: `make demo` and `make test`.
# `make test` installs what users install plus the test tools (.[test]); the benchmarks' own
# libraries (.[bench]) come only with `make bench`, so a missing run-time dependency shows in tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test bench bench-quick windows-bundle fixtures clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

demo: $(STAMP)
	$(BIN)/xfsheets demo demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py

bench-quick: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --quick

# dist/xfsheets-离线安装包-VERSION.zip: our wheel and every dependency wheel for Windows x64,
# Python 3.11-3.13, with 安装.bat / 卸载.bat / 使用说明.txt; then checks that it resolves offline.
windows-bundle: $(STAMP)
	$(BIN)/python packaging/windows/build_bundle.py build --out dist

fixtures: $(STAMP)
	for f in tests/data/make_*.py; do $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) demo-output build dist *.egg-info
