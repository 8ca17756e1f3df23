# Two commands do all the set-up on a fresh clone:  `make up`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EMU    := tools/firestore-emulator
EMU_STAMP := $(EMU)/node_modules/.installed-stamp
# The approver UI's chart library (uPlot), served by the API from node_modules/uplot/dist.
UI     := tools/ui-assets
UI_STAMP := $(UI)/node_modules/.installed-stamp
# The project's own modules byte-compiled, as `pip install .` (the image) leaves them: with
# PYTHONDONTWRITEBYTECODE set (as on the dev VM) an editable install otherwise recompiles ~60
# modules in every process, ~80 ms of each CLI command. Stale files are recompiled on the next make.
PY_DIRS := $(shell sed -n 's/^include = \[\(.*\)\]/\1/p' pyproject.toml | tr -d '",*') bench
SOURCES := $(wildcard *.py) $(shell find $(PY_DIRS) -name '*.py')
PYC_STAMP := $(VENV)/.bytecode-stamp

.PHONY: up test lint bench clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The Compose Specification's JSON schema, as shipped in docker-compose's last Python wheel,
	# for validating docker-compose.yml in the tests (no Docker engine here).
	$(BIN)/pip download --quiet --no-deps docker-compose==1.29.2 -d $(VENV)/share/compose
	$(BIN)/python -c "import zipfile,glob; z=zipfile.ZipFile(glob.glob('$(VENV)/share/compose/*.whl')[0]); open('$(VENV)/share/compose/compose_spec.json','wb').write(z.read('compose/config/compose_spec.json'))"
	touch $(STAMP)

$(PYC_STAMP): $(STAMP) $(SOURCES)
	$(BIN)/python -m compileall -q -j 0 $(wildcard *.py) $(PY_DIRS)
	touch $(PYC_STAMP)

$(EMU_STAMP): $(EMU)/package.json $(EMU)/package-lock.json
	cd $(EMU) && npm ci --no-audit --no-fund --loglevel=error
	touch $(EMU_STAMP)

$(UI_STAMP): $(UI)/package.json $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund --loglevel=error
	touch $(UI_STAMP)

chromium:
	./tools/install-chromium.sh

## Run the embedded stack (Temporal dev server + worker + API/UI + SQLite store) with a demo tenant.
## Ports and data directory: make up PORT=8000 TEMPORAL_PORT=7233 UI_PORT=8233 DATA=/path
up: $(STAMP) $(PYC_STAMP) $(UI_STAMP)
	$(BIN)/stratgate up --demo$(if $(PORT), --api-port $(PORT))$(if $(TEMPORAL_PORT), --temporal-port $(TEMPORAL_PORT))$(if $(UI_PORT), --ui-port $(UI_PORT))$(if $(DATA), --data-dir $(DATA))

## Lint, type-check and run the whole test suite on real components.
test: $(STAMP) $(PYC_STAMP) $(EMU_STAMP) $(UI_STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## Every benchmark, each printing its ratio against a baseline measured in the same run.
bench: $(STAMP) $(PYC_STAMP) $(EMU_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(EMU)/node_modules $(UI)/node_modules .pytest_cache .mypy_cache .ruff_cache
