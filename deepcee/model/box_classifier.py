"""Detection network (Deep-CEE §2.1.3, Figure 1; OD API second stage).

Each proposal is cut from the ``Mixed_4e`` feature map with ``crop_and_resize`` to 14x14 and
max-pooled 2x2 / 2 to 7x7 (the paper's ROI pooling, footnote 8); the Inception-v2 blocks
``Mixed_5a``-``Mixed_5c`` turn each crop into features that are averaged over space, and two
fully-connected layers give 2 class logits (background, cluster) and 4 refined box codes
(OD API ``MaskRCNNBoxPredictor`` for one class).
"""
import tensorflow as tf
import tf_keras

from deepcee.model.inception_v2 import InceptionV2BoxClassifierNetwork


def gather_crop_and_resize(features, boxes, crop_size):
    """``tf.image.crop_and_resize`` (bilinear, extrapolation value 0) written with gathers, so
    that XLA can compile it (it has no CropAndResize kernel). Slower on the CPU than the
    native op.

    Parameters
    ----------
    features : tf.Tensor
        [B, h, w, C] with static h, w.
    boxes : tf.Tensor
        float32 [B, P, 4] normalised corners (0 and 1 = first and last cell centres).
    crop_size : int

    Returns
    -------
    tf.Tensor
        float32 [B * P, crop_size, crop_size, C].
    """
    height, width = features.shape[1], features.shape[2]
    steps = (tf.linspace(0.0, 1.0, crop_size) if crop_size > 1
             else tf.constant([0.5]))

    def sample_points(low, high, size):
        points = (low[..., None] + (high - low)[..., None] * steps) * (size - 1)
        lower = tf.floor(points)
        first = tf.clip_by_value(tf.cast(lower, tf.int32), 0, size - 1)
        second = tf.clip_by_value(first + 1, 0, size - 1)
        inside = (points >= 0.0) & (points <= size - 1)
        return first, second, points - lower, inside

    boxes = tf.cast(boxes, tf.float32)
    features = tf.cast(features, tf.float32)
    top, bottom, y_weight, y_inside = sample_points(boxes[..., 0], boxes[..., 2], height)
    left, right, x_weight, x_inside = sample_points(boxes[..., 1], boxes[..., 3], width)
    shape = tf.concat([tf.shape(boxes)[:2], [crop_size, crop_size]], axis=0)
    batch_index = tf.broadcast_to(tf.range(shape[0])[:, None, None, None], shape)

    def at(rows, columns):
        indices = tf.stack([batch_index, tf.broadcast_to(rows[..., :, None], shape),
                            tf.broadcast_to(columns[..., None, :], shape)], axis=-1)
        return tf.gather_nd(features, indices)

    x_weight = x_weight[..., None, :, None]
    y_weight = y_weight[..., :, None, None]
    upper = at(top, left) * (1.0 - x_weight) + at(top, right) * x_weight
    lower = at(bottom, left) * (1.0 - x_weight) + at(bottom, right) * x_weight
    crops = upper * (1.0 - y_weight) + lower * y_weight
    crops = tf.where((y_inside[..., :, None] & x_inside[..., None, :])[..., None], crops, 0.0)
    return tf.reshape(crops, [-1, crop_size, crop_size, features.shape[-1]])


