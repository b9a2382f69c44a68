# The README's two commands: `make demo` and `make test`. Both install into .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch; on a GPU machine use e.g. `make TORCH=torch demo`.
TORCH ?= torch==2.13.0
DEMO_ARGS ?=

.PHONY: install demo test lint docs

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[test]"
	touch $@

demo: install
	$(VENV)/bin/disentangle demo $(DEMO_ARGS)

test: install
	$(PY) -m pytest -q

lint: install
	$(PY) -m pip install -q ruff
	$(VENV)/bin/ruff check .

# The documentation: the docs extra into .venv, then Sphinx with warnings as errors
# (the gallery's examples run during the build, a few minutes on a CPU).
docs: $(VENV)/.docs-installed
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e ".[docs]"
	touch $@
