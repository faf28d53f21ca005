"""IoU matching of anchors / proposals to ground truth, and their training targets.

Deep-CEE §2.1.2-2.1.3, following the OD API's ``ArgMaxMatcher`` and ``TargetAssigner``:
each anchor takes the ground-truth box it overlaps most; it is positive if that IoU is
>= ``positive_threshold``, negative if < ``negative_threshold`` and ignored in between.
For the RPN (``force_match_for_each_gt``) every ground-truth box also claims the anchor that
overlaps it most, whatever the IoU, so that no object is left without a positive anchor.

Differences from the OD API code, none in the result: ground truth comes padded with a
validity mask (padded rows never match nor force a match), and everything is batched.
The IoU is official.vision's (``iou_similarity.iou``, 0 where boxes do not intersect).
"""
import collections

import tensorflow as tf
from official.vision.ops import iou_similarity

#: match value of an anchor below the negative threshold (background)
NEGATIVE = -1
#: match value of an anchor between the thresholds (left out of the loss)
IGNORED = -2

Targets = collections.namedtuple(
    "Targets", "matches positive cls_weights reg_targets reg_weights")
Targets.__doc__ = """Training targets of a batch of anchors or proposals.

matches : int32 [B, N]; index of the matched ground-truth box, ``NEGATIVE`` or ``IGNORED``.
positive : bool [B, N]; object (class 1) target.
cls_weights : float32 [B, N]; 1 for positives and negatives, 0 for ignored.
reg_targets : float32 [B, N, 4]; box codes of the matched ground truth (0 if unmatched).
reg_weights : float32 [B, N]; 1 for positives, else 0.
"""


def match(iou, gt_valid, positive_threshold, negative_threshold, force_match_for_each_gt):
    """Match every anchor to a ground-truth box (OD API ``ArgMaxMatcher``).

    Parameters
    ----------
    iou : tf.Tensor
        float32 [B, M, N] IoU of M ground-truth boxes with N anchors.
    gt_valid : tf.Tensor
        bool [B, M]; False marks padding.
    positive_threshold, negative_threshold : float
        IoU >= positive_threshold: matched; IoU < negative_threshold: negative.
    force_match_for_each_gt : bool
        Each valid ground-truth box also matches its highest-IoU anchor (first on ties).

    Returns
    -------
    tf.Tensor
        int32 [B, N] matched ground-truth index, ``NEGATIVE`` or ``IGNORED``.
    """
    valid = gt_valid[:, :, None]
    iou = tf.where(valid, iou, -1.0)
    best_gt = tf.argmax(iou, axis=1, output_type=tf.int32)
    best_iou = tf.reduce_max(iou, axis=1)
    matches = tf.where(best_iou >= positive_threshold, best_gt,
                       tf.where(best_iou < negative_threshold, NEGATIVE, IGNORED))
    if force_match_for_each_gt:
        num_anchors = tf.shape(iou)[2]
        best_anchor = tf.argmax(iou, axis=2, output_type=tf.int32)
        claims = tf.one_hot(best_anchor, num_anchors, dtype=tf.int32) * tf.cast(valid, tf.int32)
        claiming_gt = tf.argmax(claims, axis=1, output_type=tf.int32)
        matches = tf.where(tf.reduce_max(claims, axis=1) > 0, claiming_gt, matches)
    return matches


def assign_targets(anchors, gt_boxes, gt_valid, box_coder, positive_threshold,
                   negative_threshold, force_match_for_each_gt=False):
    """Classification and box-regression targets of anchors (or proposals).

    Parameters
    ----------
    anchors : tf.Tensor
        float32 [N, 4] (shared by the batch) or [B, N, 4] corners.
    gt_boxes : tf.Tensor
        float32 [B, M, 4] ground-truth corners, in the same unit as ``anchors``.
    gt_valid : tf.Tensor
        bool [B, M].
    box_coder : deepcee.ops.box_coder.BoxCoder
    positive_threshold, negative_threshold, force_match_for_each_gt
        See :func:`match`.

    Returns
    -------
    Targets
    """
    gt_boxes = tf.cast(gt_boxes, tf.float32)
    anchors = tf.cast(anchors, tf.float32)
    iou = iou_similarity.iou(gt_boxes, anchors)
    matches = match(iou, gt_valid, positive_threshold, negative_threshold,
                    force_match_for_each_gt)
    positive = matches >= 0
    matched_gt = tf.gather(gt_boxes, tf.maximum(matches, 0), batch_dims=1)
    if anchors.shape.rank == 2:
        anchors = tf.broadcast_to(anchors[None], tf.shape(matched_gt))
    codes = box_coder.encode(matched_gt, anchors)
    reg_weights = tf.cast(positive, tf.float32)
    return Targets(matches=matches,
                   positive=positive,
                   cls_weights=tf.cast(matches != IGNORED, tf.float32),
                   reg_targets=codes * reg_weights[..., None],
                   reg_weights=reg_weights)
