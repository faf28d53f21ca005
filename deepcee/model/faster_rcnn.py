"""Deep-CEE's Faster R-CNN (Chan & Stott 2019 §2.1, Figure 1), as the OD API's
``FasterRCNNMetaArch`` computes it.

image -> resize + Inception scaling -> feature network (Inception-v2 to Mixed_4e)
-> region proposal network (anchors, objectness, NMS 0.7 -> 300 proposals)
-> crop_and_resize 14 + max-pool -> detection network (Mixed_5, FC: 2-way softmax + box)
-> NMS 0.6 -> at most 100 detections.

Training (``loss``) additionally drops border-crossing anchors, samples 256 anchors per image
for the RPN loss and 64 proposals per image for the detection network, with stopped gradients
through the proposal coordinates (footnote 7). Hyper-parameters come from the config via
:func:`deepcee.model.builder.build_model`.
"""
import dataclasses
from typing import Tuple

import numpy as np
import tensorflow as tf
import tf_keras

from deepcee.model import anchors as grid
from deepcee.ops import losses
from deepcee.model.box_classifier import crop_proposal_features
from deepcee.ops.postprocessing import batch_non_max_suppression
from deepcee.model.rpn import generate_proposals
from deepcee.ops.sampling import balanced_sample, take_selected
from deepcee.ops.target_assigner import assign_targets


@dataclasses.dataclass(frozen=True)
class FasterRCNNSettings:
    """The numbers of a Faster R-CNN config (OD API ``FasterRcnn`` proto field names)."""

    image_height: int
    image_width: int
    resize_method: str                       # tf.image.ResizeMethod name, e.g. "bilinear"
    anchor_scales: Tuple[float, ...]
    anchor_aspect_ratios: Tuple[float, ...]
    anchor_base_size: Tuple[float, float]    # (height, width) pixels
    anchor_stride: Tuple[int, int]
    anchor_offset: Tuple[int, int]
    clip_anchors_to_image: bool
    first_stage_minibatch_size: int
    first_stage_positive_balance_fraction: float
    first_stage_positive_iou_threshold: float
    first_stage_negative_iou_threshold: float
    first_stage_nms_score_threshold: float
    first_stage_nms_iou_threshold: float
    first_stage_max_proposals: int
    first_stage_localization_loss_weight: float
    first_stage_objectness_loss_weight: float
    initial_crop_size: int
    maxpool_kernel_size: int
    maxpool_stride: int
    second_stage_batch_size: int
    second_stage_balance_fraction: float
    second_stage_positive_iou_threshold: float
    second_stage_negative_iou_threshold: float
    second_stage_nms_score_threshold: float
    second_stage_nms_iou_threshold: float
    max_detections_per_class: int
    max_total_detections: int
    score_converter: str                     # "SOFTMAX", "SIGMOID" or "IDENTITY"
    logit_scale: float
    second_stage_localization_loss_weight: float
    second_stage_classification_loss_weight: float
    batch_statistics_at_inference: bool = False  # then :meth:`detect` takes images one by one


