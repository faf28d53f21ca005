"""The 100 kpc distance rule (pixels -> sky -> kpc at the ground-truth redshift) and the
one-to-one matching edge cases."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from scipy.integrate import quad

from data_prep.base.celestial import wcs_from_header_text
from data_prep.base.errors import InputError
from deepcee.evaluation import matching
from helpers import tan_wcs

C_KM_S = 299792.458


def hand_kpc_per_arcsec(z, h0=71.0, om=0.27):
    """Angular-diameter scale of a flat LambdaCDM universe, integrated by hand."""
    integral, _ = quad(lambda x: 1.0 / np.sqrt(om * (1 + x) ** 3 + 1 - om), 0.0, z)
    d_a_kpc = C_KM_S / h0 * integral / (1 + z) * 1e3
    return d_a_kpc * np.pi / (180 * 3600)


@pytest.mark.parametrize("z", [0.1, 0.2])
def test_hand_computed_kpc_offsets(z):
    # 1.8224 kpc/" at z = 0.1 and 3.2677 kpc/" at z = 0.2 (2000 px x 0.396" -> the paper's
    # 1443 and 2588 kpc); a box 30" north of the BCG.
    scale = hand_kpc_per_arcsec(z)
    assert scale == pytest.approx({0.1: 1.8224, 0.2: 3.2677}[z], abs=1e-4)
    bcg = SkyCoord(150.0 * u.deg, 20.0 * u.deg)
    box = SkyCoord(150.0 * u.deg, (20.0 + 30.0 / 3600) * u.deg)
    kpc = matching.offsets_kpc(box, bcg, [z])
    assert kpc.shape == (1, 1)
    assert kpc[0, 0] == pytest.approx(30.0 * scale, rel=1e-5)


def test_paper_cross_match_radius_is_250_kpc_at_z_015():
    arcmin = 250.0 / hand_kpc_per_arcsec(0.15) / 60
    assert round(arcmin, 2) == 1.61


def test_pixel_offsets_through_a_resized_wcs():
    # A 2000 px cutout at 0.396"/px resized to 1000 px: 0.792"/px in the encoded image.
    wcs = tan_wcs(150.0, 20.0, 0.792, 1000)
    bcg = wcs.pixel_to_world(400.0, 600.0)
    x, y = matching.sky_to_normalised(bcg, wcs, 1000, 1000)
    assert (x, y) == pytest.approx(((400.5) / 1000, (600.5) / 1000))
    # A box centred 50 encoded pixels east-west of the BCG = 39.6" = 72.2 kpc at z = 0.1.
    box = np.array([[y - 0.01, x + 0.05 - 0.01, y + 0.01, x + 0.05 + 0.01]])
    bx, by = matching.box_centres(box)
    coords = matching.normalised_to_sky(bx, by, wcs, 1000, 1000)
    kpc = matching.offsets_kpc(coords, bcg, [0.1])[0, 0]
    assert kpc == pytest.approx(50 * 0.792 * hand_kpc_per_arcsec(0.1), rel=1e-4)


def test_two_boxes_on_one_cluster_give_one_tp_and_one_fp():
    offsets = np.array([[20.0], [10.0]])
    matched = matching.match_boxes(offsets, scores=[0.6, 0.9])
    assert list(matched) == [-1, 0]      # the higher-scoring box takes it, the other is a FP
    tp, fp, fn = matching.counts_at_thresholds([0.6, 0.9], matched, 1, [0.0, 0.7, 0.95])
    assert list(tp) == [1, 1, 0] and list(fp) == [1, 0, 0] and list(fn) == [0, 0, 1]


def test_box_between_two_clusters_goes_to_the_nearer():
    matched = matching.match_boxes(np.array([[80.0, 60.0]]), scores=[0.9])
    assert list(matched) == [1]
    # if the nearer one is taken by a higher-scoring box, it takes the other within radius
    matched = matching.match_boxes(np.array([[80.0, 60.0], [300.0, 5.0]]), scores=[0.5, 0.9])
    assert list(matched) == [0, 1]


def test_a_cluster_without_redshift_never_blocks_a_match():
    matched = matching.match_boxes(np.array([[np.nan, 50.0]]), scores=[0.9])
    assert list(matched) == [1]


def test_no_box_is_a_false_negative():
    matched = matching.match_boxes(np.zeros((0, 1)), scores=np.zeros(0))
    assert matched.shape == (0,)
    tp, fp, fn = matching.counts_at_thresholds([], matched, 1, [0.0, 0.5])
    assert list(tp) == [0, 0] and list(fp) == [0, 0] and list(fn) == [1, 1]


def test_box_beyond_the_radius_or_250_kpc_is_never_a_tp():
    assert list(matching.match_boxes(np.array([[150.0]]), [0.9])) == [-1]
    assert list(matching.match_boxes(np.array([[150.0]]), [0.9], radius_kpc=200)) == [0]
    assert list(matching.match_boxes(np.array([[260.0]]), [0.9], radius_kpc=250)) == [-1]
    with pytest.raises(InputError, match="250"):
        matching.match_boxes(np.array([[260.0]]), [0.9], radius_kpc=300)


def test_threshold_is_strict_so_saturated_scores_do_not_count_at_100_percent():
    tp, fp, fn = matching.counts_at_thresholds([1.0, 0.8], [0, -1], 1, [0.8, 1.0])
    assert list(tp) == [1, 0] and list(fp) == [0, 0] and list(fn) == [0, 1]


def test_header_text_round_trip():
    wcs = tan_wcs(10.0, 5.0, 0.792, 100)
    text = wcs.to_header().tostring(sep="\n")
    back = wcs_from_header_text(text.encode())
    assert back.wcs.crval == pytest.approx([10.0, 5.0])
    with pytest.raises(InputError):
        wcs_from_header_text(b"")


def test_round_trip_with_the_dataset_builders_labels():
    """A BCG placed by the data set builder (2000 px at 0.396"/px resized to 1000 px, boxes
    and centres from data_prep.deepcee_data.cluster_boxes, header text as stored in the record) maps back
    to its stored centre within 0.01 px, and a box centred there is 0 kpc from it."""
    from data_prep.deepcee_data.cluster_boxes import bcg_boxes, clusters_in_image
    from data_prep.deepcee_data.builder import wcs_header_text
    from data_prep.deepcee_data.offsets import cutout_centre
    from data_prep.deepcee_data.regrid import resized_wcs
    from data_prep.sim.fits_image import tan_wcs as cutout_wcs  # the builder's own grid

    bcg_ra, bcg_dec, z = 191.85623, 35.54509, 0.1788          # the paper's Fig. 8 cluster
    ra, dec = cutout_centre(bcg_ra, bcg_dec, 150.0, -200.0)
    wcs = resized_wcs(cutout_wcs(ra, dec, 2000, 0.396), 2.0)
    inside, x, y = clusters_in_image(wcs, 1000, [bcg_ra], [bcg_dec])
    assert inside[0]
    boxes, centers = bcg_boxes(x, y, [z], wcs, 1000)
    stored = wcs_from_header_text(wcs_header_text(wcs, 1000))
    bcg = SkyCoord(bcg_ra * u.deg, bcg_dec * u.deg)
    back_x, back_y = matching.sky_to_normalised(bcg, stored, 1000, 1000)
    assert abs(back_x - centers[0, 0]) * 1000 < 0.01 and abs(back_y - centers[0, 1]) * 1000 < 0.01
    # 150" east of the centre: left of the middle column (east left); 200" south: row < 500
    assert centers[0, 0] < 0.5 and centers[0, 1] < 0.5
    bx, by = matching.box_centres(boxes)
    kpc = matching.offsets_kpc(matching.normalised_to_sky(bx, by, stored, 1000, 1000), bcg, [z])
    assert kpc[0, 0] < 0.01
