"""The model's OD API checkpoint names (deepcee/model/odapi_names.py) against a reference made
by tf_slim, the library the OD API's feature extractor is written in.

The reference is the variable list of ``tf_slim.nets.inception_v2.inception_v2_base`` built
as the OD API's ``FasterRCNNInceptionV2FeatureExtractor`` builds it for the
``faster_rcnn_inception_v2_coco`` checkpoint (Deep-CEE §2.1.1):

- first stage: ``inception_v2_base(final_endpoint='Mixed_4e')`` in the scope
  ``FirstStageFeatureExtractor/InceptionV2``;
- second stage: the Mixed_5a, 5b and 5c blocks in ``SecondStageFeatureExtractor/InceptionV2``.
  The OD API writes these three blocks out in its own module; they are slim's blocks of the
  same names and depths, fed by the 576-channel Mixed_4e crops, so the reference takes them
  from ``inception_v2_base(final_endpoint='Mixed_5c')`` and keeps only their variables;
- every convolution with batch norm (``batch_norm_scale=True``: beta, gamma, moving mean and
  variance; no bias), ``depth_multiplier`` 1.0 and ``min_depth`` 16 (the OD API's defaults,
  which the paper's config keeps: the config format has no field for them).

``slim.batch_norm`` cannot be built under TensorFlow 2.20 (it needs
``tf_keras.legacy_tf_layers``, which tf_keras 2.20 does not ship), so the reference passes a
stand-in normaliser that creates the four variables ``slim.batch_norm(scale=True)`` creates,
with the same names (``<conv scope>/BatchNorm/...``) and shape ([output channels]); the
convolution weights are slim's own. Only names and shapes are made: nothing is run.
"""
import pytest

import tensorflow as tf

from deepcee.model.builder import build_model
from deepcee.model.odapi_names import odapi_variable_map
from helpers import PAPER_CONFIG, parse_pipeline_config

slim = pytest.importorskip("tf_slim")
inception_v2 = pytest.importorskip("tf_slim.nets.inception_v2")
pytestmark = pytest.mark.filterwarnings("ignore:`layer.apply` is deprecated:UserWarning")

DEPTH_MULTIPLIER = 1.0
MIN_DEPTH = 16
STAGES = {"FirstStageFeatureExtractor": "Mixed_4e", "SecondStageFeatureExtractor": "Mixed_5c"}
HEADS = {"Conv/weights", "Conv/biases",
         "FirstStageBoxPredictor/BoxEncodingPredictor/weights",
         "FirstStageBoxPredictor/BoxEncodingPredictor/biases",
         "FirstStageBoxPredictor/ClassPredictor/weights",
         "FirstStageBoxPredictor/ClassPredictor/biases",
         "SecondStageBoxPredictor/BoxEncodingPredictor/weights",
         "SecondStageBoxPredictor/BoxEncodingPredictor/biases",
         "SecondStageBoxPredictor/ClassPredictor/weights",
         "SecondStageBoxPredictor/ClassPredictor/biases"}
"""The RPN's 3x3 conv and the two box predictors: not Inception-v2 (test_model.py checks
their shapes)."""


def _batch_norm_variables(inputs):
    """Stand-in for ``slim.batch_norm(scale=True)``: its variables, no computation."""
    channels = inputs.shape[-1]
    with tf.compat.v1.variable_scope("BatchNorm"):
        for name in ("beta", "gamma", "moving_mean", "moving_variance"):
            tf.compat.v1.get_variable(name, [channels], tf.float32,
                                      initializer=tf.compat.v1.zeros_initializer())
    return inputs


