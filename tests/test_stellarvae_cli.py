"""Bad input through the ``stellarvae`` command: one line on stderr, exit status 2."""
import json

import numpy as np
from astropy.coordinates import FK4, SkyCoord
from astropy.io import fits
from astropy.table import Table
from regions import Regions

from helpers import tan_wcs
from stellarvae.cli import main


def tan_header(n, scale_arcsec=1.0):
    """A TAN header with (RA, Dec) = (92.0, 20.6) at FITS pixel (n / 2, n / 2)."""
    return tan_wcs(92.0, 20.6, scale_arcsec, crpix=(n / 2.0, n / 2.0)).to_header()


def write_image(path, data, header=None):
    fits.PrimaryHDU(np.asarray(data, np.float32), header=header).writeto(path)
    return path


def assert_one_line_error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "error:" in err and "Traceback" not in err
    return err


def test_unknown_field_exits_2_listing_known_fields(capsys):
    err = assert_one_line_error(capsys, ["train", "--field", "IRAS12345"])
    assert "IRAS12345" in err and "IRAS06055" in err and "IRAS06061" in err


def test_fits_without_wcs(tmp_path, capsys):
    path = write_image(tmp_path / "nowcs.fits", np.random.default_rng(0).random((80, 80)))
    err = assert_one_line_error(capsys, ["detect", str(path), "--out", str(tmp_path / "o")])
    assert "WCS" in err


def test_all_nan_image(tmp_path, capsys):
    path = write_image(tmp_path / "nan.fits", np.full((80, 80), np.nan), tan_header(80))
    err = assert_one_line_error(capsys, ["detect", str(path), "--out", str(tmp_path / "o")])
    assert "NaN" in err


def test_image_smaller_than_the_largest_patch(tmp_path, capsys):
    path = write_image(tmp_path / "small.fits", np.random.default_rng(0).random((40, 90)),
                       tan_header(40))
    err = assert_one_line_error(capsys, ["detect", str(path), "--out", str(tmp_path / "o")])
    assert "64" in err


def test_empty_catalogue(tmp_path, capsys):
    image = write_image(tmp_path / "ok.fits", np.random.default_rng(0).random((80, 80)),
                        tan_header(80))
    catalog = tmp_path / "stars.ecsv"
    Table({"ra": np.zeros(0), "dec": np.zeros(0), "kmag": np.zeros(0)}).write(catalog)
    err = assert_one_line_error(capsys, ["detect", str(image), "--catalog", str(catalog),
                                         "--out", str(tmp_path / "o")])
    assert "star" in err


def test_fields_verb_lists_the_eight_fields(capsys):
    assert main(["fields"]) == 0
    out = capsys.readouterr().out
    assert out.count("\nIRAS0") == 8
    # IRAS 06055+2039: RA 06h05.5m, Dec +20d39' (B1950, FK4) in ICRS
    expected = SkyCoord("06h05m30s", "+20d39m", frame=FK4(equinox="B1950")).icrs
    line = next(line for line in out.splitlines() if line.startswith("IRAS06055 "))
    ra, dec = (float(value) for value in line.split()[3:5])
    assert abs(ra - expected.ra.deg) < 1e-5 and abs(dec - expected.dec.deg) < 1e-5


def test_detect_reads_an_image_from_any_hdu_and_writes_the_outputs(tmp_path, capsys):
    rng = np.random.default_rng(0)
    image = rng.normal(100.0, 1.0, (80, 96))   # one row of 64 px patches: that size is skipped
    for x, y in rng.normal(48.0, 6.0, (40, 2)):                 # a clump of point sources
        image[int(y) % 80, int(x) % 96] += 50.0
    path = tmp_path / "field.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(image.astype(np.float32),
                                                   header=tan_header(96))]).writeto(path)
    argv = ["detect", str(path), "--max-epochs", "1", "--max-train-patches", "64",
            "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    run_dir = tmp_path / "out" / "field"
    for name in ("heat_map.fits", "detection.ecsv", "detection.json", "detection.reg",
                 "latent_space.png", "heat_map.png", "detection.png"):
        assert (run_dir / name).is_file(), name
    assert "field.fits: done" in capsys.readouterr().out
    table = Table.read(run_dir / "detection.ecsv")
    assert list(table["method"]) == ["vae"] and np.isfinite(table["ra"][0])
    circle, centre = Regions.parse((run_dir / "detection.reg").read_text(), format="ds9")
    vae = SkyCoord(table["ra"][0], table["dec"][0], unit="deg")
    assert circle.meta["text"] == "vae" and centre.center.separation(vae).arcsec < 1e-3
    assert circle.center.separation(vae).arcsec < 1e-3
    assert abs(circle.radius.to_value("arcsec") - table["radius_arcsec"][0]) < 1e-3
    summary = json.loads((run_dir / "detection.json").read_text())
    assert "skipped" in summary["per_patch_size"]["64"]
    assert "skipped" not in summary["per_patch_size"]["32"]
