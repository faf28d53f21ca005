"""Non-maximum suppression of scored boxes, padded to a fixed count (OD API
``batch_multiclass_non_max_suppression`` for one class).

Used twice (Deep-CEE §2.1.2-2.1.3): on the RPN's decoded anchors (IoU 0.7, <= 300 proposals)
and on the box classifier's refined boxes (IoU 0.6, <= 100 detections). As in the OD API,
greedy NMS runs on the unclipped boxes in decreasing score order, keeping boxes whose score
is above ``score_threshold``; the kept boxes are then clipped to the image window and those
left with zero area are dropped. Outputs are padded with zeros to a static length.
"""
import tensorflow as tf


def _suppress_one_image(boxes, scores, num_valid, max_output_size, output_size, iou_threshold,
                        score_threshold, window):
    scores = tf.where(tf.range(tf.shape(scores)[0]) < num_valid, scores, scores.dtype.min)
    indices, num_kept = tf.raw_ops.NonMaxSuppressionV4(
        boxes=boxes, scores=scores, max_output_size=max_output_size,
        iou_threshold=iou_threshold, score_threshold=score_threshold,
        pad_to_max_output_size=True)
    kept_boxes = tf.gather(boxes, indices)
    kept_scores = tf.gather(scores, indices)
    low = tf.stack([window[0], window[1], window[0], window[1]])
    high = tf.stack([window[2], window[3], window[2], window[3]])
    kept_boxes = tf.minimum(tf.maximum(kept_boxes, low), high)
    area = ((kept_boxes[:, 2] - kept_boxes[:, 0]) * (kept_boxes[:, 3] - kept_boxes[:, 1]))
    keep = (tf.range(max_output_size) < num_kept) & (area > 0.0)
    order = tf.argsort(tf.cast(~keep, tf.int32), stable=True)
    count = tf.reduce_sum(tf.cast(keep, tf.int32))
    if output_size > max_output_size:
        order = tf.pad(order, [[0, output_size - max_output_size]])
    order = order[:output_size]
    count = tf.minimum(count, output_size)
    filled = tf.range(output_size) < count
    out_boxes = tf.where(filled[:, None], tf.gather(kept_boxes, order), 0.0)
    out_scores = tf.where(filled, tf.gather(kept_scores, order), 0.0)
    return out_boxes, out_scores, count


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
    if num_valid is None:
        num_valid = tf.fill([tf.shape(boxes)[0]], tf.shape(boxes)[1])

    def one_image(args):
        return _suppress_one_image(*args, max_output_size, output_size, iou_threshold,
                                   score_threshold, window)

    return tf.map_fn(one_image, (boxes, scores, num_valid),
                     fn_output_signature=(tf.TensorSpec([output_size, 4], tf.float32),
                                          tf.TensorSpec([output_size], tf.float32),
                                          tf.TensorSpec([], tf.int32)))
