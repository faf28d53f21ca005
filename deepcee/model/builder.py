"""Build the Faster R-CNN of a pipeline config (OD API ``model_builder`` for
``faster_rcnn_inception_v2``). The config is the single source of every hyper-parameter."""
import itertools

import tf_keras

from data_prep.base.errors import InputError
from deepcee.config import model_problems
from deepcee.model.box_classifier import BoxClassifier
from deepcee.ops.box_coder import BoxCoder
from deepcee.model.faster_rcnn import FasterRCNN, FasterRCNNSettings
from deepcee.model.inception_v2 import InceptionV2FeatureNetwork
from deepcee.model.rpn import RegionProposalNetwork
from protos import hyperparams_pb2, image_resizer_pb2, post_processing_pb2

_RESIZE_METHODS = {image_resizer_pb2.BILINEAR: "bilinear",
                   image_resizer_pb2.NEAREST_NEIGHBOR: "nearest",
                   image_resizer_pb2.BICUBIC: "bicubic",
                   image_resizer_pb2.AREA: "area"}


def _initializer_factory(initializer, seeds):
    """A function returning a fresh, distinctly seeded Keras initialiser of the proto's kind
    (OD API ``hyperparams_builder``)."""
    kind = initializer.WhichOneof("initializer_oneof")
    if kind == "truncated_normal_initializer":
        spec = initializer.truncated_normal_initializer
        return lambda: tf_keras.initializers.TruncatedNormal(spec.mean, spec.stddev,
                                                             seed=next(seeds))
    if kind == "random_normal_initializer":
        spec = initializer.random_normal_initializer
        return lambda: tf_keras.initializers.RandomNormal(spec.mean, spec.stddev,
                                                          seed=next(seeds))
    if kind == "variance_scaling_initializer":
        spec = initializer.variance_scaling_initializer
        mode = hyperparams_pb2.VarianceScalingInitializer.Mode.Name(spec.mode).lower()
        distribution = "uniform" if spec.uniform else "truncated_normal"
        return lambda: tf_keras.initializers.VarianceScaling(spec.factor, mode, distribution,
                                                             seed=next(seeds))
    raise InputError("hyperparams: an initializer is required (truncated_normal_initializer, "
                     "random_normal_initializer or variance_scaling_initializer)")


def _regularizer(regularizer):
    """Keras kernel regulariser equal to slim's (l2: weight x sum(w^2) / 2), None if zero."""
    kind = regularizer.WhichOneof("regularizer_oneof")
    if kind == "l2_regularizer" and regularizer.l2_regularizer.weight:
        return tf_keras.regularizers.L2(0.5 * regularizer.l2_regularizer.weight)
    if kind == "l1_regularizer" and regularizer.l1_regularizer.weight:
        return tf_keras.regularizers.L1(regularizer.l1_regularizer.weight)
    return None


