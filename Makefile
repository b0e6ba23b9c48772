# sobriety: `make run` starts the demo daemon, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit golden docs fuzz clean venv tools pen-table
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
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var

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

# The compact IANA enterprise-number table, from Wireshark's copy of the registry
# (Debian: apt-get install libwireshark-data). Commit it with the date its header names.
pen-table: $(STAMP)
	$(BIN)/python -m sobriety.gen.pen_table
