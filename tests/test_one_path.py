"""Jobs that training and detection must do the same way, or the model sees another sky at
detection time: the pixel scale of a WCS, and the g, r, i -> RGB colour image."""
import math
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from data_prep.base.celestial import pixel_scale_arcsec, wcs_from_header_text
from data_prep.base.errors import InputError
from data_prep.deepcee_data.tfrecord_schema import read_examples
from data_prep.stellarvae_data.kband_fields import KBandField
from deepcee.serving.detect import read_fits_triplet
from fake_cluster_source import FakeClusterSource, run_tfrecords
from helpers import tan_wcs

LABEL_MAP = Path(__file__).resolve().parents[1] / "pipeline_configs" / "label_map.pbtxt"
WEN = [("FAKE A", 150.0, 20.0, 0.12, 15.5, 40.0, 25), ("FAKE B", 160.0, 30.0, 0.18, 16.5, 50.0, 30)]
REDMAPPER = [("RM 1", 200.0, 10.0, 0.13, np.nan, 28.0, np.nan)]


class EdgeOfFootprintSource(FakeClusterSource):
    """The fake source with a skewed sky (over-subtracted haloes: a negative tail, so that the
    sky's median falls when pixels are averaged) and the first 4 % of the rows of every cutout
    off the survey's footprint (NaN)."""

    def cutout(self, ra, dec, size_px, scale_arcsec):
        hdus = super().cutout(ra, dec, size_px, scale_arcsec)
        rng = np.random.default_rng(7)
        for hdu in hdus.values():
            hdu.data = (hdu.data - rng.exponential(0.1, hdu.data.shape)).astype(np.float32)
            hdu.data[: size_px // 25] = np.nan
        return hdus


def non_square_wcs(size):
    """A TAN WCS with 0.396" x 0.792" pixels (side of the equal-area square: 0.560")."""
    wcs = tan_wcs(150.0, 20.0, 0.396, size=size)
    wcs.wcs.cdelt = [-0.396 / 3600, 0.792 / 3600]
    wcs.wcs.set()
    return wcs


def write_triplet(folder, data, wcs):
    paths = {}
    for band, gain in (("g", 0.6), ("r", 1.0), ("i", 1.3)):
        paths[band] = folder / f"field_{band}.fits"
        fits.PrimaryHDU((data * gain).astype(np.float32), wcs.to_header()).writeto(paths[band])
    return paths


def test_one_pixel_scale_for_training_detection_and_kband_fields(tmp_path):
    """The side of the equal-area square pixel, everywhere (the data set's arithmetic mean
    and the K-band fields' geometric mean disagreed: 0.594 vs 0.560 arcsec)."""
    wcs = non_square_wcs(200)
    expected = math.sqrt(0.396 * 0.792)
    assert pixel_scale_arcsec(wcs) == pytest.approx(expected, rel=1e-9)
    field = KBandField(np.zeros((200, 200), np.float32), wcs, None, None, tmp_path)
    assert field.pixel_scale_arcsec == pytest.approx(expected, rel=1e-9)
    # detection resamples a FITS triplet to the training scale with the same number:
    # twice the equal-area pixel halves the image exactly
    rng = np.random.default_rng(1)
    paths = write_triplet(tmp_path, rng.normal(1.0, 0.1, (200, 200)), wcs)
    picture = read_fits_triplet(paths, training_pixel_scale_arcsec=2 * expected)
    assert picture.rgb.shape == (100, 100, 3)
    assert picture.scale_to_input == pytest.approx(2.0)
    assert pixel_scale_arcsec(picture.wcs) == pytest.approx(2 * expected, rel=1e-9)


def test_record_wcs_parser_refuses_an_empty_header():
    with pytest.raises(InputError, match="no image/wcs header"):
        wcs_from_header_text(b"")
    header = tan_wcs(10.0, 20.0, 0.792, size=100).to_header().tostring()
    assert pixel_scale_arcsec(wcs_from_header_text(header)) == pytest.approx(0.792)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small data set of the edge-of-footprint source: (data dir, cache dir)."""
    root = tmp_path_factory.mktemp("one_path")
    out, cache = root / "data", root / "cache"
    status = run_tfrecords(["tfrecords", "--source", "sim", "--out", str(out), "--cache",
                            str(cache), "--cutout-px", "300", "--image-px", "150",
                            "--max-offset", "40"], EdgeOfFootprintSource(WEN, REDMAPPER))
    assert status == 0
    return out, cache


def test_fits_triplet_through_detect_is_the_training_image(built):
    """A cutout with pixels without data (off the footprint) gives detection the same uint8
    image as the record the data-set builder made of it (they were black in training but
    filled with the sky median at detection time)."""
    out, cache = built
    example = next(e for e in read_examples(sorted(out.glob("*.tfrecord")))
                   if e["filename"].decode().endswith("FAKE A_0.png"))
    record_rgb = example["image"]
    assert (record_rgb[:6] == 0).all()  # the rows without data are black
    bands = {band: cache / "sim" / "cutouts" / f"FAKE_A_0_{band}.fits" for band in "gri"}
    scale = pixel_scale_arcsec(wcs_from_header_text(example["wcs_header"]))
    picture = read_fits_triplet(bands, training_pixel_scale_arcsec=scale)
    assert picture.rgb.shape == record_rgb.shape
    np.testing.assert_array_equal(picture.rgb, record_rgb)


def test_data_set_carries_the_projects_label_map(built):
    """The builder copies pipeline_configs/label_map.pbtxt (its path broke once in a move and
    a fallback wrote another file silently)."""
    out, _ = built
    assert (out / "label_map.pbtxt").read_bytes() == LABEL_MAP.read_bytes()
