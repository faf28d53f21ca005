"""The SDSS-like galaxy-cluster simulator: photometry, WCS, richness, catalogues, determinism."""

import numpy as np
import pytest
from astropy.wcs import WCS

from data_prep.surveys import catalogues
from data_prep.base.errors import InputError
from data_prep.sim.cluster_catalogue import UNSEEN_REGION, in_box
from data_prep.sim.difficulty import ClusterDifficulty
from data_prep.sim.fits_image import tan_wcs
from data_prep.sim.galaxies import SourceList, red_sequence_colours
from data_prep.sim.galaxy_clusters import MockSky, angular_separation_deg
from data_prep.sim.sdss import SdssCamera, flux_nmgy
from helpers import fits_bytes, table_text


@pytest.fixture(scope="module")
def sky():
    return MockSky(seed=0)


def paper_cuts(wen):
    """Reference rule, written from Deep-CEE §2.2: Abell, 0.1 < zph < 0.2, N200 >= 20, Dec > 0."""
    abell = np.array([str(other).startswith("A") for other in wen["Other"]])
    return abell & (wen["zph"] > 0.1) & (wen["zph"] < 0.2) & (wen["N200"] >= 20) \
        & (wen["DEJ2000"] > 0)


def one_source(rmag, sersic_n, hlr=0.0):
    return SourceList(ra=np.array([150.0]), dec=np.array([20.0]), rmag=np.array([rmag]),
                      g_r=np.array([0.8]), r_i=np.array([0.3]), sersic_n=np.array([sersic_n]),
                      hlr_arcsec=np.array([hlr]), axis_ratio=np.array([0.7]),
                      angle_deg=np.array([30.0]))


@pytest.mark.parametrize("rmag, sersic_n, hlr, radius_arcsec", [
    (16.0, 0, 0.0, 12.0),    # bright star, drawn one by one
    (20.0, 0, 0.0, 8.0),     # faint star, point-source bank
    (18.0, 1, 1.5, 20.0),    # bright disc, drawn one by one
    (21.0, 4, 0.5, 12.0),    # faint spheroid, shape bank
])
def test_isolated_source_flux_matches_its_magnitude(rmag, sersic_n, hlr, radius_arcsec):
    size, scale = 161, 0.396
    wcs = tan_wcs(150.0, 20.0, size, scale)
    camera = SdssCamera(scale, 1.4, noise_scale=1e-6)
    hdus = camera.render(one_source(rmag, sersic_n, hlr), wcs, size,
                         np.random.default_rng(0), [])
    y, x = np.mgrid[:size, :size]
    aperture = np.hypot(x - 80, y - 80) < radius_arcsec / scale
    for band, colour in (("g", 0.8), ("r", 0.0), ("i", -0.3)):
        expected = 10 ** (-0.4 * (rmag + colour - 22.5))
        assert hdus[band].data[aperture].sum() == pytest.approx(expected, rel=0.02)


def test_star_flux_with_sdss_noise_is_within_the_noise():
    size, scale = 161, 0.396
    wcs = tan_wcs(150.0, 20.0, size, scale)
    image = SdssCamera(scale, 1.4).render(one_source(17.0, 0), wcs, size,
                                          np.random.default_rng(1), [])["r"].data
    y, x = np.mgrid[:size, :size]
    aperture = np.hypot(x - 80, y - 80) < 15
    sky_sigma = np.std(image[:30, :30])
    expected = flux_nmgy(17.0)
    assert abs(image[aperture].sum() - expected) < 5 * sky_sigma * np.sqrt(aperture.sum()) \
        + 0.02 * expected
    assert 0.01 < sky_sigma < 0.06  # SDSS r: ~0.025 nmgy per 0.396" pixel


def test_cutout_header_is_a_skyview_like_tan_image(sky):
    hdus = sky.cutout(180.0, 30.0, size_px=200)
    assert set(hdus) == {"g", "r", "i"}
    for band, hdu in hdus.items():
        header = hdu.header
        assert hdu.data.dtype == np.float32 and hdu.data.shape == (200, 200)
        assert header["CTYPE1"] == "RA---TAN" and header["CTYPE2"] == "DEC--TAN"
        assert header["CRVAL1"] == pytest.approx(180.0) and header["CRVAL2"] == pytest.approx(30.0)
        assert header["CRPIX1"] == 100.5 and header["CRPIX2"] == 100.5
        assert header["CDELT1"] * 3600 == pytest.approx(-0.396)
        assert header["FILTER"] == band and header["SURVEY"] == f"SDSS{band}"
        assert header["BUNIT"] == "nanomaggy"
    assert list(sky.cutout(180.0, 30.0, size_px=64, bands=("r",))) == ["r"]


