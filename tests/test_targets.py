"""Target assignment (IoU 0.7 / 0.3 with the best anchor of every box forced positive),
balanced sampling and NMS, against hand-computed values."""
import numpy as np
import pytest

import tensorflow as tf

from deepcee.ops.box_coder import BoxCoder
from deepcee.ops.postprocessing import batch_non_max_suppression
from deepcee.ops.sampling import balanced_sample, take_selected
from deepcee.ops.target_assigner import IGNORED, NEGATIVE, assign_targets, match

# IoU of 3 ground-truth boxes (the last one padding) with 5 anchors
IOU = [[[0.8, 0.5, 0.1, 0.0, 0.2],
        [0.1, 0.2, 0.0, 0.4, 0.3],
        [0.9, 0.9, 0.9, 0.9, 0.9]]]
GT_VALID = [[True, True, False]]


def test_match_thresholds_and_padding():
    matches = match(tf.constant(IOU), tf.constant(GT_VALID), 0.7, 0.3, False).numpy()
    # 0.8 -> gt 0; 0.5 and 0.4 ignored; 0.1 negative; 0.3 is not < 0.3 -> ignored
    assert matches.tolist() == [[0, IGNORED, NEGATIVE, IGNORED, IGNORED]]


def test_match_forces_best_anchor_of_each_gt():
    matches = match(tf.constant(IOU), tf.constant(GT_VALID), 0.7, 0.3, True).numpy()
    # gt 1's best anchor (3, IoU 0.4) becomes positive; padded gt 2 forces nothing
    assert matches.tolist() == [[0, IGNORED, NEGATIVE, 1, IGNORED]]


def test_match_without_valid_gt_is_all_negative():
    matches = match(tf.constant(IOU), tf.constant([[False, False, False]]), 0.7, 0.3, True)
    assert (matches.numpy() == NEGATIVE).all()


def test_match_threshold_edges():
    matches = match(tf.constant([[[0.7, 0.3, 0.29999]]]), tf.constant([[True]]), 0.7, 0.3,
                    False).numpy()
    assert matches.tolist() == [[0, IGNORED, NEGATIVE]]


def test_assign_targets_on_boxes():
    anchors = tf.constant([[0, 0, 10, 10], [0, 0, 10, 8], [0, 0, 10, 5], [50, 50, 60, 60]],
                          tf.float32)
    gt = tf.constant([[[0, 0, 10, 10], [0, 0, 0, 0]]], tf.float32)
    coder = BoxCoder()
    targets = assign_targets(anchors, gt, tf.constant([[True, False]]), coder, 0.7, 0.3, True)
    # IoUs with gt 0: 1.0, 0.8, 0.5, 0.0
    assert targets.matches.numpy().tolist() == [[0, 0, IGNORED, NEGATIVE]]
    assert targets.positive.numpy().tolist() == [[True, True, False, False]]
    assert targets.cls_weights.numpy().tolist() == [[1, 1, 0, 1]]
    assert targets.reg_weights.numpy().tolist() == [[1, 1, 0, 0]]
    # anchor 1 (10 x 8, centre (5, 4)) vs gt (10 x 10, centre (5, 5)): tx = 10/8, tw = 5 ln(10/8)
    np.testing.assert_allclose(targets.reg_targets.numpy()[0],
                               [[0, 0, 0, 0], [0, 1.25, 0, 5 * np.log(1.25)], [0] * 4, [0] * 4],
                               atol=1e-5)


def test_assign_targets_second_stage_has_no_ignored_band():
    proposals = tf.constant([[[0, 0, 10, 10], [0, 0, 10, 5], [0, 0, 10, 4.9]]], tf.float32)
    gt = tf.constant([[[0, 0, 10, 10]]], tf.float32)
    targets = assign_targets(proposals, gt, tf.constant([[True]]), BoxCoder(), 0.5, 0.5)
    assert targets.positive.numpy().tolist() == [[True, True, False]]
    assert targets.cls_weights.numpy().tolist() == [[1, 1, 1]]


def _count(mask):
    return mask.numpy().sum(axis=-1).tolist()


def test_balanced_sample_counts():
    n = 100
    positive = np.zeros((3, n), bool)
    positive[0, :10] = True          # 10 positives: 8 positive + 8 negative of 16
    positive[1, :3] = True           # 3 positives: 3 + 13
    positive[2, :90] = True          # 10 negatives only: 8 + 10
    candidates = np.ones((3, n), bool)
    candidates[:, -5:] = False       # never sampled
    sample = balanced_sample(tf.constant(candidates), tf.constant(positive), 16, 0.5,
                             tf.constant([1, 2]))
    assert _count(sample & positive) == [8, 3, 8]
    assert _count(sample & ~positive) == [8, 13, 5]
    assert not (sample.numpy() & ~candidates).any()


def test_balanced_sample_quarter_positive():
    positive = tf.constant(np.arange(300)[None] < 40)
    sample = balanced_sample(tf.ones([1, 300], tf.bool), positive, 64, 0.25, tf.constant([0, 0]))
    assert _count(sample & positive) == [16] and _count(sample & ~positive) == [48]


def test_balanced_sample_is_seeded():
    positive = tf.constant(np.arange(500)[None] % 7 == 0)
    candidates = tf.ones([1, 500], tf.bool)
    first = balanced_sample(candidates, positive, 32, 0.5, tf.constant([3, 4]))
    again = balanced_sample(candidates, positive, 32, 0.5, tf.constant([3, 4]))
    other = balanced_sample(candidates, positive, 32, 0.5, tf.constant([5, 4]))
    assert (first.numpy() == again.numpy()).all()
    assert (first.numpy() != other.numpy()).any()


