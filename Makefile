# The two set-up commands of the README: `make demo` and `make test`. Each installs what it
# needs first (uv from PyPI, then the locked environment in .venv).
PYTHON ?= python3.11
UV := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint env

# The report tests (tests/test_reports.py) open the pages in Debian's headless Chromium.
CHROMEDRIVER := /usr/bin/chromedriver
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
		|| $(PYTHON) -m pip install --quiet --user --break-system-packages uv
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

env: .venv/.installed

demo: .venv/.installed
	.venv/bin/mfc demo

$(CHROMEDRIVER):
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null

test: .venv/.installed $(CHROMEDRIVER)
	.venv/bin/pytest

lint: .venv/.installed
	.venv/bin/ruff check .
