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
VAE_OPTIONS ?=
PRESET ?= paper
TFRECORDS_OPTIONS ?=
TRAIN_OPTIONS ?=

N_ARG = $(if $(N),--n $(N))
STEPS_ARG = $(if $(STEPS),--steps $(STEPS))
CHECKPOINT := $(RUN)/train/checkpoint
SAVED_MODEL := $(RUN)/export/saved_model/saved_model.pb

# Each command once; a phony target and the file rule it chains through share it.
TFRECORDS = $(BIN)/deepcee tfrecords --source $(SOURCE) $(N_ARG) --seed $(SEED) --out $(DATA) $(TFRECORDS_OPTIONS)
TRAIN = $(BIN)/deepcee train --config $(CONFIG) --data $(DATA) --model-dir $(RUN)/train $(STEPS_ARG) \
    $(TRAIN_OPTIONS)
define EVALUATE
$(BIN)/deepcee evaluate --model $(RUN)/export --data $(DATA) --out $(RUN)/eval
$(BIN)/deepcee candidates --eval $(RUN)/eval --data $(DATA) --threshold $(THRESHOLD) \
    --source $(SOURCE) --out $(RUN)/candidates
endef

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
	$(TFRECORDS)

$(DATA)/manifest.json: | $(STAMP)
	$(TFRECORDS)

train-cee: $(DATA)/manifest.json
	$(TRAIN)

$(CHECKPOINT): $(DATA)/manifest.json
	$(TRAIN)

$(SAVED_MODEL): $(CHECKPOINT)
	$(BIN)/deepcee export --model-dir $(RUN)/train --out $(RUN)/export

export-cee: $(SAVED_MODEL)

eval-cee: $(SAVED_MODEL)
	$(EVALUATE)

# --- StellarVAE -------------------------------------------------------------------------
train-vae: $(STAMP)
	$(BIN)/stellarvae train --field "$(FIELD)" --source $(SOURCE) --seed $(SEED) --out $(VAE_RUN) --preset $(PRESET) $(VAE_OPTIONS)

# The eight Table I fields run as one scan on Dask (see scan-vae); the table then reads them.
table-vae: $(STAMP)
	$(BIN)/stellarvae scan --source $(SOURCE) --seed $(SEED) --out $(VAE_RUN) $(SCAN_ARGS) --preset $(PRESET) $(VAE_OPTIONS)
	$(BIN)/stellarvae table --source $(SOURCE) --seed $(SEED) --out $(VAE_RUN) --preset $(PRESET) $(VAE_OPTIONS)

# --- Both -------------------------------------------------------------------------------
tensorboard: $(STAMP)
	$(BIN)/tensorboard --logdir runs

bench: $(STAMP)
	$(BIN)/python tests/run_benchmarks.py --out runs/bench

# The whole chain on the simulator with the tiny model: small enough for 2 CPU cores.
DEMO := SOURCE=sim N=60 SEED=$(SEED) CONFIG=pipeline_configs/deepcee_cpu.config STEPS=1000 \
        TFRECORDS_OPTIONS="--image-px 256" TRAIN_OPTIONS="--eval-every 500" \
        DATA=data/demo/deepcee RUN=runs/demo/deepcee VAE_RUN=runs/demo/stellarvae
DEMO_EVAL := runs/demo/deepcee/eval/test/summary.json
DEMO_VAE := runs/demo/stellarvae/IRAS06055/detection.json

$(RUN)/eval/test/summary.json: $(SAVED_MODEL)
	$(EVALUATE)

clean-demo:
	rm -rf data/demo runs/demo

demo: $(STAMP)
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory $(DEMO) $(DEMO_EVAL) && \
	$(MAKE) --no-print-directory $(DEMO) train-vae FIELD=IRAS06055 && \
	$(BIN)/python -c 'import json,sys; e=json.load(open("$(DEMO_EVAL)"))["best_f1"]; \
	v=json.load(open("$(DEMO_VAE)"))["detections"][0]; \
	s=json.load(open("$(DEMO_EVAL)")); \
	print("\n== demo report ==\nDeep-CEE (CPU recipe, %d simulated test images never trained on): best F1 %.3f at %d %% (precision %.3f, recall %.3f)" % (s["n_images"], e["f1"], round(100*e["threshold"]), e["precision"], e["recall"])); \
	print("StellarVAE IRAS 06055+2039 (simulated): RA %.5f Dec %.5f, radius %.1f arcsec, %d members, IoU vs truth %.2f" % (v["ra"], v["dec"], v["radius_arcsec"], v["members"], v.get("iou_truth", float("nan"))))' && \
	echo "Test images with true (green) and predicted (orange) boxes: runs/demo/deepcee/eval/test/examples.png" && \
	echo "Learning curve:   runs/demo/deepcee/train/learning_curve.png (loss and test F1 against step)" && \
	echo "Tables and plots: runs/demo/deepcee/eval/{test,redmapper}/ (threshold_table.md, pr_curve.png, centre_offsets.png)" && \
	echo "                  runs/demo/deepcee/candidates/, runs/demo/stellarvae/IRAS06055/ (heat_map.png, detection.png, latent_space.png)" && \
	echo "Data set:         data/demo/deepcee/ (preview.png, clusters.ecsv, manifest.json)" && \
	echo "TensorBoard:      make tensorboard   (logs in runs/demo/deepcee/train, runs/demo/stellarvae/IRAS06055/tensorboard)" && \
	echo "Wall time:        $$(( $$(date +%s) - start )) s"

# --- Survey scans on Dask ---------------------------------------------------------------
# make scan-cee REGION=box:RA1,RA2,DEC1,DEC2|cone:RA,DEC,RADIUS|list:FILE [SOURCE=sim|sdss|dir:PATH]
# make scan-vae [FIELDS="IRAS06055 91.9,20.6" | REGION=...] [SOURCE=sim|2mass|ukidss]
# Both: [WORKERS=N] [SCHEDULER=local|tcp://HOST:8786|slurm|pbs] [JOBQUEUE=jobqueue.yaml]
REGION ?=
FIELDS ?=
WORKERS ?=
SCHEDULER ?= local
JOBQUEUE ?=
SCAN ?= runs/scan/deepcee
SCAN_ARGS = --scheduler $(SCHEDULER) $(if $(WORKERS),--workers $(WORKERS)) \
            $(if $(JOBQUEUE),--jobqueue-config $(JOBQUEUE))

.PHONY: scan-cee scan-vae

scan-cee: $(SAVED_MODEL)
	$(BIN)/deepcee scan $(if $(REGION),--region "$(REGION)") --source $(SOURCE) --seed $(SEED) \
	    --model $(RUN)/export --out $(SCAN) $(SCAN_ARGS)

scan-vae: $(STAMP)
	$(BIN)/stellarvae scan $(if $(REGION),--region "$(REGION)") $(foreach f,$(FIELDS),--field "$(f)") \
	    --source $(SOURCE) --seed $(SEED) --out $(VAE_RUN) $(SCAN_ARGS) $(VAE_OPTIONS)
