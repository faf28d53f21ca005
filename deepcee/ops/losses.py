"""Faster R-CNN training losses (Deep-CEE §2.1.2-2.1.3, eqs. 1-3; OD API ``_loss_rpn`` and
``_loss_box_classifier``).

Each stage has a softmax cross-entropy classification loss over its sampled anchors or
proposals and a smooth-L1 (Huber, delta 1, summed over the four box codes) localisation loss
over the positive ones. The RPN losses of an image are divided by the number of anchors sampled
for it (256 when there are enough); the box-classifier losses by the number of proposals sampled
for it (64). Both are then averaged over the images of the batch and multiplied by the config's
loss weights (eq. 3's alpha and beta). Everything is computed in float32.
"""
import tensorflow as tf


def smooth_l1(predictions, targets):
    """Smooth-L1 loss (eq. 2) summed over the last axis (the box codes).

    Parameters
    ----------
    predictions, targets : tf.Tensor
        [..., 4] box codes.

    Returns
    -------
    tf.Tensor
        float32 [...]: sum of the Huber loss (delta 1) of x = prediction - target, i.e. of
        0.5 x^2 where |x| < 1 and |x| - 0.5 elsewhere.
    """
    per_code = tf.compat.v1.losses.huber_loss(
        tf.cast(targets, tf.float32), tf.cast(predictions, tf.float32), delta=1.0,
        loss_collection=None, reduction=tf.compat.v1.losses.Reduction.NONE)
    return tf.reduce_sum(per_code, axis=-1)


def softmax_cross_entropy(logits, labels):
    """Softmax cross-entropy (eq. 1) of integer labels.

    Parameters
    ----------
    logits : tf.Tensor
        [..., C] unnormalised class scores (index 0 = background).
    labels : tf.Tensor
        int or bool [...] target class.

    Returns
    -------
    tf.Tensor
        float32 [...]: minus the log-softmax of each label's logit.
    """
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32),
                                                          logits=tf.cast(logits, tf.float32))


def rpn_losses(box_encodings, objectness_logits, targets, sampled):
    """Unweighted RPN localisation and objectness losses.

    Parameters
    ----------
    box_encodings : tf.Tensor
        [B, N, 4] predicted anchor codes.
    objectness_logits : tf.Tensor
        [B, N, 2] background / object logits.
    targets : deepcee.ops.target_assigner.Targets
        Targets of the N anchors.
    sampled : tf.Tensor
        bool [B, N] the anchor minibatch.

    Returns
    -------
    localization, objectness : tf.Tensor
        float32 scalars.
    """
    sampled = tf.cast(sampled, tf.float32)
    normalizer = tf.maximum(tf.reduce_sum(sampled, axis=1), 1.0)
    localization = smooth_l1(box_encodings, targets.reg_targets) * sampled * targets.reg_weights
    objectness = softmax_cross_entropy(objectness_logits, targets.positive) * sampled
    return (tf.reduce_mean(tf.reduce_sum(localization, axis=1) / normalizer),
            tf.reduce_mean(tf.reduce_sum(objectness, axis=1) / normalizer))


def box_classifier_losses(box_encodings, class_logits, targets, num_proposals):
    """Unweighted box-classifier localisation and classification losses.

    Parameters
    ----------
    box_encodings : tf.Tensor
        [B, P, 4] refined box codes relative to the proposals.
    class_logits : tf.Tensor
        [B, P, 2] background / cluster logits.
    targets : deepcee.ops.target_assigner.Targets
        Targets of the P (padded) proposals.
    num_proposals : tf.Tensor
        int32 [B] number of real proposals; the rest is padding.

    Returns
    -------
    localization, classification : tf.Tensor
        float32 scalars.
    """
    num_slots = tf.shape(class_logits)[1]
    real = tf.cast(tf.range(num_slots)[None, :] < num_proposals[:, None], tf.float32)
    normalizer = tf.maximum(tf.cast(num_proposals, tf.float32), 1.0)[:, None]
    localization = smooth_l1(box_encodings, targets.reg_targets) * targets.reg_weights
    classification = (softmax_cross_entropy(class_logits, targets.positive)
                      * targets.cls_weights)
    return (tf.reduce_mean(tf.reduce_sum(localization * real / normalizer, axis=1)),
            tf.reduce_mean(tf.reduce_sum(classification * real / normalizer, axis=1)))