def crop_proposal_features(features, proposals_normalized, crop_size, pool_kernel, pool_stride,
                           xla_compatible=False):
    """ROI features: bilinear crop-and-resize then max-pool (OD API
    ``_compute_second_stage_input_feature_maps``).

    Parameters
    ----------
    features : tf.Tensor
        [B, h, w, C] feature map.
    proposals_normalized : tf.Tensor
        float32 [B, P, 4] corners as fractions of the resized image (``crop_and_resize``
        convention: 0 and 1 are the centres of the first and last feature-map cells).
    crop_size : int
        initial_crop_size (14).
    pool_kernel, pool_stride : int
        maxpool_kernel_size, maxpool_stride (2, 2; 'VALID' padding as slim's default).
    xla_compatible : bool
        Use :func:`gather_crop_and_resize` (same values) instead of the native op.

    Returns
    -------
    tf.Tensor
        [B * P, crop_size / pool_stride, ..., C] in the features' dtype.
    """
    if xla_compatible:
        crops = gather_crop_and_resize(features, proposals_normalized, crop_size)
    else:
        batch_size = tf.shape(proposals_normalized)[0]
        num_proposals = tf.shape(proposals_normalized)[1]
        box_indices = tf.repeat(tf.range(batch_size), num_proposals)
        crops = tf.image.crop_and_resize(features, tf.reshape(proposals_normalized, [-1, 4]),
                                         box_indices, [crop_size, crop_size])
    crops = tf.nn.max_pool2d(crops, pool_kernel, pool_stride, padding="VALID")
    return tf.cast(crops, features.dtype)


class BoxClassifier(tf_keras.layers.Layer):
    """Mixed_5 blocks, spatial average, and the FC class / box predictors.

    Parameters
    ----------
    num_classes : int
        Object classes, background excluded (1: galaxy cluster).
    initializer : callable
        Returns a fresh FC kernel initialiser (variance scaling, uniform, fan_avg, in the paper).
    regularizer : tf_keras.regularizers.Regularizer or None
        FC kernel regulariser.
    dropout_keep_probability : float or None
        Keep probability of dropout before the FC layers (use_dropout), None for none.
    train_batch_norm, batch_norm_decay, depth_multiplier, min_depth,
    batch_statistics_at_inference, seed
        Passed to :class:`deepcee.model.inception_v2.InceptionV2BoxClassifierNetwork`.
    """

    #: OD API variable scopes of the two FC layers
    odapi_scopes = {"box_encoding": "SecondStageBoxPredictor/BoxEncodingPredictor",
                    "class_predictor": "SecondStageBoxPredictor/ClassPredictor"}

    def __init__(self, num_classes=1, initializer=None, regularizer=None,
                 dropout_keep_probability=None, train_batch_norm=False, batch_norm_decay=0.9997,
                 depth_multiplier=1.0, min_depth=16, batch_statistics_at_inference=False,
                 seed=0, **kwargs):
        super().__init__(name="BoxClassifier", **kwargs)
        self.num_classes = num_classes
        self.feature_network = InceptionV2BoxClassifierNetwork(
            train_batch_norm=train_batch_norm, batch_norm_decay=batch_norm_decay,
            depth_multiplier=depth_multiplier, min_depth=min_depth,
            batch_statistics_at_inference=batch_statistics_at_inference, seed=seed)
        self.dropout = (tf_keras.layers.Dropout(1.0 - dropout_keep_probability, seed=seed)
                        if dropout_keep_probability is not None else None)

        def dense(units, name):
            return tf_keras.layers.Dense(units, kernel_initializer=initializer(),
                                         bias_initializer="zeros",
                                         kernel_regularizer=regularizer, name=name)

        self.box_encoding = dense(4 * num_classes, "BoxEncodingPredictor")
        self.class_predictor = dense(num_classes + 1, "ClassPredictor")

    def call(self, crops, training=False):
        """Class logits and box codes of every crop.

        Parameters
        ----------
        crops : tf.Tensor
            [K, 7, 7, C] pooled proposal features.

        Returns
        -------
        box_encodings : tf.Tensor
            float32 [K, num_classes, 4].
        class_logits : tf.Tensor
            float32 [K, num_classes + 1] (index 0 = background).
        """
        net = self.feature_network(crops, training=training)
        net = tf.reduce_mean(net, axis=[1, 2])
        if self.dropout is not None:
            net = self.dropout(net, training=training)
        box_encodings = tf.reshape(self.box_encoding(net), [-1, self.num_classes, 4])
        return tf.cast(box_encodings, tf.float32), tf.cast(self.class_predictor(net), tf.float32)
