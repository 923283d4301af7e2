# minitf: every target creates what it needs first, so each works on a fresh clone.
#   make demo     environment + offline weights + the command-line tour
#   make test     environment + offline weights + unit, golden-fixture, kernel and notebook tests
#   make parity   the same comparisons live against torch + transformers
#   make bench    GPT-2 small, BERT-base and kernel speed against PyTorch in the same run,
#                 and how full / LSH / local attention scale with the sequence length
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.stamp

.PHONY: setup setup-reference weights demo test parity bench notebooks fixtures clean

setup: $(STAMP)-dev
$(STAMP)-dev: setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e ".[dev,hub]"
	touch $@

setup-reference: $(STAMP)-reference
$(STAMP)-reference: $(STAMP)-dev
	$(PIP) install -e ".[dev,hub,reference]"
	touch $@

weights: setup
	$(PY) weights/fetch.py

demo: setup weights
	$(VENV)/bin/minitf tour

test: setup weights
	$(PY) -m pytest -m "not parity" --nbmake tests notebooks

parity: setup-reference weights
	$(PY) -m pytest -m parity tests

bench: setup-reference
	$(PY) bench/gpt2.py
	$(PY) bench/bert.py
	$(PY) bench/kernels.py
	$(PY) bench/kernels_gpu.py
	$(PY) bench/attention_scaling.py

notebooks: setup weights
	$(PY) -m pytest --nbmake notebooks

# Regenerate the golden fixtures with transformers (order matters: pipelines use the encoders' tiny checkpoints)
fixtures: setup-reference
	$(PY) weights/make_fixtures.py
	$(PY) weights/make_fixtures_encoders.py
	$(PY) weights/make_fixtures_pipelines.py
	$(PY) weights/make_fixtures_reformer.py
	$(PY) weights/make_fixtures_longformer.py

clean:
	rm -rf $(VENV) weights/real weights/downloads bench/results
