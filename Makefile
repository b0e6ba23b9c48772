# sobriety: `make run` starts the demo daemon, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit golden docs fuzz clean venv tools pen-table mutate mutate-named mutate-changed
PORT ?= 9471
TIMEOUT ?= 2s
INTERVAL ?= 30s

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,demo]'
	touch $(STAMP)

venv: $(STAMP)

# `make run PORT=9480 TIMEOUT=5s`: another port, a longer SNMP timeout on a loaded machine.
run: $(STAMP)
	$(BIN)/sobriety demo --listen 127.0.0.1:$(PORT) --timeout $(TIMEOUT) --interval $(INTERVAL)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy sobriety

# The Debian tools of the integration tests: installed when run as root (as .ci/run does),
# else the one command that installs them is printed (their tests skip; the summary says so).
tools:
	@bash .ci/tools.sh check

test: lint typecheck tools
	$(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# Rewrite tests/cases/*/expected.json from the recordings (review the diff before committing).
golden: $(STAMP)
	$(BIN)/python -m tests.cases.regenerate

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var mutants mutants.log

# Feed 100,000 hostile datagrams to the lean decoder and client; fails on any crash.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run 100000

# Regenerate what is generated: README metric table, docs/profiles.md, the corpus coverage
# report (docs/device-coverage.md), Prometheus rules, Grafana dashboards (tests fail when a
# committed copy differs).
docs: $(STAMP)
	$(BIN)/python -m sobriety.gen.metric_docs README.md
	$(BIN)/python -m sobriety.gen.profile_docs docs/profiles.md
	$(BIN)/python -m sobriety.gen.energy_proof docs/energy.md
	$(BIN)/python -m sobriety.gen.device_coverage docs/device-coverage.md
	$(BIN)/python -m sobriety.alerts.promrules rules/sobriety-alerts.yml
	$(BIN)/python dashboards/generate.py

# Mutation testing of the core (docs/testing.md): mutmut 3 over [tool.mutmut] only_mutate,
# each mutant against the fast tests that reach it; mypy --strict filters mutants first.
# `make mutate` starts afresh and prints the score per module (MUTATE_MIN: the floor, %).
MUTATE_MIN ?= 90
MUTATE_ENV := SOBRIETY_MUTATE=1 PATH=$(CURDIR)/$(BIN):$$PATH
mutate: mutate-named
	$(BIN)/python -m tests.mutation check
	rm -rf mutants
	$(MUTATE_ENV) $(BIN)/mutmut run --max-children $$(nproc)
	$(BIN)/python -m tests.mutation score --min $(MUTATE_MIN)

# Issue 21's mutations applied one at a time to a copy of the tree: the test named for each
# must fail (about a minute; independent of which mutations mutmut happens to generate).
mutate-named: $(STAMP)
	$(BIN)/python -m tests.mutation named

# Only the core modules changed since BASE (`git diff BASE...HEAD`), stopped as by Ctrl-C
# after MUTATE_BUDGET seconds: mutants left are "not checked" (fastest first were run). For CI.
BASE ?= origin/main
MUTATE_BUDGET ?= 480
mutate-changed: $(STAMP)
	@$(BIN)/python -m tests.mutation check
	@files="$$($(BIN)/python -m tests.mutation changed $(BASE))" || exit 1; \
	if [ -z "$$files" ]; then echo "no core module changed since $(BASE)"; exit 0; fi; \
	echo "mutating:" $$files; rm -rf mutants; \
	$(MUTATE_ENV) timeout -s INT $(MUTATE_BUDGET) $(BIN)/python -m tests.mutation run $$files \
		> mutants.log 2>&1 || echo "mutmut stopped (budget of $(MUTATE_BUDGET) s, or a failure: mutants.log)"; \
	$(BIN)/python -m tests.mutation score --min $(MUTATE_MIN)

# The compact IANA enterprise-number table, from Wireshark's copy of the registry
# (Debian: apt-get install libwireshark-data). Commit it with the date its header names.
pen-table: $(STAMP)
	$(BIN)/python -m sobriety.gen.pen_table
