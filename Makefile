# Two commands on a fresh machine with Python >= 3.10 and pip:
#   make demo   create .venv, install detlab, run the main job on the embedded default store
#   make test   create .venv with the dev group, run format check, lint, types, import contracts, tests;
#               then tests/integrations in .venv-frameworks (make test-frameworks)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_OUT ?= detlab-demo
# The live integrations are tested against the real frameworks in a venv of their own, so that
# the dev venv stays light (docs/integrations.md): torch + torchvision take about 5.5 GB.
FW_VENV ?= .venv-frameworks
FW_BIN  := $(FW_VENV)/bin
FW_EXTRAS := ultralytics,mmengine,lightning,transformers

.PHONY: demo test test-frameworks check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	# pip >= 25.1 installs PEP 735 dependency groups (--group dev)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"

# the demo's report draws its curves with Matplotlib (the `plots` extra)
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[plots]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $@ $(VENV)/.installed-run

$(FW_BIN)/python:
	$(PYTHON) -m venv $(FW_VENV)
	$(FW_BIN)/python -m pip install --quiet --upgrade "pip>=25.1"

$(FW_VENV)/.installed: pyproject.toml | $(FW_BIN)/python
	$(FW_BIN)/python -m pip install --quiet -e ".[$(FW_EXTRAS)]" --group frameworks
	touch $@

demo: $(VENV)/.installed-run
	$(BIN)/detlab demo --out $(DEMO_OUT)

check: $(VENV)/.installed-dev
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits 5 when it collected nothing: that is a failure here, never a silent pass.
test: check
	$(BIN)/python -m pytest --ignore=tests/integrations; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	exit $$status
	$(MAKE) test-frameworks

# the integrations against real Ultralytics, mmengine, Lightning, transformers (tests/integrations)
test-frameworks: $(FW_VENV)/.installed
	$(FW_BIN)/python -m pytest tests/integrations; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	exit $$status

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/read_coco.py

clean:
	rm -rf $(VENV) $(FW_VENV) $(DEMO_OUT) .detlab .pytest_cache .mypy_cache .ruff_cache
