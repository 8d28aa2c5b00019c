# The two set-up commands of the README: `make demo` and `make test`. Each installs what it
# needs first (uv from PyPI, then the locked environment in .venv).
PYTHON ?= python3.11
UV := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint env

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
		|| $(PYTHON) -m pip install --quiet --user --break-system-packages uv
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

env: .venv/.installed

demo: .venv/.installed
	.venv/bin/mfc demo

test: .venv/.installed
	.venv/bin/pytest

lint: .venv/.installed
	.venv/bin/ruff check .