def reference_variables():
    """{OD API checkpoint name: shape} of the two Inception-v2 stages, built by tf_slim."""
    graph = tf.Graph()
    with graph.as_default():
        # seeded: deepcee train switches op determinism on for the rest of the process
        tf.compat.v1.set_random_seed(0)
        images = tf.compat.v1.placeholder(tf.float32, [1, 224, 224, 3])
        with slim.arg_scope([slim.conv2d, slim.separable_conv2d],
                            normalizer_fn=_batch_norm_variables):
            for stage, final_endpoint in STAGES.items():
                with tf.compat.v1.variable_scope(stage), \
                        tf.compat.v1.variable_scope("InceptionV2") as scope:
                    inception_v2.inception_v2_base(images, final_endpoint=final_endpoint,
                                                   min_depth=MIN_DEPTH,
                                                   depth_multiplier=DEPTH_MULTIPLIER,
                                                   scope=scope)
        variables = {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()}
    return {name: shape for name, shape in variables.items()
            if name.startswith("FirstStageFeatureExtractor/") or "/InceptionV2/Mixed_5" in name}


@pytest.fixture(scope="module")
def reference():
    return reference_variables()


@pytest.fixture(scope="module")
def paper_names():
    """{OD API name: variable} of the model built from the paper's config. Its variables are
    made by one detection pass on a blank 256 px image (256 px and 8 proposals instead of
    1000 px and 300: no variable's shape depends on either)."""
    config = parse_pipeline_config(PAPER_CONFIG).model
    frcnn = config.faster_rcnn
    frcnn.image_resizer.fixed_shape_resizer.height = 256
    frcnn.image_resizer.fixed_shape_resizer.width = 256
    frcnn.first_stage_max_proposals = 8
    frcnn.second_stage_batch_size = 8
    model = build_model(config)
    model.detect(tf.zeros([1, 256, 256, 3]))
    return odapi_variable_map(model)


def test_the_reference_is_slims_inception_v2(reference):
    """A check on the reference itself, so that an empty or partial build cannot pass the
    coverage test below: both stages, every block, the separable first conv."""
    first = {n for n in reference if n.startswith("FirstStageFeatureExtractor/")}
    second = set(reference) - first
    blocks = {n.split("/")[2] for n in first}
    assert blocks == {"Conv2d_1a_7x7", "Conv2d_2b_1x1", "Conv2d_2c_3x3", "Mixed_3b",
                      "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e"}
    assert {n.split("/")[2] for n in second} == {"Mixed_5a", "Mixed_5b", "Mixed_5c"}
    # Conv2d_1a_7x7 is separable: depthwise 7x7 of multiplier min(64 / 3, 8) = 8, then 1x1
    assert reference["FirstStageFeatureExtractor/InceptionV2/Conv2d_1a_7x7/depthwise_weights"] \
        == [7, 7, 3, 8]
    assert reference["FirstStageFeatureExtractor/InceptionV2/Conv2d_1a_7x7/pointwise_weights"] \
        == [1, 1, 24, 64]
    # Mixed_5a reads the 576 channels of Mixed_4e; Mixed_5c ends with 352 + 320 + 224 + 128
    assert reference["SecondStageFeatureExtractor/InceptionV2/Mixed_5a/Branch_0/"
                     "Conv2d_0a_1x1/weights"] == [1, 1, 576, 128]
    assert reference["SecondStageFeatureExtractor/InceptionV2/Mixed_5c/Branch_3/"
                     "Conv2d_0b_1x1/BatchNorm/gamma"] == [128]
    assert not any(n.endswith("/biases") for n in reference)
    weights = [n for n in reference if n.endswith("weights")]
    batch_norms = [n for n in reference if "/BatchNorm/" in n]
    assert len(batch_norms) == 4 * (len(weights) - 1)  # one per conv, the separable pair one


def test_every_reference_variable_has_its_name_and_shape_in_the_map(reference, paper_names):
    missing = {name: shape for name, shape in reference.items() if name not in paper_names}
    assert not missing, f"{len(missing)} OD API variables not in odapi_variable_map: {missing}"
    mismatched = {name: (shape, paper_names[name].shape.as_list())
                  for name, shape in reference.items()
                  if paper_names[name].shape.as_list() != shape}
    assert not mismatched, f"(reference shape, model shape) differ: {mismatched}"


def test_the_map_names_nothing_else(reference, paper_names):
    """Every name outside the reference is one of the RPN and box-predictor heads, so a
    checkpoint loader looks for no Inception-v2 variable the OD API does not have."""
    assert set(paper_names) - set(reference) == HEADS
