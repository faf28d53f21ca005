"""The K-band star-cluster simulator: photometry, truth, catalogue flags, determinism."""

import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS

from data_prep.surveys import catalogues
from data_prep.base.errors import InputError
from data_prep.sim.difficulty import StarClusterDifficulty
from data_prep.sim.fits_image import tan_wcs
from data_prep.sim.kband_surveys import SURVEYS, twomass_psc, ukidss_gps
from data_prep.sim.star_clusters import (KBandScene, kband_scene, render_kband,
                                         simulate_kband_field)
from helpers import fits_bytes, table_text

IRAS06055 = (92.1156, 20.6539)  # ICRS position of IRAS 06055+2039 (approximately)


def twomass_reference_keep(raw):
    """Reference rule (StellarVAE §II-C): keep 2MASS rows whose K read flag (3rd digit) is 1-6."""
    return np.array([str(flag)[2] in "123456" for flag in raw["Rflg"]])


def ukidss_reference_keep(raw):
    """Reference rule (StellarVAE §II-C): keep UKIDSS rows with mergedClass -1 or -2."""
    return np.isin(np.asarray(raw["mergedClass"]), (-1, -2))


@pytest.mark.parametrize("survey", ["2mass", "ukidss"])
def test_isolated_star_flux_matches_its_magnitude(survey):
    cam = SURVEYS[survey]
    size = 101
    kmag = cam.catalogue_limit - 3.0
    empty = np.zeros(0)
    scene = KBandScene(cam, tan_wcs(90.0, 20.0, size, cam.scale_arcsec), size, cam.fwhm_arcsec,
                       np.array([50.3]), np.array([49.8]), np.array([kmag]), np.array([False]),
                       empty, empty, empty, empty, np.zeros((size, size), np.float32), Table())
    hdu = render_kband(scene, np.random.default_rng(0), noise_scale=1e-6)
    y, x = np.mgrid[:size, :size]
    aperture = np.hypot(x - 50.3, y - 49.8) < 5.0 * cam.fwhm_arcsec / cam.scale_arcsec
    signal = hdu.data[aperture].sum() - cam.sky_level * aperture.sum()
    assert signal == pytest.approx(10 ** (-0.4 * (kmag - cam.zero_point)), rel=0.02)
    assert hdu.header["BUNIT"] in ("DN", "ADU")


def test_twomass_field_is_600_px_with_a_tan_wcs_and_truth_at_the_offset():
    difficulty = StarClusterDifficulty(radius_arcsec=100.0, n_members=80,
                                       offset_arcsec=(60.0, -30.0))
    hdu, raw, truth = simulate_kband_field(*IRAS06055, 10.0, "2mass", seed=1,
                                           difficulty=difficulty)
    assert hdu.data.shape == (600, 600) and hdu.data.dtype == np.float32
    assert hdu.header["CTYPE1"] == "RA---TAN" and hdu.header["CRPIX1"] == 300.5
    assert abs(hdu.header["CDELT2"]) * 3600 == pytest.approx(1.0)
    assert truth.colnames[:4] == ["ra", "dec", "radius_arcsec", "n_members"]
    assert len(truth) == 1 and truth["radius_arcsec"][0] == 100.0
    assert truth["n_members"][0] == 80
    x, y = WCS(hdu.header).wcs_world2pix(truth["ra"], truth["dec"], 0)
    assert x[0] == pytest.approx(299.5 - 60.0, abs=0.01)  # 60" east = 60 px to the left
    assert y[0] == pytest.approx(299.5 - 30.0, abs=0.01)
    assert set(raw.colnames) >= {"RAJ2000", "DEJ2000", "Kmag", "Rflg", "Qflg"}


