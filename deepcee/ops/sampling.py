"""Balanced positive / negative minibatch sampling (OD API ``BalancedPositiveNegativeSampler``).

Deep-CEE §2.1.2-2.1.3: the RPN loss uses 256 anchors per image, at most half of them positive;
the box classifier 64 proposals per image, at most a quarter positive. Positives are drawn at
random up to ``int(positive_fraction x sample_size)``; negatives, drawn at random, fill the rest
of the sample. The draws are stateless: the same seed gives the same sample.
"""
import tensorflow as tf


def _random_subset(candidates, count, max_count, seed):
    """Mask of ``min(count, #candidates)`` candidates drawn without replacement.

    ``count`` is an int32 [B] tensor no larger than the Python int ``max_count``.
    """
    keys = tf.random.stateless_uniform(tf.shape(candidates), seed=seed)
    keys = tf.where(candidates, keys, -1.0)
    k = min(max_count, candidates.shape[-1])
    values, indices = tf.math.top_k(keys, k=k, sorted=True)
    rank = tf.range(k)[None, :]
    chosen = (values >= 0.0) & (rank < count[:, None])
    batch = tf.broadcast_to(tf.range(tf.shape(indices)[0])[:, None], tf.shape(indices))
    scatter_at = tf.stack([batch, indices], axis=-1)
    return tf.scatter_nd(scatter_at, tf.cast(chosen, tf.int32), tf.shape(candidates)) > 0


def balanced_sample(candidates, positive, sample_size, positive_fraction, seed):
    """Draw a balanced minibatch from each image's candidates.

    Parameters
    ----------
    candidates : tf.Tensor
        bool [B, N]; entries that may be sampled (e.g. not ignored, not padding).
    positive : tf.Tensor
        bool [B, N]; positive (object) label of each entry.
    sample_size : int
        Entries per image (first_stage_minibatch_size or second_stage_batch_size).
    positive_fraction : float
        Largest fraction of positives in the sample.
    seed : tf.Tensor
        int32/int64 [2] seed of the stateless random draws.

    Returns
    -------
    tf.Tensor
        bool [B, N]; the sampled entries: min(#positives, int(fraction x size)) positives
        and up to ``sample_size`` minus that many negatives.
    """
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    max_positives = int(positive_fraction * sample_size)
    batch_size = tf.shape(candidates)[0]
    sampled_positive = _random_subset(candidates & positive,
                                      tf.fill([batch_size], max_positives),
                                      max_positives, seeds[0])
    num_negatives = sample_size - tf.reduce_sum(tf.cast(sampled_positive, tf.int32), axis=1)
    sampled_negative = _random_subset(candidates & ~positive, num_negatives, sample_size,
                                      seeds[1])
    return sampled_positive | sampled_negative


def take_selected(selected, size):
    """Indices of the selected entries in their original order, padded to a fixed size.

    Parameters
    ----------
    selected : tf.Tensor
        bool [B, N].
    size : int
        Output length (at most N).

    Returns
    -------
    indices : tf.Tensor
        int32 [B, size]; the first ``count`` hold the selected entries, in order; the rest
        point at unselected entries and are padding.
    count : tf.Tensor
        int32 [B] number of selected entries, at most ``size``.
    """
    order = tf.argsort(tf.cast(~selected, tf.int32), axis=1, stable=True)
    count = tf.minimum(tf.reduce_sum(tf.cast(selected, tf.int32), axis=1), size)
    return order[:, :size], count
