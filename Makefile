# KPI Forge — the two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: run serve test lint docs install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its test tools

run: $(STAMP) ## validate the shipped packs, explain closing_amount, evaluate the sample, demo the API
	$(BIN)/kpi validate
	$(BIN)/kpi lineage bakery-stored-value closing_amount
	$(BIN)/kpi checks bakery-stored-value
	$(BIN)/kpi eval bakery-stored-value --inputs metrics/bakery-stored-value/examples/sample.csv \
		--grain quarter --by '' --format table --locale en
	$(BIN)/kpi serve --demo --data-dir "$$(mktemp -d)"

serve: $(STAMP) ## start the HTTP API on http://127.0.0.1:8000 (Ctrl-C stops it)
	$(BIN)/kpi serve --data-dir kpi-data

test: $(STAMP) ## run the test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff and mypy --strict on engine/ and api/
	$(BIN)/ruff check engine api tests
	$(BIN)/mypy

docs: $(STAMP) ## regenerate docs/errors.md and docs/cli.md
	$(BIN)/python -m api.docgen

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