@pytest.mark.parametrize("survey", ["2mass", "ukidss"])
def test_members_above_the_catalogue_limit_match_the_truth(survey):
    scene = kband_scene(*IRAS06055, 4.0, survey, seed=3,
                        difficulty=StarClusterDifficulty(n_members=70, radius_arcsec=90.0))
    above = scene.member & (scene.kmag <= scene.survey.catalogue_limit)
    assert above.sum() == scene.truth["n_members"][0] == 70
    x, y = scene.wcs.wcs_world2pix(scene.truth["ra"], scene.truth["dec"], 0)
    radius_px = np.hypot(scene.x[scene.member] - x[0], scene.y[scene.member] - y[0])
    assert radius_px.max() <= 90.0 / scene.survey.scale_arcsec + 1e-6


def test_default_cluster_is_of_the_order_of_table_one_and_overdense():
    hdu, raw, truth = simulate_kband_field(*IRAS06055, 10.0, "2mass", seed=0)
    assert 80.0 <= truth["radius_arcsec"][0] <= 130.0
    assert 50 <= truth["n_members"][0] <= 130
    stars = catalogues.twomass_stars(raw)
    ra0, dec0 = truth["ra"][0], truth["dec"][0]
    r = np.hypot((stars["ra"] - ra0) * np.cos(np.radians(dec0)), stars["dec"] - dec0) * 3600
    radius = truth["radius_arcsec"][0]
    inner = (r < radius / 2).sum() / (np.pi * (radius / 2) ** 2)
    outer = (r > 1.5 * radius).sum() / (600.0 ** 2 - np.pi * (1.5 * radius) ** 2)
    assert inner > 4 * outer  # clearly overdense
    # A UKIDSS view of the same field shows the same cluster (centre and radius).
    _, _, truth_ukidss = simulate_kband_field(*IRAS06055, 10.0, "ukidss", seed=0)
    assert truth_ukidss["radius_arcsec"][0] == truth["radius_arcsec"][0]
    assert truth_ukidss["n_members"][0] > truth["n_members"][0]


def test_twomass_flags_are_dropped_exactly_for_non_stars():
    rng = np.random.default_rng(0)
    n = 400
    kind = rng.choice(["star", "artefact"], n, p=[0.8, 0.2])
    raw = twomass_psc(rng, np.linspace(90.0, 91.0, n), np.full(n, 20.0),
                      rng.uniform(6.0, 15.0, n), rng.uniform(3.0, 300.0, n), kind)
    keep = twomass_reference_keep(raw)
    assert np.array_equal(np.sort(raw["RAJ2000"][keep]),
                          np.linspace(90.0, 91.0, n)[kind == "star"])
    assert set(str(f)[2] for f in raw["Rflg"][~keep]) <= set("0789")
    assert np.all(np.isnan(raw["Kmag"][np.array([str(f)[2] == "0" for f in raw["Rflg"]])]))
    assert len(catalogues.twomass_stars(raw)) == keep.sum()


def test_ukidss_classes_are_dropped_exactly_for_galaxies_noise_and_saturated_stars():
    rng = np.random.default_rng(1)
    n = 400
    kind = rng.choice(["star", "galaxy", "artefact"], n, p=[0.7, 0.2, 0.1])
    saturated = (kind == "star") & (rng.uniform(0, 1, n) < 0.1)
    raw = ukidss_gps(rng, np.linspace(90.0, 91.0, n), np.full(n, 20.0),
                     rng.uniform(10.0, 18.0, n), rng.uniform(3.0, 300.0, n), kind, saturated)
    keep = ukidss_reference_keep(raw)
    assert np.array_equal(np.sort(raw["ra"][keep]),
                          np.linspace(90.0, 91.0, n)[(kind == "star") & ~saturated])
    assert set(np.unique(raw["mergedClass"][~keep])) <= {1, 0, -3, -9}
    assert len(catalogues.ukidss_stars(raw)) == keep.sum()


@pytest.mark.parametrize("survey, reference", [("2mass", twomass_reference_keep),
                                               ("ukidss", ukidss_reference_keep)])
def test_simulated_catalogues_hold_rows_the_readers_must_drop(survey, reference):
    _, raw, _ = simulate_kband_field(*IRAS06055, 3.0, survey, seed=2)
    keep = reference(raw)
    assert 0 < (~keep).sum() < 0.3 * len(raw)
    stars = (catalogues.twomass_stars(raw) if survey == "2mass"
             else catalogues.ukidss_stars(raw))
    assert len(stars) == keep.sum()


