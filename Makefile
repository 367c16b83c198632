# Two commands set it up: `make install` (the pinned environment) and `make verify` (the CPU verification of the
# lesson's claims); `make test` is the fast suite. Runs write under results/ only, never a tracked file: `make readme`
# is the one command that rewrites the README's table and docs/results.md (from the rows it copies into docs/rows/).
# Both install the exact versions in constraints.txt; pyproject.toml declares the compatible ranges pip users get.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONSTRAINTS := constraints.txt
WORKERS ?= 2
RESULTS ?= results

.PHONY: install test test-backends test-install verify explore replicate teaching bench gpu-run gpu-wheels lint report \
	readme clean

# pip installs the pinned uv, uv the rest: the same versions as `pip install -c constraints.txt -e '.[dev]'`, in a
# fraction of the time (it downloads, unpacks and compiles in parallel; docs/measured-facts.md, "Installing").
# Compiled bytecode as pip leaves it: where PYTHONDONTWRITEBYTECODE is set, nothing else ever writes it, and every
# process would compile TensorFlow's Python again at each import.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c $(CONSTRAINTS) pip uv
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -c $(CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# One style (ruff format), the wider rule set, and mypy on the pure core (stats, results, claims/base, scales, records).
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# Unit tests, every claim at smoke scale (no verdicts asserted), the benchmarks' code paths, the Colab notebook
# (examples/colab/student_colab.ipynb, executed offline against this checkout) and `pytest --homework` on two of
# the examples at smoke scale (the gradebook; `-m cpu` grades the whole folder), two workers. A worker is sent a
# whole test module at a time, in collection order (the modules of the longest tests first: tests/conftest.py): its
# module fixtures and its traced training steps then serve all of its tests, the smoke claims share one lab, and no
# long test is left for the end. (xdist's default sent each
# worker a quarter of the tests at once: every long test landed in the first worker's batch.)
test: lint
	$(PY) -m pytest -n 2 --dist loadscope --no-loadscope-reorder -q --benchmark-disable

# The same recipe on another Keras backend: a second environment, .venv-jax, with the jax extra (JAX's CPU wheel, the
# pinned versions; TensorFlow stays installed there, as a dependency), and the claims at smoke scale, the recipe, lab,
# data and augmentation tests under KERAS_BACKEND=jax, two workers. The TensorFlow-only tests skip there with their
# reason, and tests/test_backend.py runs claims with TensorFlow and PyTorch unimportable. 39 s to install (uv's cache
# warm) and 15 min of tests on this project's 2 CPUs (JAX compiles each Lite0 train step once; docs/backends.md).
# PyTorch: docs/backends.md says how to run the same tests where it is installed.
JAX_VENV := .venv-jax
JAX_PY := $(JAX_VENV)/bin/python
JAX_STAMP := $(JAX_VENV)/.installed
BACKEND_TESTS := tests/claims/test_claims.py tests/test_backend.py tests/test_lab.py tests/test_training.py \
	tests/test_augment.py tests/test_augment_mixing.py tests/test_augment_tta.py tests/test_differential_lr.py \
	tests/data/test_sources.py tests/data/test_folders.py tests/data/test_batches.py

$(JAX_STAMP): pyproject.toml $(CONSTRAINTS) $(STAMP)
	test -x $(JAX_PY) || $(PYTHON) -m venv $(JAX_VENV)
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(JAX_PY) -c $(CONSTRAINTS) -e '.[dev,jax]'
	touch $(JAX_STAMP)

test-backends: $(JAX_STAMP)
	KERAS_BACKEND=jax $(JAX_PY) -m pytest -n $(WORKERS) -q --benchmark-disable $(BACKEND_TESTS)

# The pip user's path, from the index (minutes, network to PyPI): builds the wheel, installs it into fresh virtual
# environments, runs the teaching checks, predict and a foreign project from an empty folder, and resolves the
# dependencies for every platform with pip's resolver (tests/install/).
test-install: install
	$(PY) -m pytest -m install -v tests/install

# The claims at cpu scale: verdicts with intervals; the tables and figures land in results/cpu/ even when a claim is
# not confirmed (that is a finding); the exit status stays pytest's. No tracked file changes (`make readme` publishes).
# Only what decides the lesson's verdicts: each claim's primary variant (the lesson's own reading), the backbones'
# fidelity and the data's calibration. The exploratory variants (studies around a claim: other rates, sizes,
# stage-1-only arms) are `make explore`; the teaching demonstrations `make teaching`; `pytest -m cpu` runs all of
# them plus the slower code-path checks (the gpu preset's dry run of every primary, the fuzzer's larger budget).
# Two pytest-xdist workers (WORKERS=N for another count), each TensorFlow with its share of the cores; a model two
# claims need is trained once, by whichever worker asks first (the other waits for it: tl_claims/core/store.py).
# The claims start longest first by the seconds their latest recorded rows took (a fresh checkout: registry order).
# `tl-claims verify` holds the test list and runs the report after pytest (tl_claims/verify.py).
verify: install
	$(VENV)/bin/tl-claims verify -n $(WORKERS)

explore: install
	$(PY) -m pytest -m "cpu and exploratory" -n $(WORKERS) --dist worksteal tests/claims; status=$$?; \
	$(PY) -m tl_claims report --results-dir results; exit $$status

# Replication: every claim's primary variant on each data family (flowers, objects) × backbone (Lite0, Lite1), one
# row per set-up; the table marks each verdict replicated or not (results/replicate/replication.md). BACKENDS adds
# the Keras backend to the matrix, one process each (`make replicate BACKENDS="tensorflow jax"`: JAX in .venv-jax),
# and the table then says whether each verdict holds across backends (docs/backends.md).
BACKENDS ?= tensorflow
replicate: install $(if $(filter-out tensorflow,$(BACKENDS)),$(JAX_STAMP))
	status=0; for backend in $(BACKENDS); do \
	  python=$(PY); [ $$backend = tensorflow ] || python=$(JAX_PY); \
	  KERAS_BACKEND=$$backend $$python -m pytest -m replicate -n $(WORKERS) --dist worksteal tests/claims || status=$$?; \
	done; \
	$(PY) -m tl_claims report --results-dir results; exit $$status

teaching: install
	$(PY) -m pytest -m cpu tests/teaching

# The benchmarks (minutes of CPU): results/bench/augmentation.md (images/s per round: median [slowest–fastest]), and
# each run saved by pytest-benchmark under .benchmarks/ (git-ignored), so two runs compare:
# `$(VENV)/bin/pytest-benchmark compare 0001 0002` (add `--group-by=group` for one table per image size and dtype).
bench: install
	$(PY) -m pytest benchmarks -m "not gpu" --benchmark-only --benchmark-autosave

# The prepared GPU run (docs/gpu.md, "The device script"): on a machine with a GPU, `pytest -m gpu` and the
# augmentation benchmark's GPU column within 9.5 minutes, everything in OUT (default results/gpu_run); on a CPU the
# same steps in their dry-run form. On the GPU machine itself, with no make or venv, run `bash benchmarks/gpu_run.sh`.
gpu-run: install
	PYTHON=$(PY) benchmarks/gpu_run.sh

# The wheels gpu_run.sh installs where there is no network (network to PyPI here): benchmarks/gpu_requirements.txt
# with every dependency, for the GPU machine's Python (GPU_PYTHON) on Linux x86_64, into wheels/ (git-ignored); copy
# that folder beside the checkout. pip there installs only what the machine lacks (docs/gpu.md lists the sizes).
GPU_PYTHON ?= 3.11
MANYLINUX := manylinux2014_x86_64 manylinux_2_17_x86_64 manylinux_2_24_x86_64 manylinux_2_27_x86_64 manylinux_2_28_x86_64
gpu-wheels: install
	$(PY) -m pip download -q --only-binary=:all: --python-version $(GPU_PYTHON) \
		$(foreach tag,$(MANYLINUX),--platform $(tag)) -d wheels -r benchmarks/gpu_requirements.txt

# The tables, figures and results/<scale>/report.html from every recorded row, under results/ only; where a Chromium
# is installed (Debian: `apt-get install chromium`), also report.png, the page as headless Chromium renders it.
report: install
	$(PY) -m tl_claims report --results-dir results --html

# Publishing, the one command that writes tracked files: each scale's rows of $(RESULTS) are copied into docs/rows/
# (never replaced by fewer), its deltas figure drawn into docs/figures/, and the README's table of primaries and
# docs/results.md rebuilt from docs/rows/ (tests/test_published.py checks they match). `make readme RESULTS=/tmp/r`
# publishes another folder's rows.
readme: install
	$(PY) -m tl_claims report --readme --results-dir $(RESULTS)

# What runs made: the environment, pytest's cache and results/ (git tracks nothing there: the published tables live
# in docs/rows/, the published measurements in docs/bench/).
clean:
	rm -rf $(VENV) $(JAX_VENV) .pytest_cache results
