# kaniko (Python): the two set-up commands are `make demo` and `make test`.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: all install sysdeps test lint format demo demo-pod bench clean

all: install

install: $(STAMP)

$(STAMP): pyproject.toml scripts/bootstrap-python.sh
	@py=$$(scripts/bootstrap-python.sh) && $$py -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	@touch $@

sysdeps:
	@scripts/install-system-deps.sh

test: $(STAMP) sysdeps
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

demo: $(STAMP) sysdeps
	$(BIN)/python scripts/demo.py

demo-pod: $(STAMP) sysdeps
	$(BIN)/python scripts/demo.py --pod

bench: $(STAMP)
	$(BIN)/python bench/fs.py
	$(BIN)/python bench/cache_rebuild.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis .demo
