"""The Faster R-CNN model end to end on a tiny config: loss keys and weights, gradients
(none through the proposal coordinates), detection outputs, OD API variable names, config
errors."""
import types

import numpy as np
import pytest
from scipy.special import logsumexp

import tensorflow as tf

from data_prep.base.errors import InputError
from deepcee.ops import losses
from deepcee.model.box_classifier import gather_crop_and_resize
from deepcee.model.inception_v2 import InceptionV2FeatureNetwork
from deepcee.model.builder import build_model
from deepcee.model.odapi_names import odapi_variable_map
from deepcee.ops.target_assigner import Targets
from helpers import PAPER_CONFIG, TINY_CONFIG, parse_pipeline_config

LOSS_KEYS = ["Loss/RPNLoss/localization_loss", "Loss/RPNLoss/objectness_loss",
             "Loss/BoxClassifierLoss/localization_loss",
             "Loss/BoxClassifierLoss/classification_loss"]


def small_config(**overrides):
    """The tiny pipeline config at 128 x 128 px with few proposals."""
    config = parse_pipeline_config(TINY_CONFIG)
    frcnn = config.model.faster_rcnn
    frcnn.image_resizer.fixed_shape_resizer.height = 128
    frcnn.image_resizer.fixed_shape_resizer.width = 128
    frcnn.first_stage_max_proposals = 16
    frcnn.second_stage_batch_size = 8
    nms = frcnn.second_stage_post_processing.batch_non_max_suppression
    nms.max_detections_per_class = nms.max_total_detections = 10
    for name, value in overrides.items():
        setattr(frcnn, name, value)
    return config.model


@pytest.fixture(scope="module")
def model():
    return build_model(small_config(), seed=3)


IMAGES = tf.constant(np.random.default_rng(0).uniform(0, 255, (2, 150, 110, 3)), tf.float32)
GT_VALID = tf.constant([[True, False], [True, True]])


@pytest.fixture(scope="module")
def gt_boxes(model):
    """Ground truth on the first RPN proposal of each image, so that the untrained model has
    positive proposals (the OD API does not add ground truth to the proposals)."""
    proposals, _, _ = model.proposals(model.first_stage(IMAGES, training=True))
    first = proposals[:, 0].numpy() / 128.0
    return tf.constant([[first[0], [0, 0, 0, 0]], [first[1], [0.5, 0.5, 0.9, 0.95]]],
                       tf.float32)


def test_loss_keys_weights_and_total(model, gt_boxes):
    loss = model.loss(IMAGES, gt_boxes, GT_VALID)
    assert sorted(loss) == sorted(LOSS_KEYS + ["Loss/total_loss"])
    values = {key: float(value) for key, value in loss.items()}
    assert all(np.isfinite(v) and v >= 0 for v in values.values())
    assert values["Loss/RPNLoss/objectness_loss"] > 0
    assert values["Loss/BoxClassifierLoss/classification_loss"] > 0
    assert values["Loss/BoxClassifierLoss/localization_loss"] > 0
    np.testing.assert_allclose(values["Loss/total_loss"], sum(values[k] for k in LOSS_KEYS),
                               rtol=1e-5)
    assert all(value.dtype == tf.float32 and value.shape == () for value in loss.values())


def test_gradients_reach_every_stage_but_not_proposal_coordinates(model, gt_boxes):
    with tf.GradientTape(persistent=True) as tape:
        loss = model.loss(IMAGES, gt_boxes, GT_VALID)
        classifier = (loss["Loss/BoxClassifierLoss/localization_loss"]
                      + loss["Loss/BoxClassifierLoss/classification_loss"])
    grads = tape.gradient(loss["Loss/total_loss"], model.trainable_variables)
    missing = [v.name for v, g in zip(model.trainable_variables, grads) if g is None]
    assert not missing
    names = odapi_variable_map(model)
    for name in ["FirstStageFeatureExtractor/InceptionV2/Conv2d_1a_7x7/depthwise_weights",
                 "Conv/weights", "FirstStageBoxPredictor/ClassPredictor/weights",
                 "SecondStageFeatureExtractor/InceptionV2/Mixed_5c/Branch_3/Conv2d_0b_1x1/weights",
                 "SecondStageBoxPredictor/BoxEncodingPredictor/weights"]:
        assert float(tf.norm(tape.gradient(loss["Loss/total_loss"], names[name]))) > 0, name
    # the detection network's losses reach the feature network through the cropped features
    backbone = "FirstStageFeatureExtractor/InceptionV2/Mixed_4e/Branch_0/Conv2d_0a_1x1/weights"
    assert float(tf.norm(tape.gradient(classifier, names[backbone]))) > 0
    # ... but not the RPN, whose outputs reach them only as proposal boxes (footnote 7)
    for name in ["Conv/weights", "FirstStageBoxPredictor/BoxEncodingPredictor/weights",
                 "FirstStageBoxPredictor/ClassPredictor/weights"]:
        assert tape.gradient(classifier, names[name]) is None, name


