"""Export (SavedModel with the OD API serving signature) and detect (tiling, merging, FITS and
PNG inputs, ECSV / ds9 / PNG outputs)."""
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from PIL import Image
from regions import Regions
from scipy import ndimage

import tensorflow as tf

from data_prep.base.errors import InputError
from deepcee.serving import detect
from deepcee.cli import main as deepcee_main
from helpers import TINY_CONFIG, tan_wcs

# --- tiling and merging, with a stand-in network that boxes bright blobs -------------------


def blob_finder(images):
    """OD API-style output for a batch of one: a box around each bright blob, score 0.9."""
    image = images.numpy()[0, :, :, 0]
    height, width = image.shape
    labels, count = ndimage.label(image > 128)
    boxes = np.zeros((10, 4), np.float32)
    for k, (rows, cols) in enumerate(ndimage.find_objects(labels)[:10]):
        boxes[k] = [rows.start / height, cols.start / width, rows.stop / height,
                    cols.stop / width]
    scores = np.where(np.arange(10) < count, 0.9, 0.0).astype(np.float32)
    return {"detection_boxes": tf.constant(boxes[None]), "detection_scores":
            tf.constant(scores[None]), "num_detections": tf.constant([float(min(count, 10))])}


def test_tile_spans_cover_the_axis_once_with_overlap():
    spans = detect.tile_spans(2500, 1000)
    assert [s[:2] for s in spans] == [(0, 1000), (750, 1750), (1500, 2500)]
    owns = [s[2:] for s in spans]
    assert owns[0][0] == 0 and owns[-1][1] == 2500
    assert all(a[1] == b[0] for a, b in zip(owns, owns[1:]))
    assert detect.tile_spans(800, 1000) == [(0, 800, 0, 800)]


def test_big_image_is_tiled_and_each_blob_found_once():
    image = np.zeros((1900, 2600, 3), np.uint8)
    truth = [(100, 120, 160, 200), (700, 980, 790, 1060),  # across a tile seam
             (1500, 1700, 1580, 1790), (1820, 2500, 1890, 2590)]
    for ymin, xmin, ymax, xmax in truth:
        image[ymin:ymax, xmin:xmax] = 255
    detector = detect.Detector(blob_finder, tile_size=(1000, 1000))
    boxes, scores = detector(image)
    assert len(boxes) == len(truth)
    found = sorted(np.round(boxes * [1900, 2600, 1900, 2600]).astype(int).tolist())
    assert found == sorted(list(t) for t in truth)
    assert np.all(scores == pytest.approx(0.9))


def test_image_no_bigger_than_a_tile_is_one_pass():
    calls = []

    def counting(images):
        calls.append(images.shape)
        return blob_finder(images)

    image = np.zeros((600, 700, 3), np.uint8)
    image[10:50, 20:90] = 255
    boxes, _ = detect.Detector(counting, tile_size=(1000, 1000))(image)
    assert calls == [(1, 600, 700, 3)]
    np.testing.assert_allclose(boxes[0], [10 / 600, 20 / 700, 50 / 600, 90 / 700], atol=1e-6)


def test_detector_rejects_non_rgb_uint8():
    with pytest.raises(InputError, match="uint8 RGB"):
        detect.Detector(blob_finder)(np.zeros((10, 10), np.float32))


# --- the detect verb, with the stand-in network ----------------------------------------------

@pytest.fixture
def fake_model(monkeypatch):
    monkeypatch.setattr(detect, "load_detector", lambda model: detect.Detector(
        blob_finder, tile_size=(400, 400), training_pixel_scale_arcsec=0.792))


def sdss_triplet(tmp_path, size=800):
    """g, r, i FITS at 0.396"/px with a TAN WCS and one bright square (the 'cluster')."""
    wcs = tan_wcs(150.0, 30.0, 0.396, size=size)
    rng = np.random.default_rng(0)
    paths = {}
    for band in "gri":
        data = rng.normal(0.0, 0.01, (size, size)).astype(np.float32)
        data[200:260, 500:580] = 50.0
        paths[band] = tmp_path / f"field_{band}.fits"
        fits.PrimaryHDU(data, wcs.to_header()).writeto(paths[band])
    return paths, wcs


def test_detect_fits_triplet_writes_table_regions_overlay(tmp_path, fake_model):
    paths, wcs = sdss_triplet(tmp_path)
    out = tmp_path / "out"
    assert deepcee_main(["detect", str(tmp_path / "field_{band}.fits"), "--model", "m",
                         "--out", str(out)]) == 0
    table = Table.read(out / "detections.ecsv")
    assert len(table) == 1
    # the box is in the FITS pixels although the picture was resampled 2x (0.396 -> 0.792")
    row = table[0]
    assert row["x"] == pytest.approx(539.5, abs=2) and row["y"] == pytest.approx(229.5, abs=2)
    assert row["xmax"] - row["xmin"] == pytest.approx(80, abs=3)
    sky = wcs.pixel_to_world(539.5, 229.5)
    assert row["ra"] == pytest.approx(sky.ra.deg, abs=1e-4)
    assert row["dec"] == pytest.approx(sky.dec.deg, abs=1e-4)
    (box,) = Regions.read(out / "detections.reg", format="ds9")
    assert box.center.separation(sky).arcsec < 0.5
    assert box.width.to_value("arcsec") == pytest.approx(80 * 0.396, abs=3 * 0.396)
    overlay = np.asarray(Image.open(out / "overlay.png"))
    assert overlay.shape == (400, 400, 3)