class FasterRCNN(tf_keras.Model):
    """Two-stage detector with ``loss`` (training) and ``detect`` (inference).

    Parameters
    ----------
    settings : FasterRCNNSettings
    feature_network : tf_keras.layers.Layer
        Image scaled to [-1, 1] -> stride-16 feature map.
    rpn : deepcee.model.rpn.RegionProposalNetwork
    box_classifier : deepcee.model.box_classifier.BoxClassifier
    box_coder : deepcee.ops.box_coder.BoxCoder
    seed : int
        Seed of the anchor and proposal sampling (a ``tf.random.Generator`` saved with the
        model's checkpoints).
    xla_compatible : bool
        Crop proposal features with gathers instead of ``tf.image.crop_and_resize`` (same
        values, slower on the CPU), so that ``loss`` and ``detect`` compile with
        ``jit_compile=True``.
    """

    def __init__(self, settings, feature_network, rpn, box_classifier, box_coder, seed=0,
                 xla_compatible=False, **kwargs):
        super().__init__(name="FasterRCNN", **kwargs)
        self.settings = settings
        self.feature_network = feature_network
        self.rpn = rpn
        self.box_classifier = box_classifier
        self.box_coder = box_coder
        self.sampling_rng = tf.random.Generator.from_seed(seed)
        self.xla_compatible = xla_compatible

    # --- Figure 1, left to right -------------------------------------------------------------

    def preprocess(self, images):
        """Resize to the config's fixed shape and scale to [-1, 1] ((2 / 255) x - 1).

        Parameters
        ----------
        images : tf.Tensor
            [B, H, W, 3] pixel values 0..255 (any real or integer dtype).

        Returns
        -------
        tf.Tensor
            float32 [B, image_height, image_width, 3].
        """
        s = self.settings
        images = tf.cast(images, tf.float32)
        if tuple(images.shape[1:3]) != (s.image_height, s.image_width):
            # OD API resizer: TF1 resize_images, align_corners=False, no half-pixel centres
            images = tf.compat.v1.image.resize(images, [s.image_height, s.image_width],
                                               method=s.resize_method)
        return (2.0 / 255.0) * images - 1.0

    def anchors(self, feature_shape, training):
        """Grid anchors of the feature map, in pixels, and which RPN outputs they belong to.

        Training keeps only the anchors inside the image (or clips them if
        ``clip_anchors_to_image``); inference clips them to the image and drops any left
        with zero area (OD API ``predict``).

        Parameters
        ----------
        feature_shape : (int, int)
            Static height and width of the feature map.
        training : bool

        Returns
        -------
        anchors : numpy.ndarray
            float32 [N, 4].
        kept : numpy.ndarray
            int [N] indices of these anchors among all grid anchors.
        """
        s = self.settings
        boxes = grid.grid_anchors(feature_shape, s.anchor_scales, s.anchor_aspect_ratios,
                                  s.anchor_base_size, s.anchor_stride, s.anchor_offset)
        if training and not s.clip_anchors_to_image:
            kept = np.flatnonzero(grid.inside_window(boxes, s.image_height, s.image_width))
            return boxes[kept], kept
        boxes = grid.clip_to_window(boxes, s.image_height, s.image_width)
        if training:
            return boxes, np.arange(len(boxes))
        kept = np.flatnonzero((boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1]))
        return boxes[kept], kept

    def first_stage(self, images, training):
        """Feature network and RPN predictions for the usable anchors.

        Returns
        -------
        dict
            ``features`` [B, h, w, C]; ``anchors`` float32 [N, 4] pixels;
            ``box_encodings`` [B, N, 4]; ``objectness_logits`` [B, N, 2].
        """
        features = self.feature_network(self.preprocess(images), training=training)
        box_encodings, objectness_logits = self.rpn(features)
        anchors, kept = self.anchors(tuple(features.shape[1:3]), training)
        if len(kept) < box_encodings.shape[1]:
            box_encodings = tf.gather(box_encodings, kept, axis=1)
            objectness_logits = tf.gather(objectness_logits, kept, axis=1)
        return dict(features=features, anchors=tf.constant(anchors),
                    box_encodings=box_encodings, objectness_logits=objectness_logits)

    def proposals(self, first):
        """RPN proposals (pixels, stopped gradient), their scores and count per image."""
        s = self.settings
        return generate_proposals(
            first["box_encodings"], first["objectness_logits"], first["anchors"],
            self.box_coder, (s.image_height, s.image_width), s.first_stage_max_proposals,
            s.first_stage_nms_iou_threshold, s.first_stage_nms_score_threshold)

    def second_stage(self, features, proposals, training):
        """Detection network on proposals given in pixels.

        Returns
        -------
        box_encodings : tf.Tensor
            float32 [B, P, 4] refined codes relative to the proposals.
        class_logits : tf.Tensor
            float32 [B, P, 2].
        """
        s = self.settings
        scale = tf.constant([s.image_height, s.image_width] * 2, tf.float32)
        crops = crop_proposal_features(features, proposals / scale, s.initial_crop_size,
                                       s.maxpool_kernel_size, s.maxpool_stride,
                                       self.xla_compatible)
        box_encodings, class_logits = self.box_classifier(crops, training=training)
        batch_size, num_proposals = tf.shape(proposals)[0], tf.shape(proposals)[1]
        return (tf.reshape(box_encodings, [batch_size, num_proposals, 4]),
                tf.reshape(class_logits, [batch_size, num_proposals, -1]))

    # --- training ----------------------------------------------------------------------------

    def loss(self, images, gt_boxes, gt_valid, training=True):
        """Weighted Faster R-CNN losses of a batch (eq. 3; OD API ``loss``).

        Parameters
        ----------
        images : tf.Tensor
            float32 [B, H, W, 3], 0..255.
        gt_boxes : tf.Tensor
            float32 [B, M, 4] normalised ``ymin, xmin, ymax, xmax`` (padded).
        gt_valid : tf.Tensor
            bool [B, M].
        training : bool
            True: training graph (border anchors dropped, 64 sampled proposals, batch norm
            updated if batch_norm_trainable). False: the inference graph's proposals (all of
            them, as the OD API evaluates losses).

        Returns
        -------
        dict
            float32 scalars ``Loss/RPNLoss/localization_loss``, ``Loss/RPNLoss/objectness_loss``,
            ``Loss/BoxClassifierLoss/localization_loss``,
            ``Loss/BoxClassifierLoss/classification_loss`` (each times its config weight),
            ``Loss/regularization_loss`` when a regulariser is configured, and
            ``Loss/total_loss``, their sum.
        """
        s = self.settings
        gt_valid = tf.cast(gt_valid, tf.bool)
        scale = tf.constant([s.image_height, s.image_width] * 2, tf.float32)
        gt_pixels = tf.cast(gt_boxes, tf.float32) * scale
        rpn_seed, classifier_seed = tf.unstack(self.sampling_rng.make_seeds(2), axis=1)

        first = self.first_stage(images, training)
        anchor_targets = assign_targets(
            first["anchors"], gt_pixels, gt_valid, self.box_coder,
            s.first_stage_positive_iou_threshold, s.first_stage_negative_iou_threshold,
            force_match_for_each_gt=True)
        anchor_sample = balanced_sample(
            anchor_targets.cls_weights > 0, anchor_targets.positive,
            s.first_stage_minibatch_size, s.first_stage_positive_balance_fraction, rpn_seed)
        rpn_localization, rpn_objectness = losses.rpn_losses(
            first["box_encodings"], first["objectness_logits"], anchor_targets, anchor_sample)

        proposals, _, num_proposals = self.proposals(first)
        proposal_targets = assign_targets(
            proposals, gt_pixels, gt_valid, self.box_coder,
            s.second_stage_positive_iou_threshold, s.second_stage_negative_iou_threshold)
        if training:
            proposals, proposal_targets, num_proposals = self._sample_proposals(
                proposals, proposal_targets, num_proposals, classifier_seed)
        box_encodings, class_logits = self.second_stage(first["features"], proposals, training)
        classifier_localization, classifier_classification = losses.box_classifier_losses(
            box_encodings, class_logits, proposal_targets, num_proposals)

        loss = {
            "Loss/RPNLoss/localization_loss":
                s.first_stage_localization_loss_weight * rpn_localization,
            "Loss/RPNLoss/objectness_loss": s.first_stage_objectness_loss_weight * rpn_objectness,
            "Loss/BoxClassifierLoss/localization_loss":
                s.second_stage_localization_loss_weight * classifier_localization,
            "Loss/BoxClassifierLoss/classification_loss":
                s.second_stage_classification_loss_weight * classifier_classification,
        }
        if self.losses:
            loss["Loss/regularization_loss"] = tf.add_n(
                [tf.cast(term, tf.float32) for term in self.losses])
        loss["Loss/total_loss"] = tf.add_n(list(loss.values()))
        return loss

    def _sample_proposals(self, proposals, targets, num_proposals, seed):
        """Balanced sample of second_stage_batch_size proposals per image, in score order,
        zero padded (OD API ``_sample_box_classifier_batch``)."""
        s = self.settings
        real = tf.range(tf.shape(proposals)[1])[None, :] < num_proposals[:, None]
        candidates = real & (targets.cls_weights > 0)
        # if every real proposal is ignored, all become candidates (their loss weight stays 0)
        has_candidates = tf.reduce_any(candidates, axis=1, keepdims=True)
        candidates = tf.where(has_candidates, candidates, real)
        sample = balanced_sample(candidates, targets.positive, s.second_stage_batch_size,
                                 s.second_stage_balance_fraction, seed)
        indices, count = take_selected(sample, s.second_stage_batch_size)
        kept = tf.range(s.second_stage_batch_size)[None, :] < count[:, None]

        def gather(values):
            picked = tf.gather(values, indices, batch_dims=1)
            mask = kept[..., None] if picked.shape.rank == 3 else kept
            return tf.where(mask, picked, tf.zeros_like(picked))

        targets = type(targets)(*[gather(field) for field in targets])
        return gather(proposals), targets, count

    # --- inference ---------------------------------------------------------------------------

    def detect(self, images):
        """Detections of a batch of images (OD API ``predict`` + ``postprocess``).

        Parameters
        ----------
        images : tf.Tensor
            [B, H, W, 3] pixel values 0..255.

        Returns
        -------
        dict
            ``detection_boxes`` float32 [B, K, 4] normalised to the input image,
            ``detection_scores`` [B, K], ``detection_classes`` [B, K] (1-based, float),
            ``num_detections`` float32 [B]; K = max_total_detections, zero padded.
        """
        if self.settings.batch_statistics_at_inference:  # each image its own statistics
            return tf.map_fn(lambda image: {key: value[0] for key, value in
                                            self._detect_batch(image[tf.newaxis]).items()},
                             images, fn_output_signature={
                                 "detection_boxes": tf.float32, "detection_scores": tf.float32,
                                 "detection_classes": tf.float32, "num_detections": tf.float32})
        return self._detect_batch(images)

    def _detect_batch(self, images):
        """:meth:`detect` of a batch in one pass."""
        s = self.settings
        first = self.first_stage(images, training=False)
        proposals, _, num_proposals = self.proposals(first)
        box_encodings, class_logits = self.second_stage(first["features"], proposals, False)
        boxes = self.box_coder.decode(box_encodings, proposals)
        scores = self._convert_scores(class_logits)[..., 1]
        boxes, scores, count = batch_non_max_suppression(
            boxes, scores, s.max_detections_per_class, s.second_stage_nms_iou_threshold,
            s.second_stage_nms_score_threshold,
            window=[0.0, 0.0, float(s.image_height), float(s.image_width)],
            num_valid=num_proposals, output_size=s.max_total_detections)
        scale = tf.constant([s.image_height, s.image_width] * 2, tf.float32)
        return {"detection_boxes": boxes / scale,
                "detection_scores": scores,
                "detection_classes": tf.ones_like(scores),
                "num_detections": tf.cast(count, tf.float32)}

    def _convert_scores(self, logits):
        """second_stage_post_processing score_converter with logit_scale."""
        logits = logits / self.settings.logit_scale
        converter = self.settings.score_converter
        if converter == "SOFTMAX":
            return tf.nn.softmax(logits)
        if converter == "SIGMOID":
            return tf.sigmoid(logits)
        return logits

    def call(self, images, training=False):
        """Keras entry point: :meth:`detect`."""
        return self.detect(images)
