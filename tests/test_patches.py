"""Patches of StellarVAE §IV: counts, stride, positions, [0, 1] scaling, blank pixels."""
import numpy as np
import pytest

from data_prep.stellarvae_data.patches import (extract_patches, patch_corners, scale_to_unit,
                              subtract_diffuse_background)


def test_counts_and_stride_follow_50_percent_overlap():
    image = np.random.default_rng(0).random((100, 70)).astype(np.float32)
    for size in (8, 16, 32, 64):
        patches = extract_patches(image, size)
        stride = size // 2
        assert patches.stride == stride
        n_y = (100 - size) // stride + 1
        n_x = (70 - size) // stride + 1
        assert len(patches) == n_y * n_x
        assert patches.pixels.shape == (n_y * n_x, size, size)


def test_positions_point_at_the_pixels_they_hold():
    image = np.arange(64 * 48, dtype=np.float32).reshape(64, 48)
    patches = extract_patches(image, 16)
    assert set(np.unique(patches.rows)) == {0, 8, 16, 24, 32, 40, 48}
    assert set(np.unique(patches.cols)) == {0, 8, 16, 24, 32}
    for k in (0, 5, len(patches) - 1):
        y, x = patches.rows[k], patches.cols[k]
        np.testing.assert_array_equal(patches.pixels[k], image[y:y + 16, x:x + 16])
    assert patches.flat().shape == (len(patches), 256)


def test_corners_stop_before_the_edge():
    np.testing.assert_array_equal(patch_corners(20, 8, 4), [0, 4, 8, 12])
    assert len(patch_corners(7, 8, 4)) == 0


def test_scaling_clips_percentiles_to_unit_interval():
    image = np.linspace(0.0, 1000.0, 10001).reshape(1, -1)
    scaled, blank = scale_to_unit(image, 1.0, 99.0)
    assert scaled.dtype == np.float32
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert not blank.any()
    # 1st percentile = 10, 99th = 990: value 500 maps to (500 - 10) / 980
    assert scaled[0, 5000] == pytest.approx(490.0 / 980.0, rel=1e-5)


def test_nan_pixels_become_zero_and_mostly_blank_patches_are_dropped():
    image = np.ones((32, 32)) * 5.0
    image[:, :10] = np.nan                      # left third blank
    image[0, 20] = 10.0
    scaled, blank = scale_to_unit(image)
    assert np.all(scaled[:, :10] == 0.0) and blank[:, :10].all()
    patches = extract_patches(scaled, 8, blank=blank)
    # patches starting at x = 0 (8/8 blank) and x = 4 (6/8 blank) go, x = 8 (2/8 blank) stays
    assert 0 not in patches.cols and 4 not in patches.cols and 8 in patches.cols
    assert np.isfinite(patches.pixels).all()


def test_all_nan_image_is_refused():
    with pytest.raises(ValueError):
        scale_to_unit(np.full((8, 8), np.nan))


def test_background_subtraction_keeps_stars_and_removes_diffuse_light():
    yy, xx = np.mgrid[0:64, 0:64]
    nebula = 50.0 * np.exp(-((xx - 20) ** 2 + (yy - 40) ** 2) / (2 * 15.0 ** 2)) + 0.5 * xx
    image = nebula.copy()
    image[30, 30] += 100.0
    image[5, 5] = np.nan
    residual = subtract_diffuse_background(image, 9)
    assert residual[30, 30] == pytest.approx(100.0, abs=2.0)
    interior = np.ones_like(image, bool)
    interior[:5, :] = interior[-5:, :] = interior[:, :5] = interior[:, -5:] = False
    interior[25:36, 25:36] = False
    assert np.nanmax(np.abs(residual[interior])) < 2.0      # 50-count nebula nearly gone
    assert np.isnan(residual[5, 5]) and residual.dtype == np.float32
