# douga — the two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
DEMO_OUT ?= demo_out

.PHONY: demo test lint typecheck pytest install install-dev fluidsynth-deps eval-set eval-beats bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(VENV)/bin/douga demo --out $(DEMO_OUT)

lint: install-dev
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: install-dev
	$(VENV)/bin/mypy

pytest: install-dev
	$(VENV)/bin/pytest -q

test: lint typecheck pytest

# The beat-tracking evaluation set: MIDI written in code, rendered by FluidSynth
# with a General MIDI soundfont from Debian. Ground truth comes from the MIDI.
fluidsynth-deps:
	@command -v fluidsynth >/dev/null && test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fluidsynth fluid-soundfont-gm >/dev/null)

eval-set: install-dev fluidsynth-deps
	$(PY) benchmarks/beat_eval_set.py --out data/beat_eval

eval-beats: eval-set
	$(PY) benchmarks/bench_beats.py data/beat_eval

bench: install-dev
	$(PY) benchmarks/bench_analysis.py

clean:
	rm -rf $(VENV) build dist data demo_out .pytest_cache .mypy_cache .ruff_cache
