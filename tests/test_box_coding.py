"""Faster R-CNN box coder (scale factors 10, 10, 5, 5) against hand-computed codes."""
import numpy as np

import tensorflow as tf

from deepcee.ops.box_coder import BoxCoder


def test_hand_example():
    coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    anchors = tf.constant([[0, 0, 10, 20], [0, 0, 10, 20]], tf.float32)   # centre (5, 10), 10 x 20
    boxes = tf.constant([[2, 4, 12, 24], [0, 0, 20, 10]], tf.float32)
    # box 1: shifted by (2, 4): ty = 10 * 2/10, tx = 10 * 4/20, same size
    # box 2: centre (10, 5), 20 x 10: ty = 10 * 5/10, tx = 10 * -5/20, th = 5 ln 2, tw = 5 ln 0.5
    expected = [[2.0, 2.0, 0.0, 0.0], [5.0, -2.5, 5 * np.log(2), 5 * np.log(0.5)]]
    np.testing.assert_allclose(coder.encode(boxes, anchors).numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(coder.decode(tf.constant(expected, tf.float32), anchors).numpy(),
                               boxes.numpy(), atol=1e-4)


def test_scale_factors_scale_the_codes():
    anchors = tf.constant([[0, 0, 10, 20]], tf.float32)
    boxes = tf.constant([[0, 0, 20, 10]], tf.float32)
    plain = BoxCoder((1.0, 1.0, 1.0, 1.0)).encode(boxes, anchors).numpy()
    scaled = BoxCoder((10.0, 10.0, 5.0, 5.0)).encode(boxes, anchors).numpy()
    np.testing.assert_allclose(scaled, plain * [10, 10, 5, 5], rtol=1e-5)


def test_round_trip_batched():
    rng = np.random.default_rng(1)
    corner = rng.uniform(0, 500, (2, 7, 2))
    size = rng.uniform(5, 300, (2, 7, 2))
    boxes = np.concatenate([corner, corner + size], -1).astype(np.float32)
    anchors = np.roll(boxes, 1, axis=1)
    coder = BoxCoder()
    codes = coder.encode(boxes, anchors)
    assert codes.shape == (2, 7, 4) and codes.dtype == tf.float32
    np.testing.assert_allclose(coder.decode(codes, anchors).numpy(), boxes, rtol=1e-4, atol=1e-2)


def test_decode_does_not_clip_large_size_codes():
    # the OD API decoder has no log(1000/16) clip (official.vision's box_ops.decode_boxes has)
    anchors = tf.constant([[0, 0, 1, 1]], tf.float32)
    boxes = BoxCoder().decode(tf.constant([[0, 0, 25.0, 25.0]]), anchors).numpy()
    np.testing.assert_allclose(boxes[0, 2] - boxes[0, 0], np.exp(5.0), rtol=1e-5)