def test_detect_outputs(model):
    detections = model.detect(tf.cast(IMAGES, tf.uint8))
    boxes = detections["detection_boxes"].numpy()
    scores = detections["detection_scores"].numpy()
    count = detections["num_detections"].numpy()
    assert boxes.shape == (2, 10, 4) and scores.shape == (2, 10)
    assert detections["detection_classes"].shape == (2, 10) and count.shape == (2,)
    assert ((boxes >= 0) & (boxes <= 1)).all()
    assert (boxes[..., 2] >= boxes[..., 0]).all() and (boxes[..., 3] >= boxes[..., 1]).all()
    for i, n in enumerate(count.astype(int)):
        assert 1 <= n <= 10
        assert ((scores[i, :n] > 0) & (scores[i, :n] <= 1)).all()
        assert (np.diff(scores[i, :n]) <= 0).all() and (scores[i, n:] == 0).all()
        assert (detections["detection_classes"].numpy()[i, :n] == 1).all()


def test_detect_batch_of_one_with_unknown_size(model):
    serve = tf.function(model.detect,
                        input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32)])
    detections = serve(IMAGES[:1, :100, :90])
    assert detections["detection_boxes"].shape == (1, 10, 4)


def test_training_anchors_stay_inside_the_image(model):
    anchors, kept = model.anchors((8, 8), training=True)
    assert len(anchors) < 8 * 8 * 12 and len(kept) == len(anchors)
    assert (anchors[:, :2] >= 0).all() and (anchors[:, 2:] <= 128).all()
    inference_anchors, _ = model.anchors((8, 8), training=False)
    assert len(inference_anchors) == 8 * 8 * 12


def test_odapi_variable_map_covers_every_variable_once(model):
    names = odapi_variable_map(model)
    model_variables = [v for v in model.variables if "StateVar" not in v.name]
    assert len(names) == len(model_variables)
    assert len({id(v) for v in names.values()}) == len(names)
    assert {id(v) for v in names.values()} == {id(v) for v in model_variables}
    expected_shapes = {
        "FirstStageFeatureExtractor/InceptionV2/Conv2d_1a_7x7/depthwise_weights": [7, 7, 3, 8],
        "FirstStageFeatureExtractor/InceptionV2/Conv2d_1a_7x7/pointwise_weights": [1, 1, 24, 64],
        "FirstStageFeatureExtractor/InceptionV2/Conv2d_1a_7x7/BatchNorm/gamma": [64],
        "FirstStageFeatureExtractor/InceptionV2/Mixed_4e/Branch_3/Conv2d_0b_1x1/weights":
            [1, 1, 576, 96],
        "FirstStageFeatureExtractor/InceptionV2/Mixed_4e/Branch_2/Conv2d_0c_3x3/"
        "BatchNorm/moving_variance": [192],
        "Conv/weights": [3, 3, 576, 512], "Conv/biases": [512],
        "FirstStageBoxPredictor/BoxEncodingPredictor/weights": [1, 1, 512, 48],
        "FirstStageBoxPredictor/ClassPredictor/weights": [1, 1, 512, 24],
        "SecondStageFeatureExtractor/InceptionV2/Mixed_5a/Branch_1/Conv2d_1a_3x3/weights":
            [3, 3, 256, 256],
        "SecondStageFeatureExtractor/InceptionV2/Mixed_5c/Branch_0/Conv2d_0a_1x1/weights":
            [1, 1, 1024, 352],
        "SecondStageBoxPredictor/BoxEncodingPredictor/weights": [1024, 4],
        "SecondStageBoxPredictor/ClassPredictor/biases": [2],
    }
    for name, shape in expected_shapes.items():
        assert names[name].shape.as_list() == shape, name
    convs = [n for n in names if n.endswith("/weights") and "Stage" in n and "Predictor" not in n]
    # slim inception_v2: Conv2d_2b, 2c; 7 per Mixed block, 5 in Mixed_4a and 5a (separable 1a apart)
    assert len(convs) == 2 + 7 * 8 + 5 * 2
    assert not any(n.endswith("/biases") and "InceptionV2" in n for n in names)


