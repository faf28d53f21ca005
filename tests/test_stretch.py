"""The square-root stretch of Deep-CEE §2.2 (data_prep.deepcee_data.stretch), against hand-computed values."""
import numpy as np
import pytest

from data_prep.deepcee_data.stretch import band_limits, rgb_image, sqrt_stretch


def test_sqrt_stretch_hand_values():
    image = np.array([[0.0, 1.0, 2.0], [5.0, 9.0, np.nan]])
    # (x - 1) / 4 clipped to [0, 1], square root: 0, 0, sqrt(1/4), 1, 1; NaN -> 0
    expected = np.array([[0.0, 0.0, 0.5], [1.0, 1.0, 0.0]])
    np.testing.assert_allclose(sqrt_stretch(image, 1.0, 5.0), expected, atol=1e-7)
    assert sqrt_stretch(image, 1.0, 5.0).dtype == np.float32


def test_band_limits_hand_values():
    image = np.arange(100, dtype=float).reshape(10, 10)
    # no pixel of 0..99 is 3 sigma from the median 49.5; 99.5 % of 0..99 interpolates 98.505
    lower, upper = band_limits(image, lower_sigma=0.0, upper_percentile=99.5, sample_step=1)
    assert lower == pytest.approx(49.5)
    assert upper == pytest.approx(98.505)
    # + 1 sigma: the population standard deviation of 0..99 is sqrt((100^2 - 1) / 12)
    lower, _ = band_limits(image, lower_sigma=1.0, upper_percentile=99.5, sample_step=1)
    assert lower == pytest.approx(49.5 + np.sqrt((100**2 - 1) / 12))


def test_band_limits_sky_ignores_bright_sources_and_nan():
    image = np.ones((40, 40))
    image[:, 1::2] = 3.0      # sky: half 1, half 3 -> median 2
    image[0, 0] = 1e6         # a star and a bad pixel, one of each sky value: sigma-clipped
    image[0, 1] = -1e6
    image[5, :] = np.nan      # a row without data
    lower, upper = band_limits(image, upper_percentile=100.0, sample_step=1)
    assert lower == pytest.approx(2.0)
    assert upper == pytest.approx(1e6)


def test_flat_or_empty_band_is_an_error():
    with pytest.raises(ValueError, match="dynamic range"):
        band_limits(np.ones((8, 8)))
    with pytest.raises(ValueError, match="finite"):
        band_limits(np.full((8, 8), np.nan))


def test_rgb_channels_are_i_r_g_and_8_bit():
    ramp = np.tile(np.linspace(0.0, 4.0, 16), (16, 1))  # median 2 (lower), maximum 4 (upper)
    bands = {"i": ramp, "r": ramp.T.copy(), "g": ramp[::-1, ::-1].copy()}
    rgb, limits = rgb_image(bands, upper_percentile=100.0, lower_sigma=0.0, sample_step=1)
    assert rgb.dtype == np.uint8 and rgb.shape == (16, 16, 3)
    for channel, band in enumerate(("i", "r", "g")):
        lower, upper = limits[band]
        assert lower == pytest.approx(2.0) and upper == pytest.approx(4.0)
        expected = np.rint(255 * np.sqrt(np.clip((bands[band] - 2.0) / 2.0, 0, 1)))
        np.testing.assert_array_equal(rgb[..., channel], expected)
    # the brightest column of i is the right edge: full red there, none on the left half
    assert rgb[0, -1, 0] == 255 and rgb[0, 0, 0] == 0