def build_model(model_config, seed=0, xla_compatible=False):
    """The Faster R-CNN a ``DetectionModel`` (or ``FasterRcnn``) proto describes.

    Parameters
    ----------
    model_config : protos.model_pb2.DetectionModel or protos.faster_rcnn_pb2.FasterRcnn
        ``pipeline_config.model``.
    seed : int
        Seed of the weight initialisers and of the anchor / proposal sampling.
    xla_compatible : bool
        Build a model whose ``loss`` and ``detect`` compile with XLA (``jit_compile=True``):
        see :class:`deepcee.model.faster_rcnn.FasterRCNN`.

    Returns
    -------
    deepcee.model.faster_rcnn.FasterRCNN

    Raises
    ------
    data_prep.base.errors.InputError
        For a config this model does not implement (another feature extractor or resizer,
        more than one class, batch norm in the RPN hyperparams, ...).
    """
    config = (model_config.faster_rcnn if model_config.DESCRIPTOR.name == "DetectionModel"
              else model_config)
    problems = model_problems(config)
    if problems:
        field, message = problems[0]
        raise InputError(f"model.faster_rcnn.{field}: {message}")
    resizer = config.image_resizer.fixed_shape_resizer
    anchor = config.first_stage_anchor_generator.grid_anchor_generator
    rpn_hyperparams = config.first_stage_box_predictor_conv_hyperparams
    box_predictor = config.second_stage_box_predictor.mask_rcnn_box_predictor
    post = config.second_stage_post_processing
    nms = post.batch_non_max_suppression
    coder = config.box_coder
    settings = FasterRCNNSettings(
        batch_statistics_at_inference=config.feature_extractor.batch_statistics_at_inference,
        image_height=resizer.height, image_width=resizer.width,
        resize_method=_RESIZE_METHODS[resizer.resize_method],
        anchor_scales=tuple(anchor.scales), anchor_aspect_ratios=tuple(anchor.aspect_ratios),
        anchor_base_size=(float(anchor.height), float(anchor.width)),
        anchor_stride=(anchor.height_stride, anchor.width_stride),
        anchor_offset=(anchor.height_offset, anchor.width_offset),
        clip_anchors_to_image=config.clip_anchors_to_image,
        first_stage_minibatch_size=config.first_stage_minibatch_size,
        first_stage_positive_balance_fraction=config.first_stage_positive_balance_fraction,
        first_stage_positive_iou_threshold=config.first_stage_positive_iou_threshold,
        first_stage_negative_iou_threshold=config.first_stage_negative_iou_threshold,
        first_stage_nms_score_threshold=config.first_stage_nms_score_threshold,
        first_stage_nms_iou_threshold=config.first_stage_nms_iou_threshold,
        first_stage_max_proposals=config.first_stage_max_proposals,
        first_stage_localization_loss_weight=config.first_stage_localization_loss_weight,
        first_stage_objectness_loss_weight=config.first_stage_objectness_loss_weight,
        initial_crop_size=config.initial_crop_size,
        maxpool_kernel_size=config.maxpool_kernel_size,
        maxpool_stride=config.maxpool_stride,
        second_stage_batch_size=config.second_stage_batch_size,
        second_stage_balance_fraction=config.second_stage_balance_fraction,
        second_stage_positive_iou_threshold=config.second_stage_positive_iou_threshold,
        second_stage_negative_iou_threshold=config.second_stage_negative_iou_threshold,
        second_stage_nms_score_threshold=nms.score_threshold,
        second_stage_nms_iou_threshold=nms.iou_threshold,
        max_detections_per_class=nms.max_detections_per_class,
        max_total_detections=nms.max_total_detections,
        score_converter=post_processing_pb2.PostProcessing.ScoreConverter.Name(
            post.score_converter),
        logit_scale=post.logit_scale,
        second_stage_localization_loss_weight=config.second_stage_localization_loss_weight,
        second_stage_classification_loss_weight=config.second_stage_classification_loss_weight,
    )

    seeds = itertools.count(seed)
    extractor = config.feature_extractor
    inception = dict(train_batch_norm=extractor.batch_norm_trainable,
                     batch_norm_decay=extractor.batch_norm_decay,
                     depth_multiplier=extractor.depth_multiplier, min_depth=extractor.min_depth,
                     batch_statistics_at_inference=extractor.batch_statistics_at_inference)
    feature_network = InceptionV2FeatureNetwork(**inception, seed=seed)
    rpn = RegionProposalNetwork(
        len(anchor.scales) * len(anchor.aspect_ratios),
        depth=config.first_stage_box_predictor_depth,
        kernel_size=config.first_stage_box_predictor_kernel_size,
        atrous_rate=config.first_stage_atrous_rate,
        initializer=_initializer_factory(rpn_hyperparams.initializer, seeds),
        regularizer=_regularizer(rpn_hyperparams.regularizer))
    box_classifier = BoxClassifier(
        num_classes=config.num_classes,
        initializer=_initializer_factory(box_predictor.fc_hyperparams.initializer, seeds),
        regularizer=_regularizer(box_predictor.fc_hyperparams.regularizer),
        dropout_keep_probability=(box_predictor.dropout_keep_probability
                                  if box_predictor.use_dropout else None),
        **inception, seed=seed)
    box_coder = BoxCoder((coder.y_scale, coder.x_scale, coder.height_scale, coder.width_scale))
    return FasterRCNN(settings, feature_network, rpn, box_classifier, box_coder, seed=seed,
                      xla_compatible=xla_compatible)