@pytest.mark.parametrize("field, value", [("num_classes", 2), ("number_of_stages", 1)])
def test_unsupported_config_is_an_input_error(field, value):
    with pytest.raises(InputError, match=field):
        build_model(small_config(**{field: value}))


def test_anchors_too_large_for_the_image_are_an_input_error():
    config = small_config()
    generator = config.faster_rcnn.first_stage_anchor_generator.grid_anchor_generator
    generator.height = generator.width = 1024           # smallest anchor 256 px > 128 px
    with pytest.raises(InputError, match="no anchor fits"):
        build_model(config)


def test_other_feature_extractor_is_an_input_error():
    config = small_config()
    config.faster_rcnn.feature_extractor.type = "faster_rcnn_resnet101"
    with pytest.raises(InputError, match="feature_extractor"):
        build_model(config)


def test_gather_crop_matches_crop_and_resize():
    rng = np.random.default_rng(2)
    features = tf.constant(rng.normal(size=(2, 9, 7, 5)), tf.float32)
    corner = rng.uniform(-0.3, 1.0, (2, 6, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(-0.1, 0.7, (2, 6, 2))], -1)
    boxes = tf.constant(boxes, tf.float32)
    native = tf.image.crop_and_resize(features, tf.reshape(boxes, [-1, 4]),
                                      tf.repeat(tf.range(2), 6), [4, 4])
    np.testing.assert_allclose(gather_crop_and_resize(features, boxes, 4).numpy(), native.numpy(),
                               atol=1e-5)


def test_weight_initialisation_is_seeded():
    def weights(seed):
        network = InceptionV2FeatureNetwork(seed=seed)
        network(tf.zeros([1, 33, 33, 3]))
        return [w.numpy() for w in network.weights[:6]]
    first, again, other = weights(1), weights(1), weights(2)
    assert all((a == b).all() for a, b in zip(first, again))
    assert any((a != b).any() for a, b in zip(first, other))


@pytest.mark.slow
def test_xla_compatible_model_compiles_and_matches():
    model = build_model(small_config(), xla_compatible=True)
    images = IMAGES[:1]
    reference = model.detect(images)
    compiled = tf.function(model.detect, jit_compile=True)(images)
    np.testing.assert_allclose(compiled["detection_scores"].numpy(),
                               reference["detection_scores"].numpy(), atol=1e-4)
    loss = tf.function(model.loss, jit_compile=True)(
        images, tf.constant([[[0.2, 0.2, 0.8, 0.8]]]), tf.constant([[True]]))
    assert np.isfinite(float(loss["Loss/total_loss"]))


def test_preprocess_resizes_like_the_od_api_and_scales_to_unit_range(model):
    image = tf.constant(np.random.default_rng(4).uniform(0, 255, (1, 50, 70, 3)), tf.float32)
    resized = tf.raw_ops.ResizeBilinear(images=image, size=[128, 128], align_corners=False,
                                        half_pixel_centers=False)
    np.testing.assert_allclose(model.preprocess(image).numpy(),
                               (2.0 / 255.0 * resized - 1.0).numpy(), atol=1e-5)
    full = model.preprocess(tf.fill([1, 128, 128, 3], 255.0))
    np.testing.assert_allclose(full.numpy(), 1.0)


def _iou(box, boxes):
    """IoU of one ``ymin, xmin, ymax, xmax`` box with each of ``boxes`` [N, 4] (0 if empty)."""
    height = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    width = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    overlap = height * width
    union = ((box[2] - box[0]) * (box[3] - box[1])
             + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - overlap)
    return np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)


