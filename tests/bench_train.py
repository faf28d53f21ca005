"""Benchmarks of Deep-CEE training with the paper's config on 1000 x 1000 images: seconds per
step on the CPU, steps per second on a GPU in each precision x compilation variant, the
arithmetic and graph size of one step, and the rate at which the input pipeline feeds
decoded images from TFRecords (the ceiling it puts on steps/s with batch size 1)."""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import tensorflow as tf

from benchmark_tools import VARIANTS, gpu_or_skip, graph_cost
from deepcee.training import inputs
from deepcee.training import train as training
from deepcee.config import load_pipeline_config
from deepcee.model.checkpoint import build_with_weights
from helpers import PAPER_CONFIG as FULL_CONFIG, write_bcg_records

HERE = Path(__file__).resolve().parent
IMAGE_PX = 1000
REPEATS = 3
GPU_REPEATS = 30
PIPELINE_RECORDS = 16
PIPELINE_BATCHES = 100


def _training_step(device, mixed_precision=False, xla=False):
    """The paper's joint training step (forward, both stages' losses, backward, clipped SGD
    update) on ``device``, and a batch of one 1000 x 1000 image with one cluster box (the
    training set's padding to 8 boxes)."""
    config = load_pipeline_config(FULL_CONFIG)
    strategy = tf.distribute.OneDeviceStrategy(device)
    rng = np.random.default_rng(0)
    with tf.device(device):
        batch = (tf.constant(rng.uniform(0, 255, (1, IMAGE_PX, IMAGE_PX, 3)), tf.float32),
                 tf.constant([[[0.3, 0.35, 0.6, 0.65]] + [[0.0] * 4] * 7], tf.float32),
                 tf.constant([[True] + [False] * 7]))
    with strategy.scope():
        model = build_with_weights(config.model, xla_compatible=xla)
        optimizer = training.build_optimizer(config.train_config, mixed_precision)
        step = tf.Variable(0, dtype=tf.int64, trainable=False)
    train_step = training.make_train_step(model, optimizer, strategy, step,
                                          config.train_config.gradient_clipping_by_norm,
                                          mixed_precision=mixed_precision, xla=xla)
    return train_step, batch


def _step_seconds(train_step, batch, repeats):
    """Seconds per step, each until its total loss is on the host, after a warm-up step."""
    train_step(batch)                                # trace (and compile) and warm up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        float(train_step(batch)[training.TOTAL_LOSS])
        seconds.append(time.perf_counter() - start)
    return seconds


def bench_train_step_cpu(workdir):
    """Seconds per training step of the paper's model on a 1000 x 1000 image, on the CPU."""
    seconds = _step_seconds(*_training_step("/cpu:0"), REPEATS)
    return {"train_step_cpu_full_config_1000px": (seconds, "s/step")}


def bench_train_step_determinism_cost(workdir):
    """Seconds per CPU training step (full config, 1000 x 1000) with TensorFlow's op
    determinism off and on (``deepcee train`` switches it on unless ``--nondeterministic``).
    Each setting runs in a process of its own: determinism cannot be switched off again."""
    code = ("import sys; sys.path[:0] = sys.argv[2:]\n"
            "from data_prep.base.tensorflow_env import select_tf_keras; select_tf_keras()\n"
            "import tensorflow as tf\n"
            "if sys.argv[1] == 'on': tf.config.experimental.enable_op_determinism()\n"
            "import bench_train\n"
            "seconds = bench_train._step_seconds(*bench_train._training_step('/cpu:0'), "
            "bench_train.REPEATS)\n"
            "print(*seconds)\n")
    figures = {}
    for setting in ("off", "on"):
        done = subprocess.run([sys.executable, "-c", code, setting, str(HERE), str(HERE.parent)],
                              capture_output=True, text=True, check=True)
        seconds = [float(value) for value in done.stdout.split()]
        figures[f"train_step_cpu_1000px_determinism_{setting}"] = (seconds, "s/step")
    return figures


def bench_train_step_gpu(workdir):
    """Training steps per second of the paper's model (batch 1, 1000 x 1000) on the GPU, in
    float32 and mixed float16, each with and without XLA; the loss is read back every step,
    as ``deepcee train`` does."""
    device = gpu_or_skip()
    figures = {}
    for suffix, (mixed_precision, xla) in VARIANTS.items():
        with training.precision_policy(mixed_precision):
            seconds = _step_seconds(*_training_step(device, mixed_precision, xla), GPU_REPEATS)
        figures[f"train_step_gpu_1000px_{suffix}"] = ([1 / s for s in seconds], "steps/s")
    return figures


def bench_train_step_cost(workdir):
    """Floating-point operations and graph nodes of one training step (full config,
    1000 x 1000, float32, no XLA)."""
    train_step, batch = _training_step("/cpu:0")
    gflop, nodes = graph_cost(train_step.get_concrete_function(batch))
    return {"train_step_1000px_gflop": ([gflop], "GFLOP/step"),
            "train_step_1000px_graph_nodes": ([nodes], "nodes")}


def bench_input_pipeline(workdir):
    """Training images per second that ``deepcee.training.inputs.training_dataset`` (read, PNG decode,
    flip, batch, prefetch) delivers from 1000 x 1000 TFRecords on this machine's cores."""
    records = workdir / "train.record"
    write_bcg_records(records, n_images=PIPELINE_RECORDS, size=IMAGE_PX)
    rates = []
    for repeat in range(REPEATS):
        batches = iter(inputs.training_dataset([records], batch_size=1, seed=repeat))
        next(batches)                                # start the reader and decode threads
        start = time.perf_counter()
        for _ in range(PIPELINE_BATCHES):
            next(batches)
        rates.append(PIPELINE_BATCHES / (time.perf_counter() - start))
    return {"input_pipeline_1000px": (rates, "images/s")}
