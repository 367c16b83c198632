# Two commands matter: `make verify` (the CPU verification of the lesson's claims) and `make test` (the fast suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test verify bench lint report clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(PY) -m ruff check .

# Unit tests, every claim at smoke scale (no verdicts asserted) and the benchmarks' code paths, two workers.
test: lint
	$(PY) -m pytest -n 2 -q --benchmark-disable

# The claims at cpu scale: verdicts with intervals; the table lands in results/cpu/ and the README's Results
# section is regenerated even when a claim is not confirmed (that is a finding); the exit status stays pytest's.
verify: install
	$(PY) -m pytest -m cpu; status=$$?; $(PY) -m harness report --results-dir results; exit $$status

bench: install
	$(PY) -m pytest benchmarks -m "not gpu" --benchmark-only

report: install
	$(PY) -m harness report --results-dir results

clean:
	rm -rf $(VENV) results .pytest_cache
