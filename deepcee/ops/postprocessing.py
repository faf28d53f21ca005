"""Non-maximum suppression of scored boxes, padded to a fixed count (OD API
``batch_multiclass_non_max_suppression`` for one class).

Used twice (Deep-CEE §2.1.2-2.1.3): on the RPN's decoded anchors (IoU 0.7, <= 300 proposals)
and on the box classifier's refined boxes (IoU 0.6, <= 100 detections). As in the OD API,
greedy NMS runs on the unclipped boxes in decreasing score order, keeping boxes whose score
is above ``score_threshold``; the kept boxes are then clipped to the image window and those
left with zero area are dropped. Outputs are padded with zeros to a static length.
"""
import tensorflow as tf

from deepcee.ops.sampling import take_selected


def _greedy_nms(boxes, scores, max_output_size, iou_threshold, score_threshold):
    """Indices [max_output_size] of one image's boxes kept by greedy NMS, and their count.

    ``tf.raw_ops.NonMaxSuppressionV4``: the public padded NMS (the tiled
    ``tf.image.non_max_suppression_padded``) suppresses at IoU >= the threshold and takes a box
    with no positive coordinate for padding; the public greedy ones do not compile with XLA.
    """
    indices, count = tf.raw_ops.NonMaxSuppressionV4(
        boxes=boxes, scores=scores, max_output_size=max_output_size,
        iou_threshold=iou_threshold, score_threshold=score_threshold,
        pad_to_max_output_size=True)
    return indices, count


def batch_non_max_suppression(boxes, scores, max_output_size, iou_threshold, score_threshold,
                              window, num_valid=None, output_size=None):
    """Greedy NMS per image, then clip to the window and pad.

    Parameters
    ----------
    boxes : tf.Tensor
        float32 [B, N, 4] corners ``ymin, xmin, ymax, xmax``.
    scores : tf.Tensor
        float32 [B, N].
    max_output_size : int
        Most boxes NMS keeps per image (first_stage_max_proposals, max_detections_per_class).
    iou_threshold : float
        A box is suppressed by a higher-scoring kept box whose IoU with it exceeds this.
    score_threshold : float
        Only boxes with a score above this are kept.
    window : tf.Tensor or sequence
        [4] ``ymin, xmin, ymax, xmax`` of the image, in the boxes' unit.
    num_valid : tf.Tensor, optional
        int32 [B]; only the first ``num_valid`` boxes of each image take part.
    output_size : int, optional
        Length of the outputs (default ``max_output_size``; max_total_detections).

    Returns
    -------
    boxes : tf.Tensor
        float32 [B, output_size, 4] kept, clipped boxes by decreasing score, zero padded.
    scores : tf.Tensor
        float32 [B, output_size].
    count : tf.Tensor
        int32 [B] number of boxes kept.
    """
    boxes = tf.cast(boxes, tf.float32)
    scores = tf.cast(scores, tf.float32)
    output_size = output_size or max_output_size
    window = tf.cast(tf.convert_to_tensor(window), tf.float32)
    if num_valid is not None:
        valid = tf.range(tf.shape(scores)[1])[None, :] < num_valid[:, None]
        scores = tf.where(valid, scores, scores.dtype.min)
    indices, num_kept = tf.map_fn(
        lambda args: _greedy_nms(*args, max_output_size, iou_threshold, score_threshold),
        (boxes, scores), fn_output_signature=(tf.TensorSpec([max_output_size], tf.int32),
                                              tf.TensorSpec([], tf.int32)))
    low = tf.stack([window[0], window[1], window[0], window[1]])
    high = tf.stack([window[2], window[3], window[2], window[3]])
    kept_boxes = tf.minimum(tf.maximum(tf.gather(boxes, indices, batch_dims=1), low), high)
    kept_scores = tf.gather(scores, indices, batch_dims=1)
    area = ((kept_boxes[..., 2] - kept_boxes[..., 0]) * (kept_boxes[..., 3] - kept_boxes[..., 1]))
    keep = (tf.range(max_output_size)[None, :] < num_kept[:, None]) & (area > 0.0)
    if output_size > max_output_size:
        pad = output_size - max_output_size
        keep = tf.pad(keep, [[0, 0], [0, pad]])
        kept_boxes = tf.pad(kept_boxes, [[0, 0], [0, pad], [0, 0]])
        kept_scores = tf.pad(kept_scores, [[0, 0], [0, pad]])
    order, count = take_selected(keep, output_size)
    filled = tf.range(output_size)[None, :] < count[:, None]
    return (tf.where(filled[..., None], tf.gather(kept_boxes, order, batch_dims=1), 0.0),
            tf.where(filled, tf.gather(kept_scores, order, batch_dims=1), 0.0), count)
