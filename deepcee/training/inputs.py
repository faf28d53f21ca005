"""The training input pipeline: TFRecords (OD API schema) -> batches for ``model.loss``.

Reads the shards named by a config's ``tf_record_input_reader.input_path`` globs, shuffles
them with a seed, decodes in parallel with :func:`data_prep.deepcee_data.tfrecord_schema.decode_example`,
applies the config's ``data_augmentation_options`` in their order (the random horizontal
flip of Deep-CEE §2.1 / FACTS, "random horizontal flip p = 0.5"; the vertical flip and the
90-degree rotation the paper proposes in §4.2; the photometric ones of
:mod:`deepcee.training.photometric`, off unless a config names them), pads the boxes to a fixed number per image,
batches and prefetches.

The order of examples is a pure function of ``(seed, example index)``: epoch ``e`` reads the
shards and the records in an order drawn from ``seed`` and ``e``, and an augmentation of
example ``n`` (its place ``k`` in :data:`AUGMENTATIONS`, whatever the config's order) is drawn from
``(seed + k * AUGMENTATION_SEED_STRIDE, n)``. A resumed run therefore starts its data stream at the
example where the interrupted run stopped (``start_example``), and sees exactly the batches
an uninterrupted run would have seen, without checkpointing the shuffle buffer.
"""
import glob
from pathlib import Path

import tensorflow as tf

from data_prep.base.errors import InputError
from data_prep.deepcee_data.tfrecord_schema import decode_example, read_examples
from deepcee.training.photometric import PHOTOMETRIC

MAX_BOXES = 8
"""Boxes per image after padding (the data set has one cluster per image, a few at most)."""


def resolve_input_paths(patterns, data_dir=None):
    """Expand TFRecord glob patterns into a sorted list of existing files.

    Parameters
    ----------
    patterns : list of str
        ``input_path`` values of a ``tf_record_input_reader`` (globs allowed).
    data_dir : path or None
        When given, each pattern's file-name part is looked up in this directory instead
        of the directory the config names (``deepcee train --data``).
    """
    files = []
    for pattern in patterns:
        if data_dir is not None:
            pattern = str(Path(data_dir) / Path(pattern).name)
        files += glob.glob(pattern)
    if not files:
        where = ", ".join(map(str, patterns)) + (f" in {data_dir}" if data_dir else "")
        raise InputError(f"no TFRecord files match {where}: run 'make tfrecords' first "
                         "or pass --data DIR with the shards")
    return sorted(set(files))


def flip_left_right(image, boxes):
    """Mirror an image [H, W, C] and its normalised ``ymin, xmin, ymax, xmax`` boxes."""
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=-1)
    return tf.image.flip_left_right(image), tf.stack([ymin, 1.0 - xmax, ymax, 1.0 - xmin], -1)


def flip_up_down(image, boxes):
    """Mirror an image [H, W, C] and its normalised boxes top-bottom."""
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=-1)
    return tf.image.flip_up_down(image), tf.stack([1.0 - ymax, xmin, 1.0 - ymin, xmax], -1)


def rotate_90(image, boxes):
    """Rotate an image [H, W, C] and its normalised boxes by 90 degrees anticlockwise (the
    pixel at column x, row y goes to column y, row W - 1 - x)."""
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=-1)
    return tf.image.rot90(image), tf.stack([1.0 - xmax, ymin, 1.0 - xmin, ymax], -1)


def with_probability(transform):
    """The augmentation that applies ``transform(image, boxes)`` with ``probability``."""
    def augment(image, boxes, seed, probability=0.5):
        draw = tf.random.stateless_uniform([], seed=seed)
        return tf.cond(draw < probability, lambda: transform(image, boxes),
                       lambda: (image, boxes))
    return augment


AUGMENTATIONS = {"random_horizontal_flip": with_probability(flip_left_right),
                 "random_vertical_flip": with_probability(flip_up_down),
                 "random_rotation90": with_probability(rotate_90),
                 **PHOTOMETRIC}
"""``data_augmentation_options`` (OD API preprocessor names) -> ``augment(image, boxes, seed,
**parameters) -> (image, boxes)``: the geometric ones here, the photometric ones in
:mod:`deepcee.training.photometric`."""
AUGMENTATION_SEED_STRIDE = 1_000_003


