"""Photometric augmentations: the ways one survey's colour images differ from another's.

Each takes an image ``[H, W, 3]`` float32 in 0..255, its boxes (returned unchanged) and a
stateless seed ``[2]`` (int64), draws its parameters from that seed only, and returns the
image clipped to 0..255. Names and parameters are those of the OD API's preprocessor
(``random_adjust_brightness`` ...) where it has the operation, with its defaults; the OD API
works on 0..1 images, so its fractions are fractions of 255 here. ``random_channel_gain``,
``random_gaussian_blur`` and ``random_gaussian_noise`` are this project's extensions: another
band calibration, worse seeing, a shallower image (``protos/preprocessor.proto``).
"""
import math

import tensorflow as tf

FULL_SCALE = 255.0


def _uniform(seed, low, high, shape=()):
    return tf.random.stateless_uniform(shape, seed=seed, minval=low, maxval=high)


def _substream(seed, k):
    """An independent seed for the ``k``-th draw of one augmentation."""
    return tf.stack([seed[0], seed[1] * 8 + k])


def _clip(image):
    return tf.clip_by_value(image, 0.0, FULL_SCALE)


def random_pixel_value_scale(image, boxes, seed, minval=0.9, maxval=1.1):
    """Each pixel times its own factor from ``[minval, maxval]``."""
    return _clip(image * _uniform(seed, minval, maxval, tf.shape(image))), boxes


def random_rgb_to_gray(image, boxes, seed, probability=0.1):
    """The grey image (luma, in all three channels) with ``probability``."""
    gray = tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))
    return tf.cond(_uniform(seed, 0.0, 1.0) < probability, lambda: gray, lambda: image), boxes


def random_adjust_brightness(image, boxes, seed, max_delta=0.2):
    """Every pixel plus one value from ``[-max_delta, max_delta]`` x 255."""
    return _clip(image + FULL_SCALE * _uniform(seed, -max_delta, max_delta)), boxes


def random_adjust_contrast(image, boxes, seed, min_delta=0.8, max_delta=1.25):
    """Each channel's deviation from its mean times a factor from ``[min_delta, max_delta]``."""
    return _clip(tf.image.adjust_contrast(image, _uniform(seed, min_delta, max_delta))), boxes


def random_adjust_saturation(image, boxes, seed, min_delta=0.8, max_delta=1.25):
    """The HSV saturation times a factor from ``[min_delta, max_delta]``."""
    scaled = tf.image.adjust_saturation(image / FULL_SCALE, _uniform(seed, min_delta, max_delta))
    return _clip(scaled * FULL_SCALE), boxes


def random_channel_gain(image, boxes, seed, max_gain_delta=0.2, max_offset=0.05):
    """Per channel: times a gain from ``1 +- max_gain_delta``, plus an offset from
    ``+- max_offset`` x 255."""
    gain = _uniform(_substream(seed, 0), 1.0 - max_gain_delta, 1.0 + max_gain_delta, [3])
    offset = FULL_SCALE * _uniform(_substream(seed, 1), -max_offset, max_offset, [3])
    return _clip(image * gain + offset), boxes


def gaussian_blur(image, sigma_px, radius):
    """``image`` [H, W, C] convolved with a normalised Gaussian of ``sigma_px`` (> 0) pixels,
    truncated at ``radius`` pixels (an int), edges reflected."""
    x = tf.range(-radius, radius + 1, dtype=tf.float32)
    kernel = tf.exp(-0.5 * tf.square(x / sigma_px))
    kernel /= tf.reduce_sum(kernel)
    channels = tf.shape(image)[-1]
    padded = tf.pad(image[tf.newaxis], [[0, 0], [radius, radius], [radius, radius], [0, 0]],
                    mode="REFLECT")
    rows = tf.tile(tf.reshape(kernel, [-1, 1, 1, 1]), [1, 1, channels, 1])
    cols = tf.tile(tf.reshape(kernel, [1, -1, 1, 1]), [1, 1, channels, 1])
    out = tf.nn.depthwise_conv2d(padded, rows, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(out, cols, [1, 1, 1, 1], "VALID")[0]


def blur_radius(max_sigma_px):
    """Kernel half-width (px) for sigmas up to ``max_sigma_px``: 3 sigma, at least 4 px."""
    return max(4, math.ceil(3 * max_sigma_px))


def random_gaussian_blur(image, boxes, seed, probability=0.5, max_sigma_px=1.5):
    """With ``probability``, blurred by a Gaussian of sigma from ``(0, max_sigma_px]`` px."""
    sigma = _uniform(_substream(seed, 1), 0.05 * max_sigma_px, max_sigma_px)
    blurred = tf.cond(_uniform(_substream(seed, 0), 0.0, 1.0) < probability,
                      lambda: gaussian_blur(image, sigma, blur_radius(max_sigma_px)),
                      lambda: image)
    return _clip(blurred), boxes


def random_gaussian_noise(image, boxes, seed, probability=0.5, max_stddev=0.05):
    """With ``probability``, plus Gaussian noise of a standard deviation from
    ``[0, max_stddev]`` x 255."""
    stddev = FULL_SCALE * _uniform(_substream(seed, 1), 0.0, max_stddev)
    noise = stddev * tf.random.stateless_normal(tf.shape(image), seed=_substream(seed, 2))
    noisy = tf.cond(_uniform(_substream(seed, 0), 0.0, 1.0) < probability,
                    lambda: image + noise, lambda: image)
    return _clip(noisy), boxes


PHOTOMETRIC = {"random_pixel_value_scale": random_pixel_value_scale,
               "random_rgb_to_gray": random_rgb_to_gray,
               "random_adjust_brightness": random_adjust_brightness,
               "random_adjust_contrast": random_adjust_contrast,
               "random_adjust_saturation": random_adjust_saturation,
               "random_channel_gain": random_channel_gain,
               "random_gaussian_blur": random_gaussian_blur,
               "random_gaussian_noise": random_gaussian_noise}
"""OD API preprocessor name (or this project's extension) -> augmentation."""
