# Deep-CEE and StellarVAE. Every target installs into .venv first if the package metadata changed.
# Targets chain through the files they make: eval-cee needs an export, which needs a trained
# checkpoint, which needs TFRecords; each step runs only when its inputs are missing or newer.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SOURCE ?= sim
N ?=
SEED ?= 0
CONFIG ?= pipeline_configs/deepcee_faster_rcnn_inception_v2.config
STEPS ?=
FIELD ?= IRAS06055
DATA ?= data/deepcee
RUN ?= runs/deepcee
VAE_RUN ?= runs/stellarvae
THRESHOLD ?= 0.7

N_ARG = $(if $(N),--n $(N))
STEPS_ARG = $(if $(STEPS),--steps $(STEPS))
CHECKPOINT := $(RUN)/train/checkpoint
SAVED_MODEL := $(RUN)/export/saved_model/saved_model.pb

.PHONY: install test test-fast tfrecords train-cee export-cee eval-cee train-vae table-vae \
        tensorboard bench demo clean-demo

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -ra

test-fast: $(STAMP)
	$(BIN)/python -m pytest -ra -m "not slow"

# --- Deep-CEE ---------------------------------------------------------------------------
tfrecords: $(STAMP)
	$(BIN)/deepcee tfrecords --source $(SOURCE) $(N_ARG) --seed $(SEED) --out $(DATA)

$(DATA)/manifest.json: | $(STAMP)
	$(BIN)/deepcee tfrecords --source $(SOURCE) $(N_ARG) --seed $(SEED) --out $(DATA)

train-cee: $(DATA)/manifest.json
	$(BIN)/deepcee train --config $(CONFIG) --data $(DATA) --model-dir $(RUN)/train $(STEPS_ARG)

$(CHECKPOINT): $(DATA)/manifest.json
	$(BIN)/deepcee train --config $(CONFIG) --data $(DATA) --model-dir $(RUN)/train $(STEPS_ARG)

$(SAVED_MODEL): $(CHECKPOINT)
	$(BIN)/deepcee export --model-dir $(RUN)/train --out $(RUN)/export

export-cee: $(SAVED_MODEL)

eval-cee: $(SAVED_MODEL)
	$(BIN)/deepcee evaluate --model $(RUN)/export --data $(DATA) --out $(RUN)/eval
	$(BIN)/deepcee candidates --eval $(RUN)/eval --data $(DATA) --threshold $(THRESHOLD) \
	    --source $(SOURCE) --out $(RUN)/candidates

# --- StellarVAE -------------------------------------------------------------------------
train-vae: $(STAMP)
	$(BIN)/stellarvae train --field "$(FIELD)" --source $(SOURCE) --seed $(SEED) --out $(VAE_RUN)

table-vae: $(STAMP)
	$(BIN)/stellarvae table --source $(SOURCE) --seed $(SEED) --out $(VAE_RUN)

# --- Both -------------------------------------------------------------------------------
tensorboard: $(STAMP)
	$(BIN)/tensorboard --logdir runs

bench: $(STAMP)
	$(BIN)/python tests/run_benchmarks.py --out runs/bench

demo: $(STAMP)
	$(BIN)/python -m data_prep.demo
