# Two commands on a fresh machine with Python >= 3.10 and pip:
#   make demo   create .venv, install detlab, run the main job on the embedded default store
#   make test   create .venv with the dev group, run format check, lint, types, import contracts, tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_OUT ?= detlab-demo

.PHONY: demo test check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	# pip >= 25.1 installs PEP 735 dependency groups (--group dev)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $@ $(VENV)/.installed-run

demo: $(VENV)/.installed-run
	$(BIN)/detlab demo --out $(DEMO_OUT)

check: $(VENV)/.installed-dev
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits 5 when it collected nothing: that is a failure here, never a silent pass.
test: check
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	exit $$status

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/read_coco.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .detlab .pytest_cache .mypy_cache .ruff_cache
