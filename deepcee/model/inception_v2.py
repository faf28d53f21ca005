"""Inception-v2 (Ioffe & Szegedy 2015) in tf_keras, split the way Faster R-CNN uses it.

Deep-CEE §2.1.1 and Figure 1: the feature network is Inception-v2 up to ``Mixed_4e``
(output stride 16, 576 channels); the blocks ``Mixed_5a``-``Mixed_5c`` run on every cropped
proposal in the detection network (OD API ``FasterRCNNInceptionV2FeatureExtractor``).

The architecture and names follow ``tf_slim.nets.inception_v2`` and the OD API feature
extractor: every convolution is conv (no bias) -> batch norm (centre and scale, decay 0.9997,
epsilon 0.001) -> ReLU, 'SAME' padding; the first convolution is separable (depthwise
multiplier 8). The OD API freezes batch norm (moving statistics, no updates) unless
``batch_norm_trainable``; gamma and beta stay trainable either way, as in slim. Weights are
initialised as slim does (Xavier-uniform, or the truncated normals slim names per layer); each
initialiser is seeded from the layer's OD API name, so a model is reproducible.
"""
import zlib

import tensorflow as tf
import tf_keras

#: one branch op: a convolution (name, depth, kernel, stride, truncated-normal stddev or None
#: for Xavier) or a 3x3 pooling (name, stride); pooling names start with AvgPool / MaxPool
MIXED_BLOCKS = {
    "Mixed_3b": ((("Conv2d_0a_1x1", 64, 1, 1, None),),
                 (("Conv2d_0a_1x1", 64, 1, 1, 0.09), ("Conv2d_0b_3x3", 64, 3, 1, None)),
                 (("Conv2d_0a_1x1", 64, 1, 1, 0.09), ("Conv2d_0b_3x3", 96, 3, 1, None),
                  ("Conv2d_0c_3x3", 96, 3, 1, None)),
                 (("AvgPool_0a_3x3", 1), ("Conv2d_0b_1x1", 32, 1, 1, 0.1))),
    "Mixed_3c": ((("Conv2d_0a_1x1", 64, 1, 1, None),),
                 (("Conv2d_0a_1x1", 64, 1, 1, 0.09), ("Conv2d_0b_3x3", 96, 3, 1, None)),
                 (("Conv2d_0a_1x1", 64, 1, 1, 0.09), ("Conv2d_0b_3x3", 96, 3, 1, None),
                  ("Conv2d_0c_3x3", 96, 3, 1, None)),
                 (("AvgPool_0a_3x3", 1), ("Conv2d_0b_1x1", 64, 1, 1, 0.1))),
    "Mixed_4a": ((("Conv2d_0a_1x1", 128, 1, 1, 0.09), ("Conv2d_1a_3x3", 160, 3, 2, None)),
                 (("Conv2d_0a_1x1", 64, 1, 1, 0.09), ("Conv2d_0b_3x3", 96, 3, 1, None),
                  ("Conv2d_1a_3x3", 96, 3, 2, None)),
                 (("MaxPool_1a_3x3", 2),)),
    "Mixed_4b": ((("Conv2d_0a_1x1", 224, 1, 1, None),),
                 (("Conv2d_0a_1x1", 64, 1, 1, 0.09), ("Conv2d_0b_3x3", 96, 3, 1, None)),
                 (("Conv2d_0a_1x1", 96, 1, 1, 0.09), ("Conv2d_0b_3x3", 128, 3, 1, None),
                  ("Conv2d_0c_3x3", 128, 3, 1, None)),
                 (("AvgPool_0a_3x3", 1), ("Conv2d_0b_1x1", 128, 1, 1, 0.1))),
    "Mixed_4c": ((("Conv2d_0a_1x1", 192, 1, 1, None),),
                 (("Conv2d_0a_1x1", 96, 1, 1, 0.09), ("Conv2d_0b_3x3", 128, 3, 1, None)),
                 (("Conv2d_0a_1x1", 96, 1, 1, 0.09), ("Conv2d_0b_3x3", 128, 3, 1, None),
                  ("Conv2d_0c_3x3", 128, 3, 1, None)),
                 (("AvgPool_0a_3x3", 1), ("Conv2d_0b_1x1", 128, 1, 1, 0.1))),
    "Mixed_4d": ((("Conv2d_0a_1x1", 160, 1, 1, None),),
                 (("Conv2d_0a_1x1", 128, 1, 1, 0.09), ("Conv2d_0b_3x3", 160, 3, 1, None)),
                 (("Conv2d_0a_1x1", 128, 1, 1, 0.09), ("Conv2d_0b_3x3", 160, 3, 1, None),
                  ("Conv2d_0c_3x3", 160, 3, 1, None)),
                 (("AvgPool_0a_3x3", 1), ("Conv2d_0b_1x1", 96, 1, 1, 0.1))),
    "Mixed_4e": ((("Conv2d_0a_1x1", 96, 1, 1, None),),
                 (("Conv2d_0a_1x1", 128, 1, 1, 0.09), ("Conv2d_0b_3x3", 192, 3, 1, None)),
                 (("Conv2d_0a_1x1", 160, 1, 1, 0.09), ("Conv2d_0b_3x3", 192, 3, 1, None),
                  ("Conv2d_0c_3x3", 192, 3, 1, None)),
                 (("AvgPool_0a_3x3", 1), ("Conv2d_0b_1x1", 96, 1, 1, 0.1))),
    "Mixed_5a": ((("Conv2d_0a_1x1", 128, 1, 1, 0.09), ("Conv2d_1a_3x3", 192, 3, 2, None)),
                 (("Conv2d_0a_1x1", 192, 1, 1, 0.09), ("Conv2d_0b_3x3", 256, 3, 1, None),
                  ("Conv2d_1a_3x3", 256, 3, 2, None)),
                 (("MaxPool_1a_3x3", 2),)),
    "Mixed_5b": ((("Conv2d_0a_1x1", 352, 1, 1, None),),
                 (("Conv2d_0a_1x1", 192, 1, 1, 0.09), ("Conv2d_0b_3x3", 320, 3, 1, None)),
                 (("Conv2d_0a_1x1", 160, 1, 1, 0.09), ("Conv2d_0b_3x3", 224, 3, 1, None),
                  ("Conv2d_0c_3x3", 224, 3, 1, None)),
                 (("AvgPool_0a_3x3", 1), ("Conv2d_0b_1x1", 128, 1, 1, 0.1))),
    "Mixed_5c": ((("Conv2d_0a_1x1", 352, 1, 1, None),),
                 (("Conv2d_0a_1x1", 192, 1, 1, 0.09), ("Conv2d_0b_3x3", 320, 3, 1, None)),
                 (("Conv2d_0a_1x1", 192, 1, 1, 0.09), ("Conv2d_0b_3x3", 224, 3, 1, None),
                  ("Conv2d_0c_3x3", 224, 3, 1, None)),
                 (("MaxPool_0a_3x3", 1), ("Conv2d_0b_1x1", 128, 1, 1, 0.1))),
}
FIRST_STAGE_BLOCKS = ("Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d",
                      "Mixed_4e")
