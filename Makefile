# Two entry points for a fresh machine: `make demo` (install + link a sample note) and `make test`.
# CPU machines get the pinned CPU torch wheel first; GPU users run `make demo TORCH=` with their own torch.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
NOTE ?= 환자는 liver cirrhosis 및 제2형 당뇨병(T2DM) 병력이 있으며, 최근 간경화가 악화되어 입원함. r/o HCC. 두통 호소 없음.

.PHONY: install demo test lint

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(if $(TORCH),$(BIN)/pip install --quiet "$(TORCH)")
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(BIN)/sapbert link --text "$(NOTE)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q
