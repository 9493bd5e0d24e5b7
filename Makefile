# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-from-requirements
A      ?=
JOBS   ?= 2
SUBMISSIONS ?= submissions

.PHONY: setup list release solutions grade feedback export demo test check clean

$(STAMP): requirements.txt packages/eds_data/eds_data.py packages/eds_data/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)  ## the pinned environment; a no-op while requirements.txt is unchanged

list: setup
	$(PY) -m autograder list

release: setup  ## regenerate release/ from source/ (A=assignment, default all)
	$(PY) -m autograder release $(A)

solutions: setup  ## regenerate solutions/ from release/ and source/
	$(PY) -m autograder solutions $(A)

grade: setup  ## autograde SUBMISSIONS/<student>/<A>/ for assignment A
	@test -n "$(A)" || { echo "usage: make grade A=<assignment> SUBMISSIONS=<folder>"; exit 2; }
	$(PY) -m autograder grade $(A) --submissions $(SUBMISSIONS) --jobs $(JOBS)

feedback: setup  ## write feedback for every graded submission
	$(PY) -m autograder feedback $(A)

export: setup  ## var/grades.csv (nbgrader's) and var/submissions.csv (status of each submission)
	$(PY) -m autograder export

demo: setup  ## the sample class, graded end to end (A=assignment(s), default all)
	$(PY) -m autograder demo $(A)

test: setup  ## the whole suite, on $(JOBS) cores
	$(PY) -m pytest -n $(JOBS) --dist loadgroup --durations=30

check: setup  ## the suite for one assignment: make check A=01-regression
	$(PY) -m pytest -n $(JOBS) --dist loadgroup -k "$(A)"

clean:
	rm -rf var

.PHONY: report formgrader
report: setup  ## the class report: var/report/index.html and one page per assignment (A=assignment(s))
	$(PY) -m autograder report $(A)

formgrader: setup  ## nbgrader's formgrader for the free-text answers, on 127.0.0.1 (prints the URL)
	$(PY) -m autograder formgrader

.PHONY: lab
lab: setup  ## JupyterLab for a student: release/ and, of nbgrader's tools, Validate only
	$(PY) -m autograder lab

.PHONY: mutants
mutants: setup  ## the mutation report: mutants, killed and named per assignment (from the stores)
	$(PY) -m autograder mutants $(A)

.PHONY: bench
bench: setup  ## benchmarks/RESULTS.md: overhead per assignment, --jobs scaling, memory, cold start, cost growth
	$(PY) benchmarks/bench.py

.PHONY: image
image: setup  ## the grading image (autograder/Dockerfile) with docker or podman: IMAGE=name to tag it
	autograder/container/build.sh
