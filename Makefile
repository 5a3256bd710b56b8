# The few targets people expect. `make up` and `make test` do all the set-up themselves.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup up test test-fast lint fmt typecheck fuzz bench contracts services-start services-stop clean

setup: $(STAMP)  ## Create the virtualenv with leadflow and its development tools.

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)  ## Run leadflow on the embedded default (SQLite + SQL event log) at http://127.0.0.1:8000.
	$(VENV)/bin/leadflow up

test: $(STAMP)  ## The whole test suite on real PostgreSQL and Kafka (provisioned when not configured).
	scripts/test

test-fast: $(STAMP)  ## Tests that need no servers (SQLite, pure domain, contracts).
	$(VENV)/bin/pytest -q -m "not postgres and not kafka"

lint: $(STAMP)  ## ruff, mypy and the import-linter contracts (the layering).
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

fmt: $(STAMP)  ## Format and fix what ruff can.
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP)
	$(VENV)/bin/mypy .

fuzz: $(STAMP)  ## The fuzz tests at length: many more rounds of hostile records than CI runs.
	LEADFLOW_FUZZ_ROUNDS=200 scripts/test tests/eventlog/test_fuzz_records.py

bench: $(STAMP)  ## Benchmarks on the real broker and PostgreSQL; they print their figures.
	scripts/with-services sh -c '$(PY) bench/eventlog.py && $(PY) bench/scoring.py && $(PY) bench/timers.py && \
	  $(PY) bench/nurture.py && $(PY) bench/handoff.py && \
	  $(PY) bench/handoff_api.py --handoffs 5000 --reps 20 --teams 4 --rate 50 --open-count 500 --seconds 5'
	$(PY) -m bench.ingest_concurrency

.PHONY: fuzz-http
fuzz-http: $(STAMP)  ## schemathesis over leadflow up's OpenAPI document, every role, ten times the test suite's examples.
	LEADFLOW_FUZZ_EXAMPLES=250 $(VENV)/bin/pytest -v -s -p no:cacheprovider tests/test_http_fuzz.py

contracts: $(STAMP)  ## Regenerate contracts/ from the models in code.
	$(VENV)/bin/leadflow contracts export

services-start:  ## Start the test PostgreSQL and Kafka (prints the variables to export).
	scripts/test-services start

services-stop:
	scripts/test-services stop

clean:
	rm -rf .run build *.egg-info .pytest_cache .mypy_cache .ruff_cache