SECOND_STAGE_BLOCKS = ("Mixed_5a", "Mixed_5b", "Mixed_5c")


def _initializer(stddev, odapi_name, seed):
    """slim's initialiser for a convolution: truncated normal(stddev) or Xavier uniform."""
    seed = (seed + zlib.crc32(odapi_name.encode())) % 2**31
    if stddev is None:
        return tf_keras.initializers.GlorotUniform(seed=seed)
    return tf_keras.initializers.TruncatedNormal(stddev=stddev, seed=seed)


class ConvBatchNormRelu(tf_keras.layers.Layer):
    """slim ``conv2d`` (or ``separable_conv2d``) with batch norm and ReLU.

    Parameters
    ----------
    odapi_name : str
        The layer's OD API variable scope, e.g.
        ``FirstStageFeatureExtractor/InceptionV2/Mixed_4e/Branch_0/Conv2d_0a_1x1``.
    depth, kernel_size, stride : int
        Output channels, square kernel size, stride.
    stddev : float or None
        Truncated-normal stddev of the weights; None for Xavier uniform.
    depthwise_multiplier : int or None
        If set, a separable convolution with this depthwise channel multiplier.
    train_batch_norm : bool
        Use batch statistics and update the moving ones when called with ``training=True``.
    batch_norm_decay : float
        Decay of the moving statistics (slim / OD API: 0.9997).
    batch_statistics_at_inference : bool
        At inference too, normalise with the statistics of the batch (as training does)
        instead of the moving ones; the moving statistics are kept but not used.
    seed : int
    """

    def __init__(self, odapi_name, depth, kernel_size, stride=1, stddev=None,
                 depthwise_multiplier=None, train_batch_norm=False, batch_norm_decay=0.9997,
                 batch_statistics_at_inference=False, seed=0, **kwargs):
        super().__init__(name=odapi_name.split("/", 2)[-1].replace("/", "_"), **kwargs)
        self.odapi_name = odapi_name
        self.train_batch_norm = train_batch_norm
        self.batch_statistics_at_inference = batch_statistics_at_inference
        initializer = _initializer(stddev, odapi_name, seed)
        if depthwise_multiplier:
            self.conv = tf_keras.layers.SeparableConv2D(
                depth, kernel_size, strides=stride, padding="same",
                depth_multiplier=depthwise_multiplier, use_bias=False,
                depthwise_initializer=initializer, pointwise_initializer=initializer,
                name="conv")
        else:
            self.conv = tf_keras.layers.Conv2D(depth, kernel_size, strides=stride,
                                               padding="same", use_bias=False,
                                               kernel_initializer=initializer, name="conv")
        self.batch_norm = tf_keras.layers.BatchNormalization(
            momentum=batch_norm_decay, epsilon=0.001, center=True, scale=True, name="BatchNorm")

    def call(self, inputs, training=False):
        net = self.conv(inputs)
        if self.batch_statistics_at_inference and not training:
            if not self.batch_norm.built:
                self.batch_norm.build(net.shape)
            values = tf.cast(net, tf.float32)  # float32, as Keras does under mixed precision
            mean, variance = tf.nn.moments(values, axes=[0, 1, 2])
            net = tf.cast(tf.nn.batch_normalization(
                values, mean, variance, tf.cast(self.batch_norm.beta, tf.float32),
                tf.cast(self.batch_norm.gamma, tf.float32), self.batch_norm.epsilon), net.dtype)
        else:
            net = self.batch_norm(net, training=bool(training) and self.train_batch_norm)
        return tf_keras.activations.relu(net)


