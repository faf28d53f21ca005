"""Benchmarks of the Deep-CEE Faster R-CNN on the CPU: inference at the paper's input size
(1000 x 1000 px, full config) and one training step at the tiny config."""
import time
from pathlib import Path

import numpy as np

import data_prep  # noqa: F401
import tensorflow as tf
from google.protobuf import text_format

from deepcee.model_builder import build_model
from protos import pipeline_pb2

CONFIGS = Path(__file__).resolve().parents[1] / "pipeline_configs"
REPEATS = 3


def _model(config_name):
    config = pipeline_pb2.TrainEvalPipelineConfig()
    text_format.Parse((CONFIGS / config_name).read_text(), config)
    return build_model(config.model), config.model.faster_rcnn


def _times(function, *args):
    function(*args)                                  # trace and warm up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy(), function(*args))
        times.append(time.perf_counter() - start)
    return times


def bench_inference_cpu(workdir: Path):
    """Seconds to detect clusters in one 1000 x 1000 image (full Deep-CEE config, 300
    proposals), on the CPU, after tracing."""
    with tf.device("/CPU:0"):
        model, _ = _model("deepcee_faster_rcnn_inception_v2.config")
        image = tf.constant(np.random.default_rng(0).integers(0, 256, (1, 1000, 1000, 3)),
                            tf.float32)
        times = _times(tf.function(model.detect), image)
    return {"inference_cpu_1000px": (times, "s/image")}


def bench_train_step_cpu(workdir: Path):
    """Seconds per training step (loss and gradients, batch 1) at the tiny config (256 px)."""
    with tf.device("/CPU:0"):
        model, config = _model("deepcee_tiny.config")
        size = config.image_resizer.fixed_shape_resizer.height
        image = tf.constant(np.random.default_rng(0).integers(0, 256, (1, size, size, 3)),
                            tf.float32)
        gt_boxes = tf.constant([[[0.3, 0.3, 0.7, 0.7]]])
        gt_valid = tf.constant([[True]])

        @tf.function
        def step(images, boxes, valid):
            with tf.GradientTape() as tape:
                loss = model.loss(images, boxes, valid)["Loss/total_loss"]
            return loss, tape.gradient(loss, model.trainable_variables)

        times = _times(step, image, gt_boxes, gt_valid)
    return {"train_step_cpu_tiny": (times, "s/step")}
