"""Catalogue baselines (star counts in bins, k-th nearest-neighbour density) on a toy field."""
import numpy as np
import pytest
from astropy.table import Table

from helpers import tan_wcs
from stellarvae.baselines import (baseline_detection, knn_density_map, significance_level,
                                  star_count_map)


def toy_field(n=200, scale=1.0, seed=0):
    wcs = tan_wcs(92.0, 20.6, scale, size=n)
    rng = np.random.default_rng(seed)
    field = rng.uniform(0, n, (150, 2))
    cluster = rng.normal(loc=(140, 60), scale=8.0, size=(80, 2))   # (x, y) px, off-centre
    x, y = np.concatenate([field, cluster]).T
    ra, dec = wcs.pixel_to_world_values(x, y)
    return wcs, Table({"ra": ra, "dec": dec, "kmag": np.full(len(ra), 12.0)})


def test_star_counts_count_stars_in_a_bin_around_each_pixel():
    wcs, _ = toy_field()
    ra, dec = wcs.pixel_to_world_values([50.0, 51.0, 52.0], [50.0, 50.0, 50.0])
    stars = Table({"ra": ra, "dec": dec, "kmag": np.ones(3)})
    counts = star_count_map(stars, wcs, (200, 200), bin_arcsec=11.0)
    assert counts[50, 51] == pytest.approx(3.0, abs=1e-4)
    assert counts[50, 70] == pytest.approx(0.0, abs=1e-4)


def test_knn_density_matches_the_formula_and_coarse_grid_keeps_the_shape():
    wcs, stars = toy_field()
    density = knn_density_map(stars, wcs, (200, 200), j=5)
    assert density.shape == (200, 200) and density[60, 140] > 5 * np.median(density)
    coarse = knn_density_map(stars, wcs, (200, 200), j=5, max_grid=50)
    assert coarse.shape == (200, 200)
    assert coarse[60, 140] == pytest.approx(density[60, 140], rel=0.5)
    # a single star ring: j = 2 neighbours at 10 px (10") gives (2 - 1) / (pi 10^2)
    ra, dec = wcs.pixel_to_world_values([90.0, 110.0], [100.0, 100.0])
    two = Table({"ra": ra, "dec": dec, "kmag": np.ones(2)})
    assert knn_density_map(two, wcs, (200, 200), j=2)[100, 100] == pytest.approx(
        1.0 / (np.pi * 100.0), rel=0.02)


@pytest.mark.parametrize("method", ["star_counts", "knn_density"])
def test_baselines_find_the_clump(method):
    wcs, stars = toy_field()
    _, region, detection = baseline_detection(method, stars, wcs, (200, 200))
    assert region.any()
    assert abs(detection.x_pix - 140) < 8 and abs(detection.y_pix - 60) < 8


def test_significance_level_is_median_plus_3_robust_sigma():
    values = np.array([0.0, 1.0, 1.0, 1.0, 2.0, 100.0])
    # median 1, median absolute deviation 0.5 (the outlier at 100 does not matter)
    assert significance_level(values) == pytest.approx(1.0 + 3 * 1.4826 * 0.5)
    flat = np.ones(10)
    flat[0] = 3.0
    # MAD is 0 here: the standard deviation takes its place
    assert significance_level(flat) == pytest.approx(1.0 + 3 * np.std(flat))