def test_a_fits_triplet_in_counts_with_its_sky_gives_the_nanomaggy_picture(tmp_path):
    """The stretch is fixed per band from the band's own sky median and percentile, so a
    triplet in counts (another gain per band) with the sky not subtracted (another level per
    band) makes the picture the nanomaggy, sky-subtracted triplet makes, to the 8-bit step."""
    from data_prep.sim.galaxy_clusters import MockSky
    from data_prep.sim.sdss import ELECTRONS_PER_NMGY
    sky = MockSky(3)
    row = sky.truth_table()[0]
    hdus = sky.cutout(row["ra"], row["dec"], size_px=600)
    variants = {"nmgy": {}, "counts": {}}
    for k, band in enumerate("gri"):
        for name, data in (("nmgy", hdus[band].data),
                           ("counts", hdus[band].data * ELECTRONS_PER_NMGY[band] + 150.0 * k
                            + 80.0)):
            path = tmp_path / f"{name}_{band}.fits"
            fits.PrimaryHDU(data.astype(np.float32), hdus[band].header).writeto(path)
            variants[name][band] = path
    pictures = {name: detect.read_fits_triplet(paths, 0.792).rgb.astype(int)
                for name, paths in variants.items()}
    difference = np.abs(pictures["nmgy"] - pictures["counts"])
    assert difference.max() <= 1 and (difference == 0).mean() > 0.99


def test_detect_png_without_wcs_uses_image_coordinates(tmp_path, fake_model):
    image = np.zeros((300, 500, 3), np.uint8)
    image[40:80, 100:160] = 255
    Image.fromarray(image).save(tmp_path / "a.png")
    Image.fromarray(image[::-1]).save(tmp_path / "b.jpg", quality=95)
    out = tmp_path / "out"
    assert deepcee_main(["detect", str(tmp_path / "a.png"), str(tmp_path / "b.jpg"),
                         "--model", "m", "--out", str(out), "--threshold", "0.5"]) == 0
    table = Table.read(out / "a" / "detections.ecsv")
    assert "ra" not in table.colnames
    assert (table["x"][0], table["y"][0]) == pytest.approx((129.5, 59.5), abs=0.01)
    (box,) = Regions.read(out / "a" / "detections.reg", format="ds9")
    assert (box.center.x, box.center.y, box.width, box.height) == pytest.approx(
        (129.5, 59.5, 60.0, 40.0), abs=0.01)
    assert float(box.meta["text"]) == pytest.approx(table["score"][0], abs=0.005)
    assert len(Table.read(out / "b" / "detections.ecsv")) == 1


@pytest.mark.parametrize("argv, message", [
    (["missing.png"], "no such file"),
    (["--fits-g", "G.fits", "--fits-r", "R.fits"], "i band is missing"),
    (["notes.png"], "not a PNG or JPEG"),
    (["one.fits"], "single FITS file"),
])
def test_bad_inputs_are_one_line_errors(tmp_path, fake_model, capsys, monkeypatch, argv,
                                        message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.png").write_text("not an image")
    for band in "GR":
        fits.PrimaryHDU(np.ones((8, 8), np.float32)).writeto(tmp_path / f"{band}.fits")
    assert deepcee_main(["detect", *argv, "--model", "m", "--out", "o"]) == 2
    assert message in capsys.readouterr().err


# --- export, with the real tiny model ---------------------------------------------------------

@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, blob_records):
    """A tiny-config run trained for two steps on the 128 px blob records."""
    from deepcee.training.train import train
    root = tmp_path_factory.mktemp("run")
    train(TINY_CONFIG, root / "train", data_dir=blob_records, steps=2, log=lambda _: None)
    return root


@pytest.mark.slow
def test_export_answers_through_serving_default(trained_run):
    from deepcee.serving.export import export
    saved = export(trained_run / "train", trained_run / "export")
    assert (trained_run / "export" / "pipeline.config").is_file()
    assert (trained_run / "export" / "label_map.pbtxt").is_file()
    loaded = tf.saved_model.load(str(saved))
    serve = loaded.signatures["serving_default"]
    spec = serve.structured_input_signature[1]["input_tensor"]
    assert spec.dtype == tf.uint8 and spec.shape.as_list() == [1, None, None, 3]
    image = np.random.default_rng(1).integers(0, 255, (1, 150, 130, 3), dtype=np.uint8)
    out = serve(input_tensor=tf.constant(image))
    assert set(out) == {"detection_boxes", "detection_scores", "detection_classes",
                        "num_detections"}
    k = out["detection_scores"].shape[1]
    assert out["detection_boxes"].shape == (1, k, 4) and out["detection_classes"].shape == (1, k)
    assert out["num_detections"].shape == (1,) and all(v.dtype == tf.float32
                                                       for v in out.values())
    n = int(out["num_detections"][0])
    scores = out["detection_scores"][0].numpy()
    assert np.all(np.diff(scores[:n]) <= 1e-6) and np.all(scores[n:] == 0)
    assert np.all(out["detection_classes"][0, :n].numpy() == 1.0)
    boxes = out["detection_boxes"][0, :n].numpy()
    assert np.all((boxes >= 0) & (boxes <= 1)) and np.all(boxes[:, 2:] >= boxes[:, :2])
    assert loaded.training_image_size.numpy().tolist() == [128, 128]
    # the SavedModel and the checkpoint give the same detections
    from_saved = detect.Detector.from_saved_model(trained_run / "export")
    from_ckpt = detect.Detector.from_checkpoint(trained_run / "train")
    for a, b in zip(from_saved(image[0]), from_ckpt(image[0])):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_export_without_a_run_is_an_input_error(tmp_path, capsys):
    assert deepcee_main(["export", "--model-dir", str(tmp_path), "--out",
                         str(tmp_path / "e")]) == 2
    assert "run 'deepcee train'" in capsys.readouterr().err
