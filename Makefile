# Two commands for learners and instructors: `make lab` and `make test`.
# Both create .venv on first use (or reuse it) and install the pinned versions in constraints.txt.

PYTHON ?= python3
VENV   := .venv
# The name JupyterLab shows for the course's kernel; the notebooks store the same one (a test checks),
# so opening a notebook does not change it.
KERNEL_DISPLAY := Python 3 (PyTorch CNN course)
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
# Generated data and the course backbone are cached in the repo (.course-cache/, git-ignored).
# Python keeps the bytecode of each module the first time any process imports it (in __pycache__/, git-ignored),
# even where the shell sets PYTHONDONTWRITEBYTECODE: otherwise every kernel, worker and test process compiles
# PyTorch's Python files again. Cheaper than compiling all ~10,000 installed files at install time (14 s here), of
# which a test run imports about 4,700.
COURSE_ENV := COURSE_CACHE=$(CURDIR)/.course-cache PYTHONDONTWRITEBYTECODE=
# Tests always use the course backbone so stored outputs reproduce anywhere (only lesson 05 tries the original
# tutorial's download once, into a temporary folder, 5 s at most);
# a fixed hash seed keeps any set/dict ordering in outputs the same on every run.
TEST_ENV := $(COURSE_ENV) COURSE_WEIGHTS=course PYTHONHASHSEED=0

.PHONY: lab test test-slow test-browser nbval prepare exercises execute backbone bench bench-train bench-thresholds lock clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed; set PYTHON=/path/to/python3.10+")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned packages into $(VENV): about 6 GB (PyTorch brings its CUDA libraries); under a minute with uv on a fast connection, 2-5 minutes with pip."
	@# uv (pinned in constraints.txt, from PyPI) installs the same pinned versions as pip, downloading and unpacking in
	@# parallel: about 20 s instead of 100 s here. pip does it alone when uv cannot be had or fails.
	@if $(BIN)/python -m pip install -q -c constraints.txt uv && \
		$(BIN)/python -m uv pip install --python $(BIN)/python -c constraints.txt -e ".[test,lab]"; then :; else \
		echo "uv could not install the packages; installing them with pip instead."; \
		$(BIN)/python -m pip install --progress-bar on -c constraints.txt -e ".[test,lab]" || exit 1; fi
	@touch $(STAMP)

prepare: $(STAMP)  ## register the kernel, verify (or build) the dataset and the backbone, set JupyterLab's defaults
	@# The notebooks ask for the kernel "python3": register this environment's Python under that name, with the
	@# course's thread policy (half the cores, sleeping OpenMP waits, or COURSE_THREADS: course_utils/runtime.py).
	@policy=$$($(BIN)/python -m course_utils.runtime) || exit 1; \
		$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "$(KERNEL_DISPLAY)" $$policy >/dev/null
	$(COURSE_ENV) $(BIN)/python -m course_utils setup

lab: prepare  ## start JupyterLab on the lessons (LAB_ARGS=--no-browser on a server)
	@# JUPYTER_PATH puts this environment's kernel ahead of any user-wide "python3" kernel.
	@# In containers you are often root, which JupyterLab refuses unless told it is intended.
	@# Serve the whole course (exercises/ too) but open the file browser in notebooks/.
	$(COURSE_ENV) JUPYTER_PATH=$(VENV)/share/jupyter $(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# When make started (install and set-up included in `make test`'s closing line).
STARTED := $(shell date +%s)

test: prepare  ## the whole suite on every core, offline: unit, checker, nbval on notebooks/ and solutions/, exercise notebooks
	@$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
		echo "make test: $$(( $$(date +%s) - $(STARTED) )) s wall in all (install and set-up included), pytest exit $$status"; \
		exit $$status

test-slow: prepare  ## the slow tests only: rebuild the backbone from scratch and compare it with the shipped one
	$(TEST_ENV) $(BIN)/python -m pytest -m slow tests

test-browser: prepare  ## JupyterLab in headless Chromium: the kernel status says Busy while a cell runs (needs chromium, chromium-driver)
	$(BIN)/python -m pip install -q -c constraints.txt "selenium"
	$(TEST_ENV) $(BIN)/python -m pytest -m browser tests/test_browser.py

nbval: prepare  ## only the notebook checks
	$(TEST_ENV) $(BIN)/python -m pytest notebooks solutions

exercises: $(STAMP)  ## regenerate exercises/ from solutions/
	$(BIN)/python -m course_utils.tools.make_exercises

NB ?= notebooks/*.ipynb solutions/*.ipynb
execute: prepare  ## re-execute notebooks in place (NB=notebooks/07_partial_fine_tuning.ipynb): run times kept, bars as text; BUSY=1 only times them beside a CPU-bound process
	$(TEST_ENV) $(BIN)/python -m course_utils.tools.execute_notebooks $(if $(BUSY),--busy) $(NB)

backbone: $(STAMP)  ## regenerate the shipped course backbone (course_utils/assets; resumable, about 2 minutes)
	$(COURSE_ENV) $(BIN)/python -m course_utils.models.backbone

bench-train: prepare  ## images/s of `course train` in 1 and 2 processes (and one GPU when present); BENCH_ARGS="elpv --backbone efficientnet_lite0"
	$(TEST_ENV) $(BIN)/python tests/bench_train.py $(BENCH_ARGS)

bench: prepare  ## time check_exercise, run_symptom and nbval on lessons 06-07, idle vs busy (BENCH_ARGS=--help)
	$(TEST_ENV) $(BIN)/python tests/benchmark.py $(BENCH_ARGS)

bench-thresholds: prepare  ## the CPU-dependent figures tests compare with thresholds, with 1 and 2 threads
	$(TEST_ENV) $(BIN)/python tests/threshold_spread.py

lock: $(STAMP)  ## refresh constraints.txt from the current .venv
	@{ echo "# Pinned versions for a reproducible install (pip install -c constraints.txt ...)."; \
	   echo "# Regenerate with 'make lock' after changing dependencies in pyproject.toml."; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -v -i '^pytorch-cnn-course'; } > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .course-cache
