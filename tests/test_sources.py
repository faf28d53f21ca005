"""Cluster sources and K-band fields: the simulator path goes through the same selections and
readers as survey data; user-supplied images and star tables are read or rejected clearly."""
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from data_prep.surveys import catalogues
from data_prep.deepcee_data.cluster_sources import cluster_source
from data_prep.base.errors import InputError
from data_prep.stellarvae_data.kband_fields import load_kband_field, read_kband_image, read_star_catalog
from helpers import tan_wcs


@pytest.fixture(scope="module")
def sim_source():
    pytest.importorskip("data_prep.sim.galaxy_clusters")
    return cluster_source("sim", None, seed=0)


def test_sim_paper_sample_uses_the_same_cuts_as_survey_data(sim_source, monkeypatch):
    calls = []
    real = catalogues.paper_sample
    monkeypatch.setattr(catalogues, "paper_sample", lambda raw: calls.append(raw) or real(raw))
    sample, report = sim_source.paper_sample()
    assert len(calls) == 1 and report[0] == ("all rows", len(sim_source.sky.wen_table()))
    assert [cut for cut, _ in report] == ["all rows", "Abell counterpart in Other",
                                          "0.1 < zph < 0.2", "N200 >= 20", "Dec > 0 deg"]
    assert len(sample) == report[-1][1] > 0
    assert (sample["dec"] > 0).all() and ((sample["z"] > 0.1) & (sample["z"] < 0.2)).all()


def test_sim_redmapper_sample_avoids_the_training_clusters(sim_source):
    sample, _ = sim_source.paper_sample()
    unseen = sim_source.redmapper_sample(sample)
    region = unseen.meta["region"]
    assert len(unseen) == region["n_inside"] > 0
    assert not catalogues.in_region(sample["ra"], sample["dec"], region).any()
    assert np.isnan(unseen["n200"]).all()


def test_sim_cutout_bands_have_wcs(sim_source):
    sample, _ = sim_source.paper_sample()
    cutout = sim_source.cutout(float(sample["ra"][0]), float(sample["dec"][0]), 64, 0.396)
    assert sorted(cutout) == ["g", "i", "r"]
    for hdu in cutout.values():
        assert hdu.data.shape == (64, 64) and WCS(hdu.header).has_celestial


def test_unknown_sources_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="unknown cluster source 'dss'"):
        cluster_source("dss", tmp_path)
    with pytest.raises(InputError, match="unknown K-band source 'wise'"):
        load_kband_field("wise", 1.0, 2.0, 5.0, tmp_path)


def test_sim_kband_field_is_cached_and_read_back_like_survey_data(tmp_path):
    pytest.importorskip("data_prep.sim.star_clusters")
    field = load_kband_field("sim", 92.0, 20.6, 4.0, tmp_path, seed=1)
    folder = field.image_path.parent
    assert folder.parent == tmp_path / "sim" / "kband"
    assert {p.name for p in folder.iterdir()} == {"image.fits", "catalog.ecsv", "truth.ecsv"}
    assert field.image.ndim == 2 and field.image.dtype == np.float32
    assert field.pixel_scale_arcsec == pytest.approx(
        abs(WCS(fits.getheader(field.image_path)).proj_plane_pixel_scales()[0].to_value("arcsec")))
    assert set(field.stars.colnames) == {"ra", "dec", "kmag"} and len(field.stars) > 0
    assert {"ra", "dec", "radius_arcsec", "n_members"} <= set(field.truth.colnames)
    stamp = field.image_path.stat().st_mtime_ns
    again = load_kband_field("sim", 92.0, 20.6, 4.0, tmp_path, seed=1)
    assert field.image_path.stat().st_mtime_ns == stamp  # reused, not simulated again
    np.testing.assert_array_equal(again.image, field.image)


def _image(data, with_wcs=True):
    header = tan_wcs(10.0, 20.0, 0.5, crpix=(8.0, 8.0)).to_header() if with_wcs else fits.Header()
    return data.astype(np.float32), header


def test_read_kband_image_finds_the_image_in_any_hdu(tmp_path):
    data, header = _image(np.arange(256.0).reshape(16, 16))
    path = tmp_path / "mef.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, header)]).writeto(path)
    image, wcs = read_kband_image(path)
    np.testing.assert_array_equal(image, data)
    assert wcs.has_celestial


@pytest.mark.parametrize("case, message", [
    ("no_wcs", "has no celestial WCS;"), ("nan", "all NaN or zero"),
    ("truncated", "unreadable or truncated FITS"), ("missing", "no such file")])
def test_read_kband_image_rejects_unusable_files(tmp_path, case, message):
    path = tmp_path / "k.fits"
    if case == "no_wcs":
        fits.PrimaryHDU(*_image(np.ones((16, 16)), with_wcs=False)).writeto(path)
    elif case == "nan":
        fits.PrimaryHDU(*_image(np.full((16, 16), np.nan))).writeto(path)
    elif case == "truncated":
        fits.PrimaryHDU(*_image(np.ones((64, 64)))).writeto(path)
        path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(InputError, match=message):
        read_kband_image(path)


@pytest.mark.parametrize("suffix, fmt", [(".ecsv", "ascii.ecsv"), (".fits", "fits"),
                                         (".vot", "votable")])
def test_read_star_catalog_formats(tmp_path, suffix, fmt):
    path = tmp_path / f"stars{suffix}"
    Table({"RA": [1.0, 2.0], "DEC": [3.0, 4.0], "Kmag": [10.0, 11.0]}).write(path, format=fmt)
    stars = read_star_catalog(path)
    assert stars.colnames == ["ra", "dec", "kmag"]
    assert list(stars["ra"]) == [1.0, 2.0] and list(stars["kmag"]) == [10.0, 11.0]


def test_read_star_catalog_filters_a_raw_2mass_table(tmp_path):
    path = tmp_path / "psc.ecsv"
    Table({"RAJ2000": [1.0, 2.0], "DEJ2000": [3.0, 4.0], "Kmag": [10.0, 11.0],
           "Rflg": ["222", "220"], "Qflg": ["AAA", "AAU"]}).write(path)
    assert list(read_star_catalog(path)["ra"]) == [1.0]


@pytest.mark.parametrize("case, message", [
    ("empty", "no stars in the table"), ("no_radec", "no RA/Dec columns"),
    ("garbage", "not a readable table"), ("missing", "no such file")])
def test_read_star_catalog_rejects_unusable_tables(tmp_path, case, message):
    path = tmp_path / "stars.ecsv"
    if case == "empty":
        Table({"ra": np.zeros(0), "dec": np.zeros(0)}).write(path)
    elif case == "no_radec":
        Table({"x": [1.0], "y": [2.0]}).write(path)
    elif case == "garbage":
        path.write_text("# %ECSV 1.0\n# ---\nthis is not a table\x00")
    with pytest.raises(InputError, match=message):
        read_star_catalog(path)


def test_read_star_catalog_rejects_sexagesimal_text(tmp_path):
    path = tmp_path / "stars.ecsv"
    Table({"ra": ["06 08 00.1"], "dec": ["+20 36 00"]}).write(path)
    with pytest.raises(InputError, match="must be numbers"):
        read_star_catalog(path)