def test_cluster_free_field_has_no_truth_rows():
    scene = kband_scene(*IRAS06055, 5.0, "2mass", seed=0,
                        difficulty=StarClusterDifficulty(cluster_free=True))
    assert len(scene.truth) == 0 and not scene.member.any()
    _, _, truth = simulate_kband_field(*IRAS06055, 5.0, "2mass", seed=0,
                                       difficulty=StarClusterDifficulty(cluster_free=True))
    assert len(truth) == 0 and "n_members" in truth.colnames




@pytest.mark.parametrize("survey", ["2mass", "ukidss"])
def test_same_seed_same_bytes_different_seed_differs(survey):
    runs = [simulate_kband_field(*IRAS06055, 2.0, survey, seed=seed) for seed in (4, 4, 5)]
    (hdu_a, raw_a, truth_a), (hdu_b, raw_b, truth_b), (hdu_c, raw_c, _) = runs
    assert fits_bytes(hdu_a) == fits_bytes(hdu_b)
    assert table_text(raw_a) == table_text(raw_b)
    assert table_text(truth_a) == table_text(truth_b)
    assert fits_bytes(hdu_a) != fits_bytes(hdu_c)
    assert table_text(raw_a) != table_text(raw_c)


def test_bad_requests_raise_input_errors():
    with pytest.raises(InputError):
        simulate_kband_field(*IRAS06055, 5.0, survey="spitzer")
    with pytest.raises(InputError):
        simulate_kband_field(*IRAS06055, 0.0)
    with pytest.raises(InputError):
        simulate_kband_field(*IRAS06055, 5.0, difficulty=StarClusterDifficulty(profile="gauss"))


def test_sim_gallery_verb_writes_a_png_per_field(tmp_path):
    from PIL import Image

    from stellarvae.cli import main
    assert main(["sim-gallery", "--field", "IRAS06055", "--field", "92.0,20.0",
                 "--size-arcmin", "2", "--out", str(tmp_path)]) == 0
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) == 2 and Image.open(pngs[0]).size == (120, 120)


def test_difficulty_knobs_change_crowding_seeing_and_nebulosity():
    def scene(**knobs):
        return kband_scene(*IRAS06055, 5.0, "2mass", seed=8,
                           difficulty=StarClusterDifficulty(**knobs))

    base, crowded = scene(), scene(field_density_scale=3.0)
    assert (~crowded.member).sum() == pytest.approx(3 * (~base.member).sum(), rel=0.15)
    assert scene(seeing_scale=1.5).fwhm_arcsec == pytest.approx(1.5 * base.fwhm_arcsec)
    assert not scene(nebulosity=0.0).nebula.any() and base.nebula.max() > 0
    plummer = scene(profile="plummer", radius_arcsec=100.0, n_members=60)
    assert plummer.truth["profile"][0] == "plummer" and plummer.truth["n_members"][0] == 60


@pytest.mark.parametrize("profile", ["king", "plummer"])
def test_truth_half_number_radius_holds_half_the_members(profile):
    difficulty = StarClusterDifficulty(n_members=600, radius_arcsec=120.0, profile=profile,
                                       concentration=4.0)
    scene = kband_scene(*IRAS06055, 10.0, "2mass", seed=5, difficulty=difficulty)
    x, y = scene.wcs.wcs_world2pix(scene.truth["ra"], scene.truth["dec"], 0)
    radius = np.hypot(scene.x[scene.member] - x[0], scene.y[scene.member] - y[0])
    r_half = scene.truth["half_number_radius_arcsec"][0]
    assert str(scene.truth["half_number_radius_arcsec"].unit) == "arcsec"
    assert np.median(radius) * scene.survey.scale_arcsec == pytest.approx(r_half, rel=0.1)
    assert 0.0 < r_half < 120.0
