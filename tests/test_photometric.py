"""The photometric augmentations (``deepcee.training.photometric``): each changes the image in
the direction its name says, within its parameters, from its seed alone; none is on in the
paper's configs; a nonsensical parameter is refused at its line of the config."""
import numpy as np
import pytest
import tensorflow as tf

from data_prep.base.errors import InputError
from deepcee.config import load_pipeline_config
from deepcee.training import photometric, train
from helpers import PAPER_CONFIG, TINY_CONFIG, write_pipeline_config

BOXES = tf.constant([[0.2, 0.3, 0.6, 0.7]])


def sky(seed=0, size=48):
    """A colour image 0..255: a noisy sky of distinct band levels and two bright 'galaxies'."""
    rng = np.random.default_rng(seed)
    image = rng.normal([40.0, 60.0, 80.0], 6.0, (size, size, 3))
    image[10:14, 10:14] += [80.0, 70.0, 40.0]
    image[30:32, 25:27] += [30.0, 50.0, 80.0]
    return tf.constant(np.clip(image, 0, 255), tf.float32)


def apply(name, seed=(3, 7), image=None, **parameters):
    image = sky() if image is None else image
    out, boxes = photometric.PHOTOMETRIC[name](image, BOXES, tf.constant(seed, tf.int64),
                                               **parameters)
    np.testing.assert_array_equal(boxes.numpy(), BOXES.numpy())
    out = out.numpy()
    assert out.shape == image.shape and out.min() >= 0 and out.max() <= 255
    return image.numpy(), out


@pytest.mark.parametrize("name", sorted(photometric.PHOTOMETRIC))
def test_each_is_a_function_of_its_seed(name):
    parameters = {"probability": 1.0} if name in ("random_rgb_to_gray", "random_gaussian_blur",
                                                  "random_gaussian_noise") else {}
    _, a = apply(name, (3, 7), **parameters)
    _, b = apply(name, (3, 7), **parameters)
    np.testing.assert_array_equal(a, b)
    others = [apply(name, (3, k), **parameters)[1] for k in range(8, 12)]
    if name != "random_rgb_to_gray":  # deterministic once applied
        assert any(not np.array_equal(a, other) for other in others)


def test_brightness_adds_one_value_within_max_delta():
    image, out = apply("random_adjust_brightness", max_delta=0.1)
    shift = (out - image)[(out > 0) & (out < 255)]  # not clipped
    assert np.ptp(shift) < 1e-3 and 0 < abs(shift.mean()) <= 25.5 + 1e-3


def test_contrast_scales_each_bands_deviation_by_one_factor():
    image, out = apply("random_adjust_contrast", min_delta=0.5, max_delta=0.6)
    deviation = image - image.mean((0, 1))
    factors = ((out - out.mean((0, 1))) / deviation)[np.abs(deviation) > 5]
    assert np.ptp(factors) < 1e-3 and 0.5 <= factors[0] <= 0.6


def test_rgb_to_gray_makes_the_bands_equal_with_its_probability():
    image, out = apply("random_rgb_to_gray", probability=1.0)
    np.testing.assert_allclose(out[..., 0], out[..., 2], atol=1e-4)
    assert np.allclose(apply("random_rgb_to_gray", probability=0.0)[1], image)


def test_saturation_below_one_brings_the_bands_together():
    image, out = apply("random_adjust_saturation", min_delta=0.3, max_delta=0.4)
    assert np.ptp(out, axis=2).mean() < 0.45 * np.ptp(image, axis=2).mean()


def test_channel_gain_gives_each_band_its_own_gain_and_offset():
    image, out = apply("random_channel_gain", max_gain_delta=0.3, max_offset=0.0)
    gains = (out / image).reshape(-1, 3)
    assert np.allclose(gains, gains[0], atol=1e-4)  # one gain per band, none per pixel
    assert np.all(np.abs(gains[0] - 1) <= 0.3 + 1e-6) and len(set(np.round(gains[0], 4))) == 3
    _, shifted = apply("random_channel_gain", max_gain_delta=0.0, max_offset=0.05)
    offsets = (shifted - image).reshape(-1, 3)
    assert np.allclose(offsets, offsets[0], atol=1e-3) and np.all(np.abs(offsets[0]) <= 12.75)


def test_blur_spreads_light_and_keeps_the_flux():
    image, out = apply("random_gaussian_blur", probability=1.0, max_sigma_px=2.0)
    inner = (slice(6, 18), slice(6, 18))
    assert out[inner].sum() == pytest.approx(image[inner].sum(), rel=0.02)
    assert out[10:14, 10:14].max() < image[10:14, 10:14].max()
    assert np.abs(np.diff(out, axis=0)).mean() < np.abs(np.diff(image, axis=0)).mean()
    assert np.array_equal(apply("random_gaussian_blur", probability=0.0)[1], image)


def test_noise_raises_the_scatter_of_a_flat_sky():
    flat = tf.fill([64, 64, 3], 100.0)
    _, out = apply("random_gaussian_noise", image=flat, probability=1.0, max_stddev=0.1)
    assert 0 < out.std() <= 25.5 * 1.1 and out.mean() == pytest.approx(100, abs=1.0)


def test_pixel_value_scale_draws_a_factor_per_pixel():
    image, out = apply("random_pixel_value_scale", minval=0.9, maxval=1.1)
    ratio = out / image
    assert ratio.min() >= 0.9 - 1e-5 and ratio.max() <= 1.1 + 1e-5 and ratio.std() > 0.03


@pytest.mark.parametrize("config", [PAPER_CONFIG, TINY_CONFIG])
def test_the_papers_configs_use_no_photometric_augmentation(config):
    names = {name for name, _ in train.augmentations(load_pipeline_config(config).train_config)}
    assert names == {"random_horizontal_flip"}


def test_a_photometric_option_in_a_config_reaches_the_pipeline_with_its_defaults(tmp_path):
    path = write_pipeline_config(tmp_path / "robust.config", replace=[(
        "  data_augmentation_options {\n    random_horizontal_flip {\n    }\n  }",
        "  data_augmentation_options {\n    random_horizontal_flip {\n    }\n  }\n"
        "  data_augmentation_options {\n    random_adjust_contrast {\n      max_delta: 1.5\n"
        "    }\n  }")])
    steps = train.augmentations(load_pipeline_config(path).train_config)
    assert steps[1][0] == "random_adjust_contrast"
    assert steps[1][1] == pytest.approx({"min_delta": 0.8, "max_delta": 1.5})


@pytest.mark.parametrize("step, message", [
    ("random_gaussian_noise {\n      probability: 1.5\n    }", "probability 1.5 must lie"),
    ("random_adjust_contrast {\n      min_delta: 2.0\n    }", "min_delta 2 and max_delta 1.25"),
    ("random_channel_gain {\n      max_gain_delta: 1.0\n    }", "must be below 1"),
    ("random_gaussian_blur {\n      max_sigma_px: -1\n    }", "max_sigma_px -1 must be >= 0")])
def test_nonsensical_parameters_are_refused_at_their_line(tmp_path, step, message):
    path = write_pipeline_config(tmp_path / "bad.config", replace=[(
        "    random_horizontal_flip {\n    }", "    " + step)])
    with pytest.raises(InputError, match=f"bad.config:\\d+: .*{message}"):
        load_pipeline_config(path)
