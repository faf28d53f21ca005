"""Faster R-CNN box coding (Ren et al. 2015 eq. 2; OD API ``FasterRcnnBoxCoder``).

A box is coded relative to an anchor (or proposal) as
``ty = sy (y - ya) / ha``, ``tx = sx (x - xa) / wa``, ``th = sh log(h / ha)``,
``tw = sw log(w / wa)``, with centres (y, x), sizes (h, w) and the OD API scale factors
(sy, sx, sh, sw) = (10, 10, 5, 5). The arithmetic is official.vision's copy of the OD API coder
(1e-8 added to sizes before the division and the log; no clipping of th, tw when decoding);
this module only lets it take batched tensors of any leading shape, in float32.
"""
import tensorflow as tf
from official.vision.utils.object_detection import box_list
from official.vision.utils.object_detection import faster_rcnn_box_coder


class BoxCoder:
    """Encode boxes against anchors and decode codes back to boxes.

    Parameters
    ----------
    scale_factors : sequence of 4 float
        (y, x, height, width) scale factors; the OD API uses (10, 10, 5, 5).
    """

    def __init__(self, scale_factors=(10.0, 10.0, 5.0, 5.0)):
        self.scale_factors = tuple(float(s) for s in scale_factors)
        self._coder = faster_rcnn_box_coder.FasterRcnnBoxCoder(list(self.scale_factors))

    def encode(self, boxes, anchors):
        """Codes of ``boxes`` relative to ``anchors``.

        Parameters
        ----------
        boxes, anchors : tf.Tensor
            [..., 4] corners ``ymin, xmin, ymax, xmax`` (any unit, the same for both); the
            shapes must be equal.

        Returns
        -------
        tf.Tensor
            float32 [..., 4] codes ``ty, tx, th, tw``.
        """
        boxes = tf.cast(boxes, tf.float32)
        anchors = tf.cast(anchors, tf.float32)
        codes = self._coder.encode(box_list.BoxList(tf.reshape(boxes, [-1, 4])),
                                   box_list.BoxList(tf.reshape(anchors, [-1, 4])))
        return tf.reshape(codes, tf.shape(boxes))

    def decode(self, codes, anchors):
        """Boxes that ``codes`` describe relative to ``anchors``.

        Parameters
        ----------
        codes, anchors : tf.Tensor
            [..., 4] codes ``ty, tx, th, tw`` and anchor corners; the shapes must be equal.

        Returns
        -------
        tf.Tensor
            float32 [..., 4] corners ``ymin, xmin, ymax, xmax`` in the anchors' unit.
        """
        codes = tf.cast(codes, tf.float32)
        anchors = tf.cast(anchors, tf.float32)
        boxes = self._coder.decode(tf.reshape(codes, [-1, 4]),
                                   box_list.BoxList(tf.reshape(anchors, [-1, 4])))
        return tf.reshape(boxes.get(), tf.shape(codes))