def _hand_classifier_losses(settings, scale_factors, encodings, logits, count, gt_box):
    """Weighted box-classifier losses of eq. 3 by hand, with one ground-truth box per image
    (pixels): a proposal is positive at IoU >= 0.5 with it (label 1, else background 0), its
    target code the Faster R-CNN one (ty, tx = (centre offset) / size x 10, th, tw =
    log(size ratio) x 5); per image the sum over its real proposals divided by their number,
    averaged over the batch."""
    real = np.arange(logits.shape[1])[None, :] < count[:, None]
    positive = np.zeros(real.shape, bool)
    targets = np.zeros(encodings.shape)
    for b, (boxes, gt) in enumerate(zip(settings.proposals, gt_box)):
        positive[b] = real[b] & (_iou(gt, boxes) >= 0.5)
        for k in np.flatnonzero(positive[b]):
            size, gt_size = boxes[k, 2:] - boxes[k, :2], gt[2:] - gt[:2]
            centre, gt_centre = (boxes[k, :2] + boxes[k, 2:]) / 2, (gt[:2] + gt[2:]) / 2
            targets[b, k] = np.concatenate([(gt_centre - centre) / size * scale_factors[:2],
                                            np.log(gt_size / size) * scale_factors[2:]])
    error = np.abs(encodings - targets)
    smooth_l1 = np.sum(np.where(error < 1, 0.5 * error ** 2, error - 0.5), axis=-1)
    log_p = logits - logsumexp(logits, axis=-1, keepdims=True)
    cross_entropy = -np.where(positive, log_p[..., 1], log_p[..., 0])
    per_proposal = real / np.maximum(count, 1)[:, None]
    return (positive,
            settings.weights[0] * np.mean(np.sum(smooth_l1 * positive * per_proposal, axis=1)),
            settings.weights[1] * np.mean(np.sum(cross_entropy * per_proposal, axis=1)))


def test_eval_mode_loss_scores_every_proposal_against_the_ground_truth(model):
    """training=False scores all inference proposals (no sampling), checked by hand from the
    network's own proposals, codes and logits: ground truth on the top proposal makes the
    proposals it overlaps by IoU >= 0.5 positive, and ground truth far from every proposal
    leaves none (localisation 0, every proposal background)."""
    s = model.settings
    first = model.first_stage(IMAGES, training=False)
    proposals, _, count = model.proposals(first)
    encodings, logits = model.second_stage(first["features"], proposals, training=False)
    proposals, count = proposals.numpy().astype(float), count.numpy()
    encodings, logits = encodings.numpy().astype(float), logits.numpy().astype(float)
    assert (count > 1).all()
    scale = np.array([s.image_height, s.image_width] * 2, np.float32)
    hand = types.SimpleNamespace(proposals=proposals, weights=(
        s.second_stage_localization_loss_weight, s.second_stage_classification_loss_weight))
    scale_factors = np.array(model.box_coder.scale_factors, float)

    def eval_loss(gt_pixels):
        loss = model.loss(IMAGES, tf.constant((gt_pixels / scale)[:, None], tf.float32),
                          tf.constant([[True], [True]]), training=False)
        assert sorted(loss) == sorted(LOSS_KEYS + ["Loss/total_loss"])
        values = {key: float(value) for key, value in loss.items()}
        assert all(np.isfinite(v) and v >= 0 for v in values.values())
        assert values["Loss/RPNLoss/objectness_loss"] > 0
        np.testing.assert_allclose(values["Loss/total_loss"],
                                   sum(values[k] for k in LOSS_KEYS), rtol=1e-5)
        return (values["Loss/BoxClassifierLoss/localization_loss"],
                values["Loss/BoxClassifierLoss/classification_loss"])

    # on: the ground truth is each image's top proposal (stored as float32, as the model has it)
    on_box = proposals[:, 0].astype(np.float32)
    positive, localization, classification = _hand_classifier_losses(
        hand, scale_factors, encodings, logits, count, on_box.astype(float))
    assert positive[:, 0].all() and positive.sum() < count.sum()  # some negatives too
    assert localization > 0
    np.testing.assert_allclose(eval_loss(on_box), (localization, classification), rtol=1e-4)

    # off: a 4 x 4 px box in a corner, IoU < 0.5 with every proposal
    off_box = np.tile(np.array([0, 0, 4, 4], np.float32), (2, 1))
    positive, _, background = _hand_classifier_losses(
        hand, scale_factors, encodings, logits, count, off_box.astype(float))
    assert not positive.any()
    off_localization, off_classification = eval_loss(off_box)
    assert off_localization == 0.0
    np.testing.assert_allclose(off_classification, background, rtol=1e-4)
    assert background != pytest.approx(classification, rel=1e-3)


