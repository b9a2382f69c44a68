# The README's two commands: `make demo` and `make test`. Both install into .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch; on a GPU machine use e.g. `make TORCH=torch demo`.
TORCH ?= torch==2.13.0
DEMO_ARGS ?=

.PHONY: install demo test test-oldest wheels lint docs

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

# The packages a GPU machine without network lacks (benchmarks/box/wheels.txt), as wheels for
# its Python (WHEELS_PYTHON), downloaded here into .whl/ to carry there with the tree
# (benchmarks/gpu_run.sh installs them offline; user guide, "Running on GPU").
WHEELS ?= .whl
WHEELS_PYTHON ?= 3.12
wheels:
	$(PYTHON) -m pip download -q --no-deps --only-binary=:all: --python-version $(WHEELS_PYTHON) \
		--implementation py --platform any -d $(WHEELS) -r benchmarks/box/wheels.txt

# The oldest supported set: benchmarks/gpu_run.sh --cpu-dry-run builds it in .venv-box (the GPU
# box's torch 2.11 and numpy on Python 3.12, the oldest supported versions of the rest) and
# runs a GPU visit's every step on the CPU; then the whole test suite runs there.
test-oldest:
	bash benchmarks/gpu_run.sh --cpu-dry-run
	PYTHONPATH=$(CURDIR)/.venv-box/site .venv-box/bin/python -m pytest -q -p no:cacheprovider

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
