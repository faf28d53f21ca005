"""Heat map, region and measurements of StellarVAE §IV-V on synthetic votes."""
import numpy as np
import pytest
from astropy.table import Table
import astropy.units as u
from astropy.coordinates import SkyCoord

from helpers import tan_wcs
from stellarvae.heat_map import combined_heat_map, peak_region, vote_map
from stellarvae.measure import (count_members, iou_over_stars, measure_region,
                                pixel_scale_arcsec)


def square_wcs(n, scale_arcsec):
    """A TAN WCS centred on (RA, Dec) = (90, 20) for an n x n image."""
    return tan_wcs(90.0, 20.0, scale_arcsec, size=n)


def test_vote_map_is_the_positive_fraction_of_covering_patches():
    rows = np.array([0, 0, 4, 4])
    cols = np.array([0, 4, 0, 4])
    votes = vote_map((12, 12), rows, cols, 8, np.array([True, False, False, False]))
    assert votes[0, 0] == 1.0                 # covered by one patch, positive
    assert votes[5, 5] == pytest.approx(0.25)  # covered by all four, one positive
    assert votes[0, 6] == pytest.approx(0.5)   # patches 0 and 1
    assert votes[11, 11] == 0.0                # not covered


def test_combined_map_normalises_each_size_and_skips_empty_maps():
    a = np.zeros((4, 4)); a[1, 1] = 0.5
    b = np.zeros((4, 4)); b[1, 1] = 2.0; b[2, 2] = 1.0
    heat = combined_heat_map([a, b, np.zeros((4, 4))])
    assert heat[1, 1] == pytest.approx(2.0) and heat[2, 2] == pytest.approx(0.5)


def test_region_is_the_connected_part_at_or_above_70_percent_of_the_peak():
    heat = np.zeros((40, 40))
    heat[10:20, 10:20] = 0.8
    heat[12:15, 12:15] = 1.0          # peak inside the first blob: the threshold is 0.7
    heat[20, 10:20] = 0.7             # attached, exactly at the threshold: in
    heat[21, 10:20] = 0.69            # attached, just below it: out (in at 0.69 x peak)
    heat[30:35, 30:35] = 0.9          # a separate blob above threshold
    heat[25, 25] = 0.5                # below 0.7
    region = peak_region(heat)
    assert region[15, 15] and region[12, 12] and region[20, 15] and not region[21, 15]
    assert not region[32, 32] and not region[25, 25]
    assert region.sum() == 110        # 100 at 0.71 x peak or with "above", 120 at 0.69


def test_ties_at_the_maximum_keep_the_heaviest_part():
    heat = np.zeros((30, 30))
    heat[2, 2] = 4.0                  # a lone pixel at the maximum
    heat[10:20, 10:20] = 4.0          # a large block at the maximum
    assert peak_region(heat).sum() == 100


def test_centre_and_radius_in_arcsec_from_the_wcs():
    wcs = square_wcs(101, 2.0)
    assert pixel_scale_arcsec(wcs) == pytest.approx(2.0)
    yy, xx = np.mgrid[0:101, 0:101]
    region = (xx - 60) ** 2 + (yy - 40) ** 2 <= 15 ** 2
    heat = region.astype(float)
    detection = measure_region(heat, region, wcs, "vae")
    assert detection.x_pix == pytest.approx(60.0) and detection.y_pix == pytest.approx(40.0)
    expected = wcs.pixel_to_world(60.0, 40.0)
    assert detection.centre().separation(expected).arcsec < 1e-6
    # area = pixels x (2")^2, radius = sqrt(area / pi) ~ 15 px x 2"/px
    assert detection.area_arcsec2 == pytest.approx(region.sum() * 4.0)
    assert detection.radius_arcsec == pytest.approx(np.sqrt(region.sum() * 4.0 / np.pi))
    assert detection.radius_arcsec == pytest.approx(30.0, rel=0.02)


def test_centre_is_weighted_by_heat():
    wcs = square_wcs(20, 1.0)
    heat = np.zeros((20, 20)); heat[5, 4] = 3.0; heat[5, 8] = 1.0
    detection = measure_region(heat, heat > 0, wcs, "vae")
    assert detection.x_pix == pytest.approx(5.0) and detection.y_pix == pytest.approx(5.0)


def test_empty_region_gives_no_detection():
    detection = measure_region(np.zeros((8, 8)), np.zeros((8, 8), bool), square_wcs(8, 1.0), "vae")
    assert np.isnan(detection.ra_deg) and detection.n_pixels == 0


def test_iou_over_stars_and_members_on_a_hand_example():
    centre = SkyCoord(90.0 * u.deg, 20.0 * u.deg)
    # stars at 0, 10, 30, 50, 70 arcsec north of the centre
    offsets = np.array([0.0, 10.0, 30.0, 50.0, 70.0])
    stars = Table({"ra": np.full(5, 90.0), "dec": 20.0 + offsets / 3600.0, "kmag": np.ones(5)})
    other = centre.directional_offset_by(0 * u.deg, 40 * u.arcsec)
    # circle A (r = 35") holds 0, 10, 30; circle B at +40" (r = 35") holds 10, 30, 50, 70
    # intersection {10, 30} = 2, union {0, 10, 30, 50, 70} = 5
    assert iou_over_stars(stars, centre, 35.0, other, 35.0) == pytest.approx(2 / 5)
    assert iou_over_stars(stars, centre, 35.0, centre, 35.0) == 1.0
    assert np.isnan(iou_over_stars(stars[:0], centre, 35.0, other, 35.0))
    wcs = square_wcs(200, 1.0)
    detection = measure_region(np.ones((1, 1)), np.ones((1, 1), bool), wcs, "vae")
    detection.ra_deg, detection.dec_deg, detection.radius_arcsec = 90.0, 20.0, 35.0
    assert count_members(stars, detection) == 3


def test_smoothing_turns_scattered_votes_into_a_dense_region():
    votes = np.zeros((120, 120))
    rng = np.random.default_rng(0)
    for y, x in rng.integers(0, 120, (40, 2)):               # scattered single votes
        votes[y, x] = 1.0
    for y, x in rng.integers(50, 70, (40, 2)):               # a dense clump of votes
        votes[y, x] = 1.0
    raw = peak_region(combined_heat_map([votes]))
    smooth_heat = combined_heat_map([votes], smoothing_px=6.0)
    smooth = peak_region(smooth_heat)
    assert raw.sum() < 10                                    # unsmoothed: a few vote pixels
    ys, xs = np.nonzero(smooth)
    assert smooth.sum() > 100 and 50 <= ys.mean() <= 70 and 50 <= xs.mean() <= 70
