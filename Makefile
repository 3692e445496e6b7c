# innosim: `make demo` runs a small simulation, `make test` runs the test suite.
# Both create the virtual environment on first use and reinstall only when pyproject.toml changes.

VENV ?= .venv
PY ?= python3.11
OUT ?= results

# PY if it exists, else python3 (checked to be >= 3.11 before the venv is made)
PYTHON := $(shell command -v $(PY) 2>/dev/null || command -v python3 2>/dev/null)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: all setup system-deps demo test bench bench-quick lint clean distclean

all: test

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: neither $(PY) nor python3 found; install Python 3.11+ or set PY=/path/to/python" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: $(PYTHON) is older than Python 3.11; set PY=/path/to/python3.11" >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

# reinstall only when pyproject.toml is newer than the stamp
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing innosim and its dev tools into $(VENV)"
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]' >$(VENV)/pip.log 2>&1 \
		|| { cat $(VENV)/pip.log >&2; echo "error: pip install failed (log: $(VENV)/pip.log)" >&2; exit 1; }
	@echo "Compiling innosim's kernels (once per install, about half a minute)"
	@$(BIN)/python -c 'import innosim.model; innosim.model.warm_up()' \
		|| { echo "error: compiling the kernels failed (NUMBA_DISABLE_JIT=1 runs them uncompiled, slowly)" >&2; exit 1; }
	@touch $@

setup: $(STAMP)

# Debian's chromium (the dashboard's browser tests drive it with Playwright; `playwright install`
# cannot download here) and a CJK font (Chinese text inside report figures). Installed with apt
# when missing; without root or apt the browser tests are skipped with a message saying why.
CHROMIUM ?= /usr/bin/chromium
system-deps:
	@if [ ! -x $(CHROMIUM) ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			echo "Installing chromium and a CJK font with apt-get (browser tests, Chinese figures)"; \
			{ apt-get install -y -q chromium fonts-wqy-zenhei >/tmp/innosim-apt.log 2>&1 \
			  || { apt-get update -q >>/tmp/innosim-apt.log 2>&1 \
			       && apt-get install -y -q chromium fonts-wqy-zenhei >>/tmp/innosim-apt.log 2>&1; }; } \
			|| echo "warning: apt-get install chromium fonts-wqy-zenhei failed (log: /tmp/innosim-apt.log)" >&2; \
		else \
			echo "note: $(CHROMIUM) or a CJK font is missing and apt-get is not usable here;" \
			     "browser tests will be skipped (install Debian's chromium and fonts-wqy-zenhei)" >&2; \
		fi; \
	fi

demo: setup
	@$(BIN)/innosim run demo --seed 1 --out $(OUT)
	@echo
	@echo "The run's tables (Parquet), meta.json and timeseries.png are in the run directory above,"
	@echo "under $(OUT)/runs/. Reprint it with '$(BIN)/innosim show latest --out $(OUT)'."
	@echo "One run is one draw: for Hangzhou vs Nanjing in 2024 with 90% intervals over 10 runs, try"
	@echo "  $(BIN)/innosim ensemble hangzhou-nanjing --replicates 10 --year 2024 --ratio Hangzhou/Nanjing"

test: setup system-deps
	@$(BIN)/python -m pytest -q -n 2

bench: setup
	@$(BIN)/python benchmarks/bench_speed.py
	@$(BIN)/python benchmarks/bench_engine.py
	@$(BIN)/python benchmarks/bench_index.py

bench-quick: setup
	@$(BIN)/python benchmarks/bench_speed.py --quick

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports pyproject.toml

clean:
	rm -rf $(OUT) bench-results build dist .pytest_cache .ruff_cache .hypothesis src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
