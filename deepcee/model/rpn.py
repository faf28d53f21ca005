"""Region proposal network (Deep-CEE §2.1.2, Figure 1; OD API first stage).

A 3x3 convolution (512 channels, ReLU6 as in the OD API) slides over the ``Mixed_4e``
features; two parallel 1x1 convolutions predict, for each of the anchors of every cell,
4 box codes and 2 objectness logits (background, object). Proposals are the anchors decoded
with those codes, scored by the softmax object probability and thinned by NMS (IoU 0.7) to
at most 300, clipped to the image.
"""
import tensorflow as tf
import tf_keras

from deepcee.ops.postprocessing import batch_non_max_suppression


class RegionProposalNetwork(tf_keras.layers.Layer):
    """RPN head: shared 3x3 conv + ReLU6, then box and objectness 1x1 convs.

    Parameters
    ----------
    anchors_per_location : int
        Anchors per feature-map cell (len(scales) x len(aspect_ratios)).
    depth : int
        Channels of the 3x3 conv (first_stage_box_predictor_depth).
    kernel_size : int
        Its kernel size (first_stage_box_predictor_kernel_size).
    atrous_rate : int
        Its dilation (first_stage_atrous_rate).
    initializer : callable
        Returns a fresh kernel initialiser (truncated normal, stddev 0.01, in the paper).
    regularizer : tf_keras.regularizers.Regularizer or None
        Kernel regulariser of the three convolutions.
    box_code_size : int
        Codes per box (4).
    """

    #: OD API variable scopes of the three convolutions
    odapi_scopes = {"conv": "Conv", "box_encoding": "FirstStageBoxPredictor/BoxEncodingPredictor",
                    "objectness": "FirstStageBoxPredictor/ClassPredictor"}

    def __init__(self, anchors_per_location, depth=512, kernel_size=3, atrous_rate=1,
                 initializer=None, regularizer=None, box_code_size=4, **kwargs):
        super().__init__(name="RegionProposalNetwork", **kwargs)
        self.anchors_per_location = anchors_per_location
        self.box_code_size = box_code_size

        def conv(channels, size, name, activation=None):
            return tf_keras.layers.Conv2D(
                channels, size, padding="same", dilation_rate=atrous_rate if size > 1 else 1,
                activation=activation, kernel_initializer=initializer(),
                bias_initializer="zeros", kernel_regularizer=regularizer, name=name)

        self.conv = conv(depth, kernel_size, "Conv", tf.nn.relu6)
        self.box_encoding = conv(anchors_per_location * box_code_size, 1,
                                 "BoxEncodingPredictor")
        self.objectness = conv(anchors_per_location * 2, 1, "ClassPredictor")

    def call(self, features):
        """Per-anchor predictions.

        Parameters
        ----------
        features : tf.Tensor
            [B, h, w, C] feature map.

        Returns
        -------
        box_encodings : tf.Tensor
            float32 [B, h * w * anchors_per_location, 4], in the anchors' order.
        objectness_logits : tf.Tensor
            float32 [B, h * w * anchors_per_location, 2].
        """
        net = self.conv(features)
        height, width = net.shape[1], net.shape[2]
        num_anchors = -1 if None in (height, width) else height * width * self.anchors_per_location
        batch_size = tf.shape(net)[0]
        box_encodings = tf.reshape(self.box_encoding(net),
                                   [batch_size, num_anchors, self.box_code_size])
        objectness_logits = tf.reshape(self.objectness(net), [batch_size, num_anchors, 2])
        return tf.cast(box_encodings, tf.float32), tf.cast(objectness_logits, tf.float32)


def generate_proposals(box_encodings, objectness_logits, anchors, box_coder, image_size,
                       max_proposals, iou_threshold, score_threshold):
    """Decode anchors into proposals and keep the best by NMS (OD API ``_postprocess_rpn``).

    Parameters
    ----------
    box_encodings, objectness_logits : tf.Tensor
        [B, N, 4] and [B, N, 2] RPN outputs for N anchors.
    anchors : tf.Tensor
        float32 [N, 4] anchor corners in pixels.
    box_coder : deepcee.ops.box_coder.BoxCoder
    image_size : (int, int)
        Height and width of the resized image (pixels): the clip window.
    max_proposals, iou_threshold, score_threshold
        first_stage_max_proposals, first_stage_nms_iou_threshold,
        first_stage_nms_score_threshold.

    Returns
    -------
    proposals : tf.Tensor
        float32 [B, max_proposals, 4] corners in pixels, by decreasing objectness, zero padded.
        Gradients do not flow through them (Deep-CEE footnote 7).
    scores : tf.Tensor
        float32 [B, max_proposals] object probabilities.
    num_proposals : tf.Tensor
        int32 [B].
    """
    boxes = box_coder.decode(box_encodings,
                             tf.broadcast_to(anchors[None], tf.shape(box_encodings)))
    scores = tf.nn.softmax(objectness_logits)[..., 1]
    proposals, scores, num_proposals = batch_non_max_suppression(
        boxes, scores, max_proposals, iou_threshold, score_threshold,
        window=[0.0, 0.0, float(image_size[0]), float(image_size[1])])
    return tf.stop_gradient(proposals), tf.stop_gradient(scores), num_proposals