def _targets(positive, cls_weights, reg_targets):
    positive = tf.constant(positive)
    return Targets(matches=tf.zeros_like(positive, tf.int32), positive=positive,
                   cls_weights=tf.constant(cls_weights, tf.float32),
                   reg_targets=tf.constant(reg_targets, tf.float32),
                   reg_weights=tf.cast(positive, tf.float32))


def test_smooth_l1_hand_values():
    value = losses.smooth_l1(tf.constant([[0.5, -2.0, 0.0, 1.0]]), tf.zeros([1, 4]))
    np.testing.assert_allclose(value.numpy(), [0.125 + 1.5 + 0.0 + 0.5])


def test_cross_entropy_is_minus_the_log_softmax_of_the_label():
    logits = np.array([[2.0, -1.0], [0.5, 3.0], [1.0, 1.0]])
    labels = [False, False, True]
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(
        losses.softmax_cross_entropy(tf.constant(logits, tf.float32), tf.constant(labels)).numpy(),
        -log_softmax[[0, 1, 2], [0, 0, 1]], rtol=1e-6)


def test_rpn_losses_are_normalised_by_the_sampled_count():
    # image 0: 2 sampled (1 positive, code error 0.5 -> 0.125), image 1: 1 sampled negative
    targets = _targets([[True, False, True], [False, False, False]], [[1, 1, 1], [1, 1, 1]],
                       np.zeros((2, 3, 4)))
    encodings = tf.constant([[[0.5, 0, 0, 0], [9, 9, 9, 9], [3, 0, 0, 0]], [[1, 1, 1, 1]] * 3],
                            tf.float32)
    logits = tf.zeros([2, 3, 2])                                       # CE = ln 2 everywhere
    sampled = tf.constant([[True, True, False], [False, True, False]])
    localization, objectness = losses.rpn_losses(encodings, logits, targets, sampled)
    np.testing.assert_allclose(float(localization), (0.125 / 2 + 0.0) / 2, rtol=1e-6)
    np.testing.assert_allclose(float(objectness), (2 * np.log(2) / 2 + np.log(2) / 1) / 2,
                               rtol=1e-6)


def test_box_classifier_losses_skip_padding_and_divide_by_proposals():
    targets = _targets([[True, False, False, True]], [[1, 1, 0, 1]], np.zeros((1, 4, 4)))
    encodings = tf.constant([[[1.0, 0, 0, 0], [5, 5, 5, 5], [0, 0, 0, 0], [7, 7, 7, 7]]])
    logits = tf.zeros([1, 4, 2])
    # three real proposals (the 4th is padding); the 3rd is ignored (weight 0)
    localization, classification = losses.box_classifier_losses(encodings, logits, targets,
                                                                 tf.constant([3]))
    np.testing.assert_allclose(float(localization), 0.5 / 3, rtol=1e-6)
    np.testing.assert_allclose(float(classification), 2 * np.log(2) / 3, rtol=1e-6)


@pytest.mark.slow
def test_mixed_precision_keeps_losses_and_outputs_float32():
    from deepcee.training.train import precision_policy
    with precision_policy(mixed_precision=True):
        model = build_model(small_config())
        loss = model.loss(IMAGES[:1], tf.constant([[[0.2, 0.2, 0.8, 0.8]]]),
                          tf.constant([[True]]))
        detections = model.detect(IMAGES[:1])
    assert model.feature_network.blocks[0].compute_dtype == "float16"
    assert all(v.dtype == tf.float32 and np.isfinite(float(v)) for v in loss.values())
    assert all(v.dtype == tf.float32 for v in detections.values())