def test_take_selected_keeps_order_and_pads():
    selected = tf.constant([[False, True, False, True, True], [False] * 5])
    indices, count = take_selected(selected, 4)
    assert count.numpy().tolist() == [3, 0]
    assert indices.numpy()[0, :3].tolist() == [1, 3, 4]
    indices, count = take_selected(selected, 2)
    assert indices.numpy()[0].tolist() == [1, 3] and count.numpy().tolist() == [2, 0]


def test_nms_hand_example():
    boxes = tf.constant([[[0, 0, 10, 10],       # 0.9 kept
                          [1, 1, 11, 11],       # 0.8: IoU 81/119 = 0.68 with box 0
                          [20, 20, 30, 30],     # 0.7 kept
                          [40, 40, 50, 50],     # 0.0: not above the score threshold
                          [95, 95, 120, 120],   # 0.6 kept, clipped to the 100 x 100 window
                          [101, 0, 110, 10]]],  # 0.5 outside the window: zero area, dropped
                        tf.float32)
    scores = tf.constant([[0.9, 0.8, 0.7, 0.0, 0.6, 0.5]])
    window = [0.0, 0.0, 100.0, 100.0]
    kept, kept_scores, count = batch_non_max_suppression(boxes, scores, 5, 0.6, 0.0, window)
    assert count.numpy().tolist() == [3]
    np.testing.assert_allclose(kept_scores.numpy(), [[0.9, 0.7, 0.6, 0, 0]])
    np.testing.assert_allclose(kept.numpy()[0], [[0, 0, 10, 10], [20, 20, 30, 30],
                                                 [95, 95, 100, 100], [0] * 4, [0] * 4])
    # at IoU 0.7 the overlapping box survives
    _, kept_scores, count = batch_non_max_suppression(boxes, scores, 5, 0.7, 0.0, window)
    assert count.numpy().tolist() == [4]
    np.testing.assert_allclose(kept_scores.numpy(), [[0.9, 0.8, 0.7, 0.6, 0]])


def test_nms_limits_padding_and_valid_count():
    boxes = tf.constant([[[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 5, 5]]] * 2, tf.float32)
    scores = tf.constant([[0.3, 0.2, 0.9]] * 2)
    kept, kept_scores, count = batch_non_max_suppression(
        boxes, scores, 2, 0.5, 0.0, [0.0, 0.0, 10.0, 10.0], num_valid=tf.constant([3, 2]),
        output_size=4)
    assert kept.shape == (2, 4, 4) and count.numpy().tolist() == [2, 2]
    np.testing.assert_allclose(kept_scores.numpy(), [[0.9, 0.3, 0, 0], [0.3, 0.2, 0, 0]])


@pytest.mark.parametrize("threshold", [0.6, 0.7])
def test_nms_threshold_is_strict(threshold):
    # two boxes with IoU exactly 0.6: suppressed only when IoU > threshold
    boxes = tf.constant([[[0, 0, 10, 10], [0, 2.5, 10, 12.5]]], tf.float32)   # IoU 75/125
    _, _, count = batch_non_max_suppression(boxes, tf.constant([[0.9, 0.8]]), 2, threshold,
                                            0.0, [0.0, 0.0, 20.0, 20.0])
    assert count.numpy().tolist() == [2]


def greedy_nms(boxes, scores, max_output_size, iou_threshold, score_threshold, window):
    """Plain greedy NMS of one image in numpy, then clipping to the window and dropping boxes
    left with zero area: the expected ``(boxes, scores)`` of ``batch_non_max_suppression``."""
    def iou(a, b):
        height = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        width = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = height * width
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union

    kept = []
    for i in np.argsort(-scores, kind="stable"):
        if len(kept) == max_output_size or scores[i] <= score_threshold:
            break
        if all(iou(boxes[i], boxes[j]) <= iou_threshold for j in kept):
            kept.append(i)
    low, high = np.array(window[:2] * 2), np.array(window[2:] * 2)
    clipped = np.clip(boxes[kept], low, high)
    area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    return clipped[area > 0], scores[kept][area > 0]


@pytest.mark.parametrize("max_output_size, output_size", [(30, 40), (30, 10)])
def test_nms_matches_a_plain_greedy_nms_on_random_boxes(max_output_size, output_size):
    rng = np.random.default_rng(3)
    centres = rng.uniform(-20.0, 120.0, (3, 200, 2))
    sizes = rng.uniform(5.0, 40.0, (3, 200, 2))
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=-1)
    scores = rng.uniform(0.0, 1.0, (3, 200))
    num_valid = [200, 150, 7]
    window = [0.0, 0.0, 100.0, 100.0]
    kept, kept_scores, count = batch_non_max_suppression(
        tf.constant(boxes, tf.float32), tf.constant(scores, tf.float32), max_output_size, 0.5,
        0.3, window, num_valid=tf.constant(num_valid), output_size=output_size)
    assert kept.shape == (3, output_size, 4)
    for image, n in enumerate(num_valid):
        expected_boxes, expected_scores = greedy_nms(boxes[image, :n], scores[image, :n],
                                                     max_output_size, 0.5, 0.3, window)
        expected_boxes = expected_boxes[:output_size]
        expected_scores = expected_scores[:output_size]
        k = len(expected_scores)
        assert count[image] == k and k > 0
        np.testing.assert_allclose(kept[image, :k].numpy(), expected_boxes, rtol=1e-5)
        np.testing.assert_allclose(kept_scores[image, :k].numpy(), expected_scores, rtol=1e-6)
        assert not kept[image, k:].numpy().any() and not kept_scores[image, k:].numpy().any()
