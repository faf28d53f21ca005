"""The training input pipeline (deepcee/training/inputs.py) on small TFRecords written here."""
import numpy as np
import pytest

import tensorflow as tf

from data_prep.base.errors import InputError
from deepcee.training import inputs
from deepcee.training.photometric import PHOTOMETRIC
from helpers import record_bytes, write_tfrecord


def write_records(path, n, size=32, start=0):
    """``n`` records: image k has a bright square at a k-dependent place and that box."""
    records = []
    for k in range(start, start + n):
        image = np.zeros((size, size, 3), np.uint8)
        x0 = 2 + (k * 3) % (size // 2)
        image[4:12, x0:x0 + 6] = 200 + k % 50
        box = [4 / size, x0 / size, 12 / size, (x0 + 6) / size]
        records.append(record_bytes(image, [box], {"name": [f"c{k}"]},
                                    filename=f"img{k}.png", source_id=str(k)))
    write_tfrecord(path, records)


@pytest.fixture
def shards(tmp_path):
    write_records(tmp_path / "train-00000-of-00002.tfrecord", 5)
    write_records(tmp_path / "train-00001-of-00002.tfrecord", 4, start=5)
    return inputs.resolve_input_paths(["elsewhere/train-?????-of-?????.tfrecord"], tmp_path)


def take(dataset, n):
    return [tuple(t.numpy() for t in batch) for batch in dataset.take(n)]


def test_resolve_uses_data_dir_and_rejects_missing(tmp_path, shards):
    assert [p.split("/")[-1] for p in shards] == ["train-00000-of-00002.tfrecord",
                                                  "train-00001-of-00002.tfrecord"]
    with pytest.raises(InputError, match="make tfrecords"):
        inputs.resolve_input_paths(["test-*.tfrecord"], tmp_path)


def test_batches_have_fixed_shapes_and_padded_boxes(shards):
    images, boxes, valid = take(inputs.training_dataset(shards, batch_size=3, seed=1), 1)[0]
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.float32
    assert boxes.shape == (3, inputs.MAX_BOXES, 4)
    assert valid.tolist() == [[True] + [False] * (inputs.MAX_BOXES - 1)] * 3
    assert np.all(boxes[:, 1:] == 0)


def test_each_epoch_sees_every_record_once(shards):
    batches = take(inputs.training_dataset(shards, 1, seed=3, augmentations=()), 18)
    brightness = [int(b[0].max()) for b in batches]
    assert sorted(brightness[:9]) == list(range(200, 209))
    assert sorted(brightness[9:]) == list(range(200, 209))
    assert brightness[:9] != brightness[9:]  # a new order each epoch


def test_same_seed_same_batches_other_seed_other_order(shards):
    a = take(inputs.training_dataset(shards, 2, seed=7), 6)
    b = take(inputs.training_dataset(shards, 2, seed=7), 6)
    c = take(inputs.training_dataset(shards, 2, seed=8), 6)
    assert all(np.array_equal(x, y) for p, q in zip(a, b) for x, y in zip(p, q))
    assert not all(np.array_equal(p[0], q[0]) for p, q in zip(a, c))


def test_resumed_stream_continues_where_it_stopped(shards):
    full = take(inputs.training_dataset(shards, 2, seed=5), 12)
    resumed = take(inputs.training_dataset(shards, 2, seed=5, start_example=14), 5)
    for p, q in zip(full[7:], resumed):
        for x, y in zip(p, q):
            np.testing.assert_array_equal(x, y)


def test_flip_mirrors_image_and_boxes_together(shards):
    plain = take(inputs.training_dataset(shards, 1, seed=2, augmentations=()), 9)
    flipped = take(inputs.training_dataset(
        shards, 1, seed=2, augmentations=(("random_horizontal_flip", {"probability": 0.5}),)), 9)
    n_flipped = 0
    for (image, boxes, _), (image_f, boxes_f, _) in zip(plain, flipped):
        if np.array_equal(image, image_f):
            np.testing.assert_array_equal(boxes, boxes_f)
            continue
        n_flipped += 1
        np.testing.assert_array_equal(image[:, :, ::-1], image_f)
        ymin, xmin, ymax, xmax = boxes[0, 0]
        np.testing.assert_allclose(boxes_f[0, 0], [ymin, 1 - xmax, ymax, 1 - xmin], atol=1e-6)
        # the flipped box still frames the bright square
        rows, cols = np.nonzero(image_f[0, :, :, 0])
        assert cols.min() == pytest.approx(boxes_f[0, 0, 1] * 32, abs=1e-4)
    assert 0 < n_flipped < 9


def test_flip_helper_is_exact():
    image = tf.reshape(tf.range(12, dtype=tf.float32), [1, 4, 3])
    flipped, boxes = inputs.flip_left_right(image, tf.constant([[0.1, 0.2, 0.5, 0.3]]))
    np.testing.assert_array_equal(flipped.numpy()[0, :, 0], [9, 6, 3, 0])
    np.testing.assert_allclose(boxes.numpy(), [[0.1, 0.7, 0.5, 0.8]], atol=1e-7)


@pytest.mark.parametrize("name", sorted(set(inputs.AUGMENTATIONS) - set(PHOTOMETRIC)))
def test_each_augmentation_moves_boxes_with_the_image(shards, name):
    """With probability 1 every image is transformed, and its box still frames exactly the
    bright square (no stretch, no off-by-one)."""
    plain = take(inputs.training_dataset(shards, 1, seed=4, augmentations=()), 9)
    moved = take(inputs.training_dataset(shards, 1, seed=4, augmentations=((name, {"probability": 1.0}),)), 9)
    for (image, _, _), (image_m, boxes_m, _) in zip(plain, moved):
        assert not np.array_equal(image, image_m)
        assert (image_m > 0).sum() == (image > 0).sum()
        rows, cols = np.nonzero(image_m[0, :, :, 0])
        ymin, xmin, ymax, xmax = boxes_m[0, 0] * 32
        assert (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1) == pytest.approx(
            (ymin, xmin, ymax, xmax), abs=1e-4)


def test_augmentations_are_seeded_and_drawn_apart(shards):
    """The same seed gives the same images; each augmentation has its own draws."""
    both = (("random_vertical_flip", {"probability": 0.5}),
            ("random_rotation90", {"probability": 0.5}))
    a = take(inputs.training_dataset(shards, 1, seed=6, augmentations=both), 9)
    b = take(inputs.training_dataset(shards, 1, seed=6, augmentations=both), 9)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))
    plain = take(inputs.training_dataset(shards, 1, seed=6, augmentations=()), 9)
    vflip = take(inputs.training_dataset(shards, 1, seed=6, augmentations=both[:1]), 9)
    rotated = take(inputs.training_dataset(shards, 1, seed=6, augmentations=both[1:]), 9)
    flipped_at = [not np.array_equal(p[0], v[0]) for p, v in zip(plain, vflip)]
    rotated_at = [not np.array_equal(p[0], r[0]) for p, r in zip(plain, rotated)]
    assert 0 < sum(flipped_at) < 9 and 0 < sum(rotated_at) < 9
    assert flipped_at != rotated_at