def test_bcg_lands_on_its_pixel_through_the_wcs(sky):
    wen = sky.wen_table()
    cluster = wen[paper_cuts(wen)][3]
    # Centre the cutout 40" west and 25" north of the BCG: the BCG lies east (left, -x)
    # and south (-y) of the centre pixel 199.5.
    ra = cluster["RAJ2000"] - 40.0 / 3600 / np.cos(np.radians(cluster["DEJ2000"]))
    hdu = sky.cutout(ra, cluster["DEJ2000"] + 25.0 / 3600, size_px=400)["r"]
    x, y = WCS(hdu.header).wcs_world2pix([cluster["RAJ2000"]], [cluster["DEJ2000"]], 0)
    assert x[0] == pytest.approx(199.5 - 40 / 0.396, abs=0.05)
    assert y[0] == pytest.approx(199.5 - 25 / 0.396, abs=0.05)
    ix, iy = int(round(x[0])), int(round(y[0]))
    box = hdu.data[iy - 6:iy + 7, ix - 6:ix + 7]
    peak_y, peak_x = np.unravel_index(np.argmax(box), box.shape)
    assert abs(peak_x - 6) <= 1 and abs(peak_y - 6) <= 1
    # What sits there is the BCG: its r flux agrees with the catalogue's rmag.
    yy, xx = np.mgrid[:400, :400]
    aperture = np.hypot(xx - x[0], yy - y[0]) < 4.0 / 0.396
    assert hdu.data[aperture].sum() > 0.3 * flux_nmgy(cluster["rmag"])


def test_member_counts_follow_the_requested_richness():
    plain, rich = MockSky(seed=2), MockSky(seed=2, difficulty=ClusterDifficulty(richness_scale=2.0))
    truth, truth_rich = plain.truth_table(), rich.truth_table()
    for index in (0, 17, 250, len(truth) - 1):
        name = truth["name"][index]
        members, members_rich = plain.members(name), rich.members(name)
        assert members["in_n200"].sum() == truth["n200"][index]
        assert members_rich["in_n200"].sum() == truth_rich["n200"][index]
        assert truth_rich["n200"][index] == max(round(2 * truth["n200"][index]), 1)
        assert members["bcg"][0] and members["rmag"][0] == pytest.approx(truth["bcg_rmag"][index])
        separation = angular_separation_deg(truth["ra"][index], truth["dec"][index],
                                            members["ra"], members["dec"]) * 3600
        assert separation.max() <= truth["r200_arcsec"][index] * 1.0001


def test_red_members_have_the_red_sequence_colours_of_their_redshift():
    sky = MockSky(seed=1, difficulty=ClusterDifficulty(redshift=0.25))
    truth = sky.truth_table()
    name = truth["name"][np.argmax(truth["n200"])]
    members = sky.members(name)
    red = members[members["red"]]
    g_r, r_i = red_sequence_colours(0.25)
    assert np.median(red["gmag"] - red["rmag"]) == pytest.approx(g_r, abs=0.03)
    assert np.median(red["rmag"] - red["imag"]) == pytest.approx(r_i, abs=0.03)
    assert np.all(truth["z"] == 0.25)


def test_wen_catalogue_paper_cuts_leave_497_and_every_cut_removes_rows(sky):
    wen = sky.wen_table()
    assert wen.colnames == ["WHL", "RAJ2000", "DEJ2000", "zph", "zsp", "rmag", "r200", "RL*",
                            "N200", "Other"]
    assert paper_cuts(wen).sum() == 497
    assert wen["zph"].min() >= 0.05 and wen["zph"].max() <= 0.3
    abell = np.array([str(o).startswith("A") for o in wen["Other"]])
    in_z = (wen["zph"] > 0.1) & (wen["zph"] < 0.2)
    # Rows that fail exactly one cut exist for every cut.
    assert np.any(~abell & in_z & (wen["N200"] >= 20) & (wen["DEJ2000"] > 0))
    assert np.any(abell & ~in_z & (wen["N200"] >= 20) & (wen["DEJ2000"] > 0))
    assert np.any(abell & in_z & (wen["N200"] < 20) & (wen["DEJ2000"] > 0))
    assert np.any(abell & in_z & (wen["N200"] >= 20) & (wen["DEJ2000"] <= 0))
    assert np.all(np.isnan(wen["zsp"]) | (np.abs(wen["zsp"] - wen["zph"]) < 0.01))
    # The survey reader's cuts agree with the reference rule.
    sample, report = catalogues.paper_sample(wen)
    assert len(sample) == 497 and report[-1][1] == 497


