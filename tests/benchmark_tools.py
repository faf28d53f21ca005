"""What the Deep-CEE model benchmarks share: the GPU to run on (the benchmark is skipped where
TensorFlow sees none), the four precision x compilation variants (run each inside
``deepcee.training.train.precision_policy``), and the arithmetic cost and graph size of a traced
function."""
import unittest

import tensorflow as tf

VARIANTS = {"fp32": (False, False), "fp32_xla": (False, True),
            "mixed_fp16": (True, False), "mixed_fp16_xla": (True, True)}
"""Figure suffix -> (mixed precision, XLA), as ``deepcee train --mixed-precision --xla``."""


def gpu_or_skip():
    """The first GPU's device name; skips the benchmark (``unittest.SkipTest``) without one."""
    gpus = tf.config.list_logical_devices("GPU")
    if not gpus:
        raise unittest.SkipTest("TensorFlow sees no GPU on this machine")
    return gpus[0].name


def graph_cost(concrete_function):
    """``(GFLOP, graph nodes)`` of one call: floating-point operations counted by the
    TensorFlow profiler from the static shapes (multiply and add counted apart), and the
    nodes of the graph and of the functions it calls (loop bodies), each one kernel the
    executor dispatches (on a GPU, mostly one launch)."""
    profiler = tf.compat.v1.profiler
    options = profiler.ProfileOptionBuilder(profiler.ProfileOptionBuilder.float_operation()
                                            ).with_empty_output().build()
    graph = concrete_function.graph
    flops = profiler.profile(graph, options=options).total_float_ops
    graph_def = graph.as_graph_def()
    nodes = len(graph_def.node) + sum(len(f.node_def) for f in graph_def.library.function)
    return flops / 1e9, nodes
