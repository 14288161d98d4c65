# Consent Desk. `make run` serves the demo; `make test` runs the suite; `make bench` measures.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app

.PHONY: run serve loadtest test fuzz bench lint format migrate db lock clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $(STAMP)

lock:  ## after changing requirements*.txt: install them unconstrained, then re-pin the whole tree into constraints.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	{ head -n 2 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | LC_ALL=C sort -f; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

db: $(STAMP)  ## migrate the database and seed the demo data (once)
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo

run: db  ## set up and serve on http://127.0.0.1:5000 with the scheduler alongside
	$(BIN)/python -m support.serve

serve: $(STAMP)  ## as in production: migrate, gunicorn on 127.0.0.1:$${PORT:-8000} and the scheduler, JSON logs
	$(BIN)/python -m support.serve --production

# locust lives in its own environment: it brings gevent, which the app and its tests must not see.
LOAD_VENV := .venv-load
$(LOAD_VENV)/.installed: requirements-load.txt
	@test -x $(LOAD_VENV)/bin/python || $(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/python -m pip install --quiet -r requirements-load.txt
	@touch $@

loadtest: $(STAMP) $(LOAD_VENV)/.installed  ## locust, 60 s, against make serve on PostgreSQL (LOADTEST_DATABASE_URL); not part of make test
	LOCUST=$(LOAD_VENV)/bin/locust $(BIN)/python -m loadtest $(args)

# A pytest-xdist worker per core (each with its own PostgreSQL database); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
test: $(STAMP)  ## the whole suite (also on PostgreSQL when TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

fuzz: $(STAMP)  ## the rule-book property test with the long Hypothesis profile (also PostgreSQL with TEST_DATABASE_URL)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -s tests/requests_queue/test_rulebook_stateful.py

bench: $(STAMP)  ## the benchmark; BENCH_DATABASE_URL adds PostgreSQL
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP)  ## write a new migration from the models: make migrate m="what changed"
	$(BIN)/flask db migrate -m "$(m)"

clean:
	rm -rf $(VENV) instance .pytest_cache