def test_redmapper_catalogue_fills_an_unseen_region(sky):
    wen, rm = sky.wen_table(), sky.redmapper_table()
    assert rm.colnames == ["Name", "RAJ2000", "DEJ2000", "zlambda", "lambda"]
    in_z = (rm["zlambda"] > 0.1) & (rm["zlambda"] < 0.2)
    assert in_z.sum() == 31
    assert np.all(in_box(rm["RAJ2000"], rm["DEJ2000"], UNSEEN_REGION))
    assert rm["zlambda"].min() > 0.05 and rm["zlambda"].max() < 0.3
    assert rm["lambda"].min() >= 20
    sample = wen[paper_cuts(wen)]
    assert not np.any(in_box(sample["RAJ2000"], sample["DEJ2000"], UNSEEN_REGION))


def test_redmapper_clusters_are_rendered(sky):
    rm = sky.redmapper_table()
    row = rm[np.argmin(rm["zlambda"])]
    plain = sky.cutout(row["RAJ2000"], row["DEJ2000"], size_px=300)["r"].data
    empty = MockSky(seed=0, difficulty=ClusterDifficulty(cluster_free=True)).cutout(
        row["RAJ2000"], row["DEJ2000"], size_px=300)["r"].data
    centre = (slice(140, 160), slice(140, 160))
    assert plain[centre].sum() - empty[centre].sum() > 50.0  # the central galaxy (nmgy)




def test_same_seed_same_bytes_different_seed_differs():
    first, again, other = MockSky(seed=5), MockSky(seed=5), MockSky(seed=6)
    position = (150.3, 12.7)
    a = first.cutout(*position, size_px=256)
    b = again.cutout(*position, size_px=256)
    c = other.cutout(*position, size_px=256)
    for band in ("g", "r", "i"):
        assert fits_bytes(a[band]) == fits_bytes(b[band])
        assert fits_bytes(a[band]) != fits_bytes(c[band])
    assert table_text(first.wen_table()) == table_text(again.wen_table())
    assert table_text(first.redmapper_table()) == table_text(again.redmapper_table())
    assert table_text(first.wen_table()) != table_text(other.wen_table())


def test_overlapping_cutouts_show_the_same_sky(sky):
    big = sky.cutout(200.5, 40.0, size_px=500)["r"].data
    small = sky.cutout(200.5, 40.0, size_px=250)["r"].data
    # Same centre, same pixel grid (sizes of one parity): the sources of the central
    # 250 x 250 pixels agree up to the noise.
    inner = big[125:375, 125:375]
    sources = inner > 0.3  # ~10 sigma in r
    assert sources.sum() > 20
    assert np.corrcoef(inner[sources], small[sources])[0, 1] > 0.9


def test_bad_requests_raise_input_errors(sky):
    with pytest.raises(InputError):
        sky.cutout(10.0, 10.0, size_px=100, bands=("u",))
    with pytest.raises(InputError):
        sky.cutout(10.0, 95.0, size_px=100)
    with pytest.raises(InputError):
        MockSky(seed=0, difficulty=ClusterDifficulty(redshift=0.6))


def test_sim_gallery_verb_writes_colour_pngs(tmp_path):
    from PIL import Image

    from deepcee.cli import main
    assert main(["sim-gallery", "--n", "1", "--size-px", "128", "--out", str(tmp_path)]) == 0
    (png,) = tmp_path.glob("*.png")
    picture = Image.open(png)
    assert picture.size == (128, 128) and picture.mode == "RGB"


def test_difficulty_knobs_change_seeing_noise_and_crowding():
    position = (160.0, 25.0)
    base = MockSky(seed=7).cutout(*position, size_px=300)["r"]
    noisy = MockSky(seed=7, difficulty=ClusterDifficulty(noise_scale=3.0)).cutout(
        *position, size_px=300)["r"]
    blurred = MockSky(seed=7, difficulty=ClusterDifficulty(seeing_fwhm_arcsec=2.5)).cutout(
        *position, size_px=300)["r"]
    crowded = MockSky(seed=7, difficulty=ClusterDifficulty(field_density_scale=4.0)).cutout(
        *position, size_px=300)["r"]

    def sky_sigma(data):
        low = data[data < np.percentile(data, 50)]
        return np.percentile(data, 50) - np.percentile(low, 31.7)  # ~1 sigma below the median

    assert sky_sigma(noisy.data) == pytest.approx(3.0 * sky_sigma(base.data), rel=0.15)
    assert blurred.header["SEEING"] == 2.5 and base.header["SEEING"] == 1.4
    assert blurred.data.max() < base.data.max()
    assert (crowded.data > 0.3).sum() > 2 * (base.data > 0.3).sum()