def _pool(name, stride):
    pool = (tf_keras.layers.AveragePooling2D if name.startswith("AvgPool")
            else tf_keras.layers.MaxPooling2D)
    return pool(pool_size=3, strides=stride, padding="same")


class MixedBlock(tf_keras.layers.Layer):
    """One Inception mixed block: parallel branches concatenated along channels.

    Parameters
    ----------
    scope : str
        OD API scope of the block, e.g. ``SecondStageFeatureExtractor/InceptionV2/Mixed_5a``.
    branches : tuple
        The block's entry of :data:`MIXED_BLOCKS`.
    depth : callable
        Maps a nominal depth to the built one (depth multiplier and minimum depth).
    train_batch_norm, batch_norm_decay, batch_statistics_at_inference, seed
        See :class:`ConvBatchNormRelu`.
    """

    def __init__(self, scope, branches, depth, train_batch_norm=False, batch_norm_decay=0.9997,
                 batch_statistics_at_inference=False, seed=0, **kwargs):
        super().__init__(name=scope.rsplit("/", 1)[-1], **kwargs)
        self.branches = []
        for index, ops in enumerate(branches):
            layers = []
            for op in ops:
                if len(op) == 2:
                    layers.append(_pool(*op))
                else:
                    name, nominal_depth, kernel_size, stride, stddev = op
                    layers.append(ConvBatchNormRelu(
                        f"{scope}/Branch_{index}/{name}", depth(nominal_depth), kernel_size,
                        stride, stddev, train_batch_norm=train_batch_norm,
                        batch_norm_decay=batch_norm_decay,
                        batch_statistics_at_inference=batch_statistics_at_inference, seed=seed))
            self.branches.append(layers)

    def call(self, inputs, training=False):
        outputs = []
        for layers in self.branches:
            net = inputs
            for layer in layers:
                net = layer(net, training=training)
            outputs.append(net)
        return tf_keras.layers.concatenate(outputs, axis=-1)


