# minitf: every target creates what it needs first, so each works on a fresh clone.
#   make demo     environment + offline weights + the command-line tour
#   make test     environment + offline weights + unit, golden-fixture, kernel, doctest, README
#                 and notebook tests
#   make notebooks  rebuild, run and save the notebooks with their outputs, then test them
#   make parity   the same comparisons live against torch + transformers
#   make bench    GPT-2 small, BERT-base, BART-base beam search and kernel speed against PyTorch in the same run,
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

# --doctest-modules minitf: every docstring example runs (the top-level kernels/ package is not
# collected: its examples need a GPU). The notebooks are named one by one so that their build
# scripts (notebooks/make_*.py) are not collected as modules.
test: setup weights
	$(PY) -m pytest -m "not parity" --nbmake --doctest-modules minitf tests notebooks/*.ipynb

parity: setup-reference weights
	$(PY) -m pytest -m parity tests

bench: setup-reference
	$(PY) bench/gpt2.py
	$(PY) bench/bert.py
	$(PY) bench/kernels.py
	$(PY) bench/kernels_gpu.py
	$(PY) bench/attention_scaling.py
	$(PY) bench/seq2seq.py

# Rebuild every notebook from its script, run it and save it with its outputs, then test them.
notebooks: setup weights
	for script in notebooks/make_*.py; do $(PY) $$script || exit 1; done
	$(PY) -m pytest --nbmake notebooks/*.ipynb

# Regenerate the golden fixtures with transformers (order matters: pipelines use the encoders' tiny checkpoints)
fixtures: setup-reference
	$(PY) weights/make_fixtures.py
	$(PY) weights/make_fixtures_encoders.py
	$(PY) weights/make_fixtures_pipelines.py
	$(PY) weights/make_fixtures_reformer.py
	$(PY) weights/make_fixtures_longformer.py
	$(PY) weights/make_fixtures_spm.py
	$(PY) weights/make_fixtures_seq2seq.py

clean:
	rm -rf $(VENV) weights/real weights/downloads bench/results
