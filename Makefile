# polymodal: `make demo` and `make test` create .venv/, install every package of the repository into it in
# editable mode (with the pinned torch stack), then run the demo or the whole test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# every package folder with a setup.cfg; a new one under modalities/, tasks/ or plugins/ is picked up as is
PACKAGES := core $(sort $(patsubst %/setup.cfg,%,$(wildcard modalities/*/setup.cfg plugins/*/setup.cfg tasks/*/setup.cfg)))
TEST_DIRS := $(wildcard $(addsuffix /tests,$(PACKAGES))) $(wildcard tests)
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: all install test demo clean

all: install

$(STAMP): Makefile constraints.txt requirements-dev.txt $(addsuffix /setup.cfg,$(PACKAGES))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt torch torchaudio torchvision
	$(PIP) install -q -c constraints.txt -r requirements-dev.txt $(addprefix -e ./,$(PACKAGES))
	touch $(STAMP)

install: $(STAMP)

test: install
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest $(TEST_DIRS)

demo: install
	$(VENV)/bin/polymodal demo --out out/demo

clean:
	rm -rf $(VENV) out