def _depth_fn(depth_multiplier, min_depth):
    return lambda nominal: max(int(nominal * depth_multiplier), min_depth)


class InceptionV2FeatureNetwork(tf_keras.layers.Layer):
    """Inception-v2 from the image to ``Mixed_4e``: the feature network (stride 16).

    Parameters
    ----------
    train_batch_norm : bool
        ``batch_norm_trainable`` of the config (OD API default False: frozen statistics).
    batch_norm_decay : float
        ``batch_norm_decay`` of the config (OD API: 0.9997).
    batch_statistics_at_inference : bool
        ``batch_statistics_at_inference`` of the config (see :class:`ConvBatchNormRelu`).
    depth_multiplier, min_depth : float, int
        As in the OD API feature extractor (1.0 and 16 there).
    seed : int
        Base seed of the weight initialisers.

    Notes
    -----
    Input: float [B, H, W, 3] scaled to [-1, 1]. Output: [B, ceil(H/16), ceil(W/16),
    576 x depth_multiplier].
    """

    scope = "FirstStageFeatureExtractor/InceptionV2"

    def __init__(self, train_batch_norm=False, batch_norm_decay=0.9997, depth_multiplier=1.0,
                 min_depth=16, batch_statistics_at_inference=False, seed=0, **kwargs):
        super().__init__(name="FirstStageFeatureExtractor", **kwargs)
        depth = _depth_fn(depth_multiplier, min_depth)
        conv = dict(train_batch_norm=train_batch_norm, batch_norm_decay=batch_norm_decay,
                    batch_statistics_at_inference=batch_statistics_at_inference, seed=seed)
        self.stem = [
            ConvBatchNormRelu(f"{self.scope}/Conv2d_1a_7x7", depth(64), 7, 2, 1.0,
                              depthwise_multiplier=min(int(depth(64) / 3), 8), **conv),
            _pool("MaxPool_2a_3x3", 2),
            ConvBatchNormRelu(f"{self.scope}/Conv2d_2b_1x1", depth(64), 1, 1, 0.1, **conv),
            ConvBatchNormRelu(f"{self.scope}/Conv2d_2c_3x3", depth(192), 3, 1, None, **conv),
            _pool("MaxPool_3a_3x3", 2),
        ]
        self.blocks = [MixedBlock(f"{self.scope}/{name}", MIXED_BLOCKS[name], depth, **conv)
                       for name in FIRST_STAGE_BLOCKS]

    def call(self, images, training=False):
        net = images
        for layer in self.stem:
            net = layer(net, training=training)
        for block in self.blocks:
            net = block(net, training=training)
        return net


class InceptionV2BoxClassifierNetwork(tf_keras.layers.Layer):
    """Inception-v2 ``Mixed_5a``-``Mixed_5c`` applied to every cropped proposal.

    Parameters are those of :class:`InceptionV2FeatureNetwork`. Input: [K, 7, 7, 576] pooled
    crops; output [K, 4, 4, 1024 x depth_multiplier].
    """

    scope = "SecondStageFeatureExtractor/InceptionV2"

    def __init__(self, train_batch_norm=False, batch_norm_decay=0.9997, depth_multiplier=1.0,
                 min_depth=16, batch_statistics_at_inference=False, seed=0, **kwargs):
        super().__init__(name="SecondStageFeatureExtractor", **kwargs)
        depth = _depth_fn(depth_multiplier, min_depth)
        self.blocks = [MixedBlock(f"{self.scope}/{name}", MIXED_BLOCKS[name], depth,
                                  train_batch_norm=train_batch_norm,
                                  batch_norm_decay=batch_norm_decay,
                                  batch_statistics_at_inference=batch_statistics_at_inference,
                                  seed=seed)
                       for name in SECOND_STAGE_BLOCKS]

    def call(self, crops, training=False):
        net = crops
        for block in self.blocks:
            net = block(net, training=training)
        return net
