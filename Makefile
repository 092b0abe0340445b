# KPI Forge — the two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
DEMO   := .demo-data
# every dependency pinned (`make lock` refreshes it): a new release cannot change a fresh install
PIN    := -c constraints.txt

.PHONY: run serve test lint docs install clean lock

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(PIN) --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIN) -e '.[dev]'
	@# PySpark (the Spark tests) needs a Java runtime: install one with apt as root, else say how
	@if ! command -v java >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing a Java runtime for PySpark (default-jre-headless)"; \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null; \
		else \
			echo "make: the Spark tests need Java 17+; install it (Debian/Ubuntu: sudo apt-get install default-jre-headless) and run make again" >&2; \
			exit 1; \
		fi; \
	fi
	@# the browser tests (tests/web) and `make screenshots` drive Debian's Chromium headless
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Chromium for the browser tests"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
				echo "make: could not install Chromium; the browser tests are skipped" >&2; \
		else \
			echo "make: the browser tests need Chromium (Debian/Ubuntu: sudo apt-get install chromium); skipped without it" >&2; \
		fi; \
	fi
	@# Chinese pages (browser tests, `make screenshots`) need a CJK font, else Chromium draws boxes
	@if ! fc-list :lang=zh family 2>/dev/null | grep -q .; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing CJK fonts for the Chinese pages (fonts-noto-cjk)"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null; } || \
				echo "make: could not install fonts-noto-cjk; the Chinese font test fails without it" >&2; \
		else \
			echo "make: Chinese pages need a CJK font (Debian/Ubuntu: sudo apt-get install fonts-noto-cjk); not root, so not installed" >&2; \
		fi; \
	fi
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its test tools

run: $(STAMP) ## validate the packs, explain closing_amount, compute a demo ledger's KPIs, demo the API
	$(BIN)/kpi validate
	$(BIN)/kpi lineage bakery-stored-value closing_amount
	$(BIN)/kpi checks bakery-stored-value
	@# a bakery chain's card ledger (5 shops, 24 months, ~90,000 events), its inputs computed with
	@# DuckDB from the raw events, the KPIs by quarter for the whole chain
	$(BIN)/kpi demo-data bakery --out $(DEMO)
	$(BIN)/kpi run bakery-stored-value --source card_events=$(DEMO)/card_events.parquet \
		--grain quarter --by '' --format table --locale en \
		--metrics closing_amount,balance_gap,avg_members,churn_rate,active_rate,active_member_ratio,gift_share,sedimentation_rate,fund_turnover,high_value_member_share,silent_member_share
	$(BIN)/kpi serve --demo --data-dir "$$(mktemp -d)"

serve: $(STAMP) ## start the HTTP API on http://127.0.0.1:8000 (Ctrl-C stops it)
	$(BIN)/kpi serve --data-dir kpi-data

test: $(STAMP) ## run the test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff check, ruff format --check (engine, api, tests, bench) and mypy --strict
	$(BIN)/ruff check engine api tests bench
	$(BIN)/ruff format --check engine api tests bench
	$(BIN)/mypy

docs: $(STAMP) ## regenerate docs/errors.md, docs/cli.md and api/cli_help.py (the text of kpi --help)
	$(BIN)/python -m api.docgen

.PHONY: screenshots
screenshots: $(STAMP) ## write docs/screenshots/*.png: each web page at desktop and phone width
	$(BIN)/python -m tests.web.screenshots docs/screenshots

# the benchmarks (bench/README.md): one at a time, on an otherwise idle machine; about 15 minutes
# in all (the first run also generates the 10 M-event ledger). `make bench BENCH_FLAGS=--quick`
# for a smoke run of each.
BENCH_STAMP := $(VENV)/.installed-bench
BENCH_FLAGS ?=

$(BENCH_STAMP): pyproject.toml constraints.txt $(STAMP)
	$(BIN)/python -m pip install --quiet $(PIN) -e '.[dev,bench]'
	touch $(BENCH_STAMP)

.PHONY: bench
bench: $(BENCH_STAMP) ## run the benchmarks: evaluation, compilation, HTTP API, measures over a raw ledger, server listings and memory, CLI start-up
	$(BIN)/python bench/eval_bench.py $(BENCH_FLAGS)
	$(BIN)/python bench/compile_bench.py $(BENCH_FLAGS)
	$(BIN)/python bench/api_bench.py $(BENCH_FLAGS)
	$(BIN)/python bench/measures_bench.py $(BENCH_FLAGS)
	$(BIN)/python bench/server_bench.py $(BENCH_FLAGS)
	$(BIN)/python bench/startup_bench.py $(BENCH_FLAGS)

# constraints.txt: the newest versions that pyproject.toml's bounds allow today, resolved in a
# fresh virtual environment; review the diff, run `make test`, commit both
lock: ## refresh constraints.txt (pins every dependency of `make test` and `make bench`)
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[dev,bench]'
	{ echo "# generated by \`make lock\` on $$(date -u +%Y-%m-%d) with $$(.lock-venv/bin/python -V): do not edit by hand"; \
	  .lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -viE '^(kpi-forge|setuptools|wheel)=='; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .lock-venv $(DEMO) .pytest_cache .mypy_cache .ruff_cache .hypothesis
