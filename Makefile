# The two commands a newcomer needs: `make book` and `make test`.
# Both create .venv from requirements.txt on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
# Chapters for `make notebooks`, by name (`make notebooks CHAPTERS="entropy softmax"`); empty: all.
CHAPTERS ?=

.PHONY: book test notebooks labels bench clean

book: $(READY)
	rm -rf _build/html
	$(BIN)/python tools/build_book.py
	@echo "Open _build/html/index.html"

test: $(READY)
	$(BIN)/python -m pytest -n 2 --dist loadfile

notebooks: $(READY)
	$(BIN)/python tools/execute_notebooks.py $(CHAPTERS)

# Add new equation, theorem, section and exercise labels to book/labels.txt.
labels: book
	$(BIN)/python tools/labels.py

# Time and memory beside NumPy, SciPy and PyTorch (minutes; not a test).
# `make bench BENCH="--quick"` tries it on small shapes.
BENCH ?=
bench: $(READY)
	$(BIN)/python tools/bench.py $(BENCH)

clean:
	rm -rf _build .pytest_cache .hypothesis *.egg-info
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

$(READY): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "xentref needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	@echo "Installing the pinned packages of requirements.txt into $(VENV) (first run, or after a change to them; a minute or two)..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet -r requirements.txt
	@$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@
	@echo "$(VENV) is ready."