def pad_boxes(boxes, max_boxes=MAX_BOXES):
    """Pad (or cut) boxes [M, 4] to [max_boxes, 4]; return (boxes, valid bool [max_boxes])."""
    boxes = boxes[:max_boxes]
    count = tf.shape(boxes)[0]
    padded = tf.pad(boxes, [[0, max_boxes - count], [0, 0]])
    padded.set_shape([max_boxes, 4])
    return padded, tf.range(max_boxes) < count


def _epoch_records(files, epoch, seed, shuffle_buffer, num_readers):
    """The serialized records of one epoch, in an order drawn from ``(seed, epoch)``.

    The shards are permuted, read interleaved, and the records permuted within consecutive
    blocks of ``shuffle_buffer``; every permutation is stateless, so any epoch can be
    rebuilt from its number alone.
    """
    seed = tf.cast(seed, tf.int64)
    order = tf.random.experimental.stateless_shuffle(tf.constant(files),
                                                     seed=tf.stack([seed, epoch]))
    records = tf.data.Dataset.from_tensor_slices(order).interleave(
        tf.data.TFRecordDataset, cycle_length=num_readers, block_length=1)
    blocks = records.batch(shuffle_buffer).enumerate().map(
        lambda index, block: tf.random.experimental.stateless_shuffle(
            block, seed=tf.stack([seed, epoch * 1_000_003 + index + 1])))
    return blocks.unbatch()


def count_records(files):
    """Number of records in TFRecord files (reads them once)."""
    return int(tf.data.TFRecordDataset(files).reduce(tf.constant(0, tf.int64),
                                                     lambda n, _: n + 1))


def training_dataset(files, batch_size, seed=0,
                     augmentations=(("random_horizontal_flip", {"probability": 0.5}),),
                     start_example=0, shuffle_buffer=256, num_readers=4, max_boxes=MAX_BOXES):
    """An endless, deterministic dataset of training batches.

    Parameters
    ----------
    files : list of str
        TFRecord shards (:func:`resolve_input_paths`).
    batch_size : int
        Images per batch (``train_config.batch_size``; 1 in the paper). All images of a
        split have the same size, so a batch stacks without padding.
    seed : int
        Draws the shard and record order of every epoch and every augmentation.
    augmentations : sequence of (str, dict)
        ``(name in AUGMENTATIONS, parameters)``, applied in this order (the paper: a
        horizontal flip with probability 0.5).
    start_example : int
        Index of the first example to yield (``step * batch_size`` when resuming).
    shuffle_buffer : int
        Records shuffled together within an epoch (``shuffle_buffer_size``).

    Returns
    -------
    tf.data.Dataset of ``(images float32 [B, H, W, 3] 0..255, boxes float32 [B, M, 4]
    normalised ymin, xmin, ymax, xmax, valid bool [B, M])``.
    """
    files = [str(f) for f in files]
    per_epoch = count_records(files)
    if per_epoch == 0:
        raise InputError(f"the TFRecord files {files[0]}... hold no records: rebuild them "
                         "with 'make tfrecords'")
    first_epoch, offset = divmod(int(start_example), per_epoch)
    readers = max(1, min(num_readers, len(files)))
    records = tf.data.Dataset.range(first_epoch, 2**62).flat_map(
        lambda epoch: _epoch_records(files, epoch, seed, shuffle_buffer, readers))
    records = records.skip(offset)
    indexed = tf.data.Dataset.zip(tf.data.Dataset.range(start_example, 2**62), records)

    def prepare(index, serialized):
        example = decode_example(serialized)
        image, boxes = tf.cast(example["image"], tf.float32), example["boxes"]
        for name, parameters in augmentations:
            k = list(AUGMENTATIONS).index(name)
            stream = tf.cast(seed + k * AUGMENTATION_SEED_STRIDE, tf.int64)
            image, boxes = AUGMENTATIONS[name](image, boxes, tf.stack([stream, index]),
                                               **parameters)
        boxes, valid = pad_boxes(boxes, max_boxes)
        return image, boxes, valid

    batches = indexed.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return batches.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def first_example(files):
    """The first decoded example of the first shard (numpy values), or None if empty."""
    return next(read_examples(files[:1]), None)
