# Two commands matter on a fresh machine: `make demo` and `make test`.
# Each creates .venv by itself; nothing is installed outside it.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test test-spark wheel-check lint typecheck bench chromium postgresql java clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The sample data has defects on purpose: exit 1 (an error rule failed) is the expected outcome.
demo: $(STAMP)
	$(BIN)/crmclean run sample_data/customers.csv --rules rules/demo.yaml --out out/ \
	  || [ $$? -eq 1 ]

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The HTML report's browser test needs Debian's chromium: `make test` installs it (as root) if absent.
test: lint typecheck chromium postgresql
	$(BIN)/pytest -n 2 -q

# `pip install .` outside the Makefile: build the wheel, install it into fresh virtualenvs (no dev
# extras; newest dependencies, then every one at its stated lower bound) and run crmclean there;
# then the same with the `databases` extra, reading a SQLite and a DuckDB file.
wheel-check: $(STAMP)
	$(BIN)/pytest -q -m wheel tests/test_wheel_install.py tests/test_wheel_databases.py

# The Spark engine's tests (marker `spark`: its case tables, blocking, clustering, sample_data end
# to end, the driver-collection guard) in one local[2] session per worker: minutes, not seconds,
# so they run here rather than in `make test`. Java is installed (as root) if absent.
test-spark: $(STAMP) java
	$(BIN)/pytest -n 2 -q -m "spark and not slow"

# Heavier tests: large data and the HTML report in headless Chromium.
test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || { echo "make: could not install chromium (needs root and apt); set CRMCLEAN_SKIP_BROWSER=1 to skip the browser test" >&2; exit 1; }

# The database tests start throw-away PostgreSQL clusters (tests/pg_server.py) with Debian's
# server binaries: `make test` installs them (as root) if absent.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null \
	  || (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) \
	  || { [ -z "$$CI" ] && echo "make: could not install postgresql (needs root and apt): the database tests will skip" >&2; } \
	  || { echo "make: could not install postgresql (needs root and apt); CI needs it" >&2; exit 1; }

# The Spark engine needs a Java runtime: Debian's openjdk-17-jre-headless if `java` is absent.
# Outside CI a machine that cannot install it skips the Spark tests; in CI (CI set) they fail.
java:
	@command -v java >/dev/null \
	  || (mkdir -p /usr/share/man/man1 && apt-get update -qq \
	      && apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
	  || { [ -z "$$CI" ] && echo "make: could not install Java (needs root and apt): the Spark tests will skip" >&2; } \
	  || { echo "make: could not install openjdk-17-jre-headless (needs root and apt); CI needs it" >&2; exit 1; }

# Peers (Splink, GoldenMatch) are installed only in their own .bench-venv, never in .venv.
# One run: crmclean's commands and the peers on the own data, crmclean's accuracy on every
# yardstick (bench_accuracy.py), then the peers on the same yardstick data
# (bench_peers_yardsticks.py). `make bench BENCH_ARGS=--quick` runs 10k only; see
# benchmarks/README.md.
BENCH_VENV  := .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed-peers

$(BENCH_STAMP): benchmarks/peers/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV) || python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -r benchmarks/peers/requirements.txt
	touch $(BENCH_STAMP)

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
