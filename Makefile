# Two entry points: `make run` opens mnviewer, `make test` runs the checks.
# Each creates .venv and installs what it needs the first time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench package clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,package,quantize,cluster]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mnviewer

# `make test`: the linters (`make lint`: ruff, mypy, import rules), then pytest.
test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mnviewer tests benchmarks packaging
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

package: $(STAMP)
	bash packaging/build.sh

clean:
	rm -rf $(VENV) build dist