def test_paper_config_reaches_the_model():
    model = build_model(parse_pipeline_config(PAPER_CONFIG).model)
    s = model.settings
    assert (s.image_height, s.image_width) == (1000, 1000)
    assert s.anchor_scales == (0.25, 0.5, 1.0, 2.0) and s.anchor_aspect_ratios == (0.5, 1.0, 2.0)
    assert s.anchor_base_size == (256.0, 256.0) and s.anchor_stride == (16, 16)
    assert model.rpn.anchors_per_location == 12
    assert (s.first_stage_positive_iou_threshold, s.first_stage_negative_iou_threshold,
            s.second_stage_positive_iou_threshold) == pytest.approx((0.7, 0.3, 0.5))
    assert (s.first_stage_minibatch_size, s.first_stage_positive_balance_fraction) == (256, 0.5)
    assert (s.first_stage_nms_iou_threshold, s.first_stage_max_proposals) == (
        pytest.approx(0.7), 300)
    assert (s.second_stage_batch_size, s.second_stage_balance_fraction) == (64, 0.25)
    assert (s.initial_crop_size, s.maxpool_kernel_size, s.maxpool_stride) == (14, 2, 2)
    assert (s.second_stage_nms_iou_threshold, s.max_total_detections) == (
        pytest.approx(0.6), 100)
    assert s.score_converter == "SOFTMAX"
    assert (s.first_stage_localization_loss_weight, s.first_stage_objectness_loss_weight,
            s.second_stage_localization_loss_weight,
            s.second_stage_classification_loss_weight) == (2.0, 1.0, 2.0, 1.0)
    assert model.box_coder.scale_factors == (10.0, 10.0, 5.0, 5.0)
    anchors, _ = model.anchors((63, 63), training=False)
    assert len(anchors) == 63 * 63 * 12


def test_batch_norm_settings_come_from_the_config(model):
    """batch_norm_trainable / batch_norm_decay of the config reach every batch-norm layer of
    both Inception stages (the tiny config: trained statistics decaying at 0.99)."""
    layers = [layer for layer in model.submodules if hasattr(layer, "train_batch_norm")]
    assert len(layers) > 50
    assert all(layer.train_batch_norm for layer in layers)
    assert [layer.batch_norm.momentum for layer in layers] == pytest.approx([0.99] * len(layers))
    config = small_config()
    config.faster_rcnn.feature_extractor.ClearField("batch_norm_decay")
    frozen = build_model(config, seed=3)
    frozen.detect(tf.zeros([1, 128, 128, 3]))
    decays = [layer.batch_norm.momentum for layer in frozen.submodules
              if hasattr(layer, "train_batch_norm")]
    assert decays == pytest.approx([0.9997] * len(layers))


def test_batch_statistics_at_inference_normalise_each_image_by_itself():
    """With ``batch_statistics_at_inference`` the inference graph normalises as training with
    batch size 1 does: each image with its own statistics (its detections do not depend on the
    other images of the batch, nor on the moving statistics)."""
    model = build_model(small_config(), seed=3)  # the tiny config sets the option
    both = model.detect(IMAGES)
    alone = model.detect(IMAGES[1:])
    np.testing.assert_allclose(both["detection_scores"][1], alone["detection_scores"][0],
                               atol=1e-5)
    np.testing.assert_allclose(both["detection_boxes"][1], alone["detection_boxes"][0],
                               atol=1e-4)
    image = model.preprocess(IMAGES[:1])
    np.testing.assert_allclose(model.feature_network(image, training=False),
                               model.feature_network(image, training=True), atol=1e-3)
    layers = [layer.batch_norm for layer in model.submodules if hasattr(layer, "batch_norm")]
    for layer in layers:
        layer.moving_mean.assign(tf.fill(layer.moving_mean.shape, 3.0))
    np.testing.assert_allclose(model.detect(IMAGES[1:])["detection_scores"],
                               alone["detection_scores"], atol=1e-5)
    moving_config = small_config()
    moving_config.faster_rcnn.feature_extractor.batch_statistics_at_inference = False
    moving = build_model(moving_config, seed=3)
    before = moving.detect(IMAGES[1:])["detection_scores"]
    for layer in (l.batch_norm for l in moving.submodules if hasattr(l, "batch_norm")):
        layer.moving_mean.assign(tf.fill(layer.moving_mean.shape, 3.0))
    assert not np.allclose(moving.detect(IMAGES[1:])["detection_scores"], before, atol=1e-5)
