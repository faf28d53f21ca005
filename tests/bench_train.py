"""Benchmark: seconds per Deep-CEE training step on the CPU, full config, 1000 x 1000 images."""
import time

import numpy as np

import data_prep  # noqa: F401
import tensorflow as tf

from conftest import REPO
from deepcee import train as training
from deepcee.config import load_pipeline_config
from deepcee.export import model_input_size
from deepcee.model_builder import build_model

FULL_CONFIG = REPO / "pipeline_configs" / "deepcee_faster_rcnn_inception_v2.config"
REPEATS = 3


def bench_train_step_cpu(workdir):
    """One joint training step (forward, both stages' losses, backward, clipped SGD update)
    of the paper's model on a 1000 x 1000 image with one cluster box, after a warm-up step."""
    config = load_pipeline_config(FULL_CONFIG)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    rng = np.random.default_rng(0)
    images = tf.constant(rng.uniform(0, 255, (1, 1000, 1000, 3)), tf.float32)
    boxes = tf.constant([[[0.3, 0.35, 0.6, 0.65]] + [[0.0] * 4] * 7], tf.float32)
    valid = tf.constant([[True] + [False] * 7])
    with strategy.scope():
        model = build_model(config.model)
        optimizer = training.build_optimizer(config.train_config)
        step = tf.Variable(0, dtype=tf.int64, trainable=False)
        model.detect(tf.zeros([1, *model_input_size(config.model), 3]))
    train_step = training.make_train_step(model, optimizer, strategy, step,
                                          config.train_config.gradient_clipping_by_norm,
                                          mixed_precision=False, xla=False)
    train_step((images, boxes, valid))  # trace and warm up
    seconds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        losses = train_step((images, boxes, valid))
        float(losses[training.TOTAL_LOSS])
        seconds.append(time.perf_counter() - start)
    return {"train_step_cpu_full_config_1000px": (seconds, "s/step")}
