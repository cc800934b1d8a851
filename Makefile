# The two commands of the quick start:
#   make run    set up (virtual environment, install) and run the service on SQLite, in-process fan-out
#   make test   set up (the same, plus test tools and Debian's Chromium) and run every test
# Everything else here is what those two call.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint typecheck browser irc obs setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Serves on http://127.0.0.1:8000 (PORT=8010 make run for another port).
PORT ?= 8000
run: $(STAMP)
	$(BIN)/livecompanion serve --script examples/autumn-hydration.yaml --port $(PORT)

demo: $(STAMP)
	$(BIN)/livecompanion demo

# Debian's Chromium and CJK fonts for the page tests (Playwright's own browser download cannot work
# here). Installs only what is missing; needs root, as on the project's machines.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk' \
			|| ! fc-list 2>/dev/null | grep -qi 'Noto Color Emoji'; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-noto-cjk fonts-noto-color-emoji; \
	fi

# Debian's ngircd, the real IRC server the Twitch bridge's IRC transport is tested against.
irc:
	@if ! command -v ngircd >/dev/null 2>&1 && [ ! -x /usr/sbin/ngircd ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ngircd; \
	fi

# Debian's OBS Studio (29.x: obs-websocket 5 built in) and Xvfb, for the tests that drive a real OBS.
obs:
	@if ! command -v obs >/dev/null || ! command -v Xvfb >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq obs-studio xvfb; \
	fi

# The linter and the type checker run first, and each says which of them failed, so CI fails on
# either before any test runs.
lint: $(STAMP)
	@$(BIN)/ruff check livecompanion tests scripts \
		|| { echo 'make test: FAILED at ruff (lint); fix the findings above (`ruff check --fix` fixes some).'; exit 1; }

typecheck: $(STAMP)
	@$(BIN)/mypy livecompanion \
		|| { echo 'make test: FAILED at mypy (types); fix the errors above.'; exit 1; }

# --durations: the slowest tests are named at the end of every run (CI has 20 minutes for all of it).
# Two pytest-xdist workers, each test file whole on one of them (its module fixtures start once):
# most tests wait on servers, browsers and timers rather than compute, so on the 2-core CI machine
# two workers overlap the waits. Each worker has its own ports and Redis prefix (tests/conftest.py);
# PostgreSQL tests each get a database of their own anyway. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: $(STAMP) browser irc obs lint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache
