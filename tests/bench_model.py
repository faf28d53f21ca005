"""Benchmarks of the Deep-CEE Faster R-CNN at inference: seconds per 1000 x 1000 image on the
CPU (the paper's input size, full config), images per second on a GPU in each precision x
compilation variant, the arithmetic and graph size of one detection, and one training step
at the tiny config on the CPU."""
import time
from pathlib import Path

import numpy as np

import tensorflow as tf

from benchmark_tools import VARIANTS, gpu_or_skip, graph_cost
from deepcee.model.builder import build_model
from deepcee.training.train import precision_policy
from helpers import PAPER_CONFIG as FULL_CONFIG, TINY_CONFIG, parse_pipeline_config

IMAGE_PX = 1000
REPEATS = 3
GPU_REPEATS = 50


def _model(config_path, xla_compatible=False):
    config = parse_pipeline_config(config_path)
    return build_model(config.model, xla_compatible=xla_compatible), config.model.faster_rcnn


def _image(size):
    """A batch of one random 8-bit colour image, ``size`` x ``size`` pixels, as float32."""
    return tf.constant(np.random.default_rng(0).integers(0, 256, (1, size, size, 3)),
                       tf.float32)


def _times(function, *args, repeats=REPEATS):
    """Seconds per call, each until its outputs are on the host, after one warm-up call."""
    function(*args)                                  # trace (and compile) and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy(), function(*args))
        times.append(time.perf_counter() - start)
    return times


def bench_inference_cpu(workdir: Path):
    """Seconds to detect clusters in one 1000 x 1000 image (full Deep-CEE config, 300
    proposals), on the CPU, after tracing."""
    with tf.device("/CPU:0"):
        model, _ = _model(FULL_CONFIG)
        times = _times(tf.function(model.detect), _image(IMAGE_PX))
    return {"inference_cpu_1000px": (times, "s/image")}


def bench_inference_gpu(workdir: Path):
    """Images per second detected one at a time (batch 1, 1000 x 1000, full config, outputs
    copied back to the host after each) on the GPU, after tracing and XLA compilation, in
    float32 and mixed float16, each with and without XLA."""
    device = gpu_or_skip()
    figures = {}
    for suffix, (mixed_precision, xla) in VARIANTS.items():
        with precision_policy(mixed_precision), tf.device(device):
            model, _ = _model(FULL_CONFIG, xla_compatible=xla)
            detect = tf.function(model.detect, jit_compile=xla or None)
            times = _times(detect, _image(IMAGE_PX), repeats=GPU_REPEATS)
        figures[f"inference_gpu_1000px_{suffix}"] = ([1 / t for t in times], "images/s")
    return figures


def bench_inference_cost(workdir: Path):
    """Floating-point operations and graph nodes of one detection (full config, 1000 x 1000):
    what bounds the GPU rate, from its arithmetic and from per-kernel launch overhead."""
    model, _ = _model(FULL_CONFIG)
    detect = tf.function(model.detect).get_concrete_function(
        tf.TensorSpec([1, IMAGE_PX, IMAGE_PX, 3], tf.float32))
    gflop, nodes = graph_cost(detect)
    return {"inference_1000px_gflop": ([gflop], "GFLOP/image"),
            "inference_1000px_graph_nodes": ([nodes], "nodes")}


def bench_train_step_cpu(workdir: Path):
    """Seconds per training step (loss and gradients, batch 1) at the tiny config (256 px)."""
    with tf.device("/CPU:0"):
        model, config = _model(TINY_CONFIG)
        image = _image(config.image_resizer.fixed_shape_resizer.height)
        gt_boxes = tf.constant([[[0.3, 0.3, 0.7, 0.7]]])
        gt_valid = tf.constant([[True]])

        @tf.function
        def step(images, boxes, valid):
            with tf.GradientTape() as tape:
                loss = model.loss(images, boxes, valid)["Loss/total_loss"]
            return loss, tape.gradient(loss, model.trainable_variables)

        times = _times(step, image, gt_boxes, gt_valid)
    return {"train_step_cpu_tiny": (times, "s/step")}
