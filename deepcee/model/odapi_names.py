"""OD API checkpoint names of the model's variables, to load the TF Object Detection API's
``faster_rcnn_inception_v2_coco`` weights (Deep-CEE §2.1.1: transfer learning from COCO).

Names follow the OD API graph: ``FirstStageFeatureExtractor/InceptionV2/<block>/...`` and
``SecondStageFeatureExtractor/InceptionV2/Mixed_5*/...`` (slim ``inception_v2`` scopes;
``weights`` or ``depthwise_weights`` / ``pointwise_weights`` and ``BatchNorm/gamma|beta|
moving_mean|moving_variance``: the OD API feature extractor sets ``batch_norm_scale=True``),
``Conv/weights|biases`` (the RPN's 3x3 conv, created without a scope),
``FirstStageBoxPredictor/{BoxEncodingPredictor,ClassPredictor}/weights|biases`` and
``SecondStageBoxPredictor/{BoxEncodingPredictor,ClassPredictor}/weights|biases``.
Kernel layouts of slim and Keras are the same, so values load unchanged.
"""
import tf_keras

from deepcee.model.checkpoint import create_weights
from deepcee.model.inception_v2 import ConvBatchNormRelu


def _conv_batch_norm_names(layer):
    conv, batch_norm = layer.conv, layer.batch_norm
    if isinstance(conv, tf_keras.layers.SeparableConv2D):
        names = {"depthwise_weights": conv.depthwise_kernel,
                 "pointwise_weights": conv.pointwise_kernel}
    else:
        names = {"weights": conv.kernel}
    names.update({"BatchNorm/gamma": batch_norm.gamma, "BatchNorm/beta": batch_norm.beta,
                  "BatchNorm/moving_mean": batch_norm.moving_mean,
                  "BatchNorm/moving_variance": batch_norm.moving_variance})
    return {f"{layer.odapi_name}/{key}": variable for key, variable in names.items()}


def _kernel_bias_names(owner):
    names = {}
    for attribute, scope in owner.odapi_scopes.items():
        layer = getattr(owner, attribute)
        names[f"{scope}/weights"] = layer.kernel
        names[f"{scope}/biases"] = layer.bias
    return names


def odapi_variable_map(model):
    """Map OD API checkpoint variable names to the model's variables.

    Parameters
    ----------
    model : deepcee.model.faster_rcnn.FasterRCNN
        Built on first use: if its layers have no variables yet, one detection pass on a
        blank image creates them.

    Returns
    -------
    dict
        {OD API variable name: tf.Variable}, one entry per convolution, batch-norm and
        fully-connected variable of the model.
    """
    create_weights(model)
    names = {}
    for layer in model.submodules:
        if isinstance(layer, ConvBatchNormRelu):
            names.update(_conv_batch_norm_names(layer))
    names.update(_kernel_bias_names(model.rpn))
    names.update(_kernel_bias_names(model.box_classifier))
    return names

