"""``deepcee evaluate`` end to end on three hand-made records and a fake detector: every file
is written and the table matches counts made by hand."""
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS
from PIL import Image

from data_prep.deepcee_data.tfrecord_schema import encode_example
from deepcee.evaluation import evaluate

SIZE = 100
SCALE_ARCSEC = 0.792           # a 2000 px, 0.396"/px cutout resized to 1000 px
Z = 0.2                        # 3.2677 kpc/" -> 2.588 kpc per encoded pixel
KPC_PER_PX = SCALE_ARCSEC * 3.2677245748


def write_records(path, n_images=3, size=SIZE):
    """Records with one cluster each, its BCG at pixel (50, 50) of a north-up TAN image of
    ``size`` x ``size`` pixels at 0.792"/px (random pixels)."""
    import tensorflow as tf

    centre_x = centre_y = (50 + 0.5) / size
    with tf.io.TFRecordWriter(str(path)) as writer:
        for i in range(n_images):
            wcs = WCS(naxis=2)
            wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
            wcs.wcs.crval = [150.0 + i, 20.0]
            wcs.wcs.crpix = [51.0, 51.0]            # FITS 1-based: array pixel (50, 50)
            wcs.wcs.cdelt = [-SCALE_ARCSEC / 3600, SCALE_ARCSEC / 3600]
            buffer = io.BytesIO()
            rng = np.random.default_rng(i)
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(
                buffer, format="PNG")
            objects = {"ra": [150.0 + i], "dec": [20.0], "redshift": [Z],
                       "bcg_rmag": [15.0 + i], "richness": [40.0 + i], "n200": [25.0],
                       "center_x": [centre_x], "center_y": [centre_y], "name": [f"A{i}"]}
            half = 0.1 * SIZE / size
            writer.write(encode_example(
                buffer.getvalue(), size, size, f"img{i}.png", f"img{i}",
                [[centre_y - half, centre_x - half, centre_y + half, centre_x + half]], [1],
                ["cluster"], objects, wcs.to_header().tostring(sep="\n")))


def box_at(dx_px, dy_px, half=0.1):
    x = (50 + dx_px + 0.5) / SIZE
    y = (50 + dy_px + 0.5) / SIZE
    return [y - half, x - half, y + half, x + half]


class FakeDetector:
    """Returns pre-set boxes for each image in turn (the Detector call signature)."""

    def __init__(self, outputs):
        self.outputs = list(outputs)

    def __call__(self, image):
        assert image.dtype == np.uint8 and image.shape == (SIZE, SIZE, 3)
        boxes, scores = self.outputs.pop(0)
        return np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(scores, np.float32)


# image 0: a box on the BCG (0.95), a second box 5 px off (0.85: FP), one 50 px = 129 kpc
# off (0.75: FP); image 1: one box 30 px = 78 kpc off (0.55: TP); image 2: no box (FN).
OUTPUTS = [([box_at(0, 0), box_at(5, 0), box_at(0, 50)], [0.95, 0.85, 0.75]),
           ([box_at(30, 0)], [0.55]),
           (np.zeros((0, 4)), [])]
# threshold %: TP, FP, FN counted by hand from OUTPUTS
HAND = {0: (2, 2, 1), 50: (2, 2, 1), 60: (1, 2, 2), 70: (1, 2, 2), 80: (1, 1, 2),
        90: (1, 0, 2), 100: (0, 0, 3)}
FILES = ("detections.ecsv", "clusters.ecsv", "threshold_table.ecsv", "threshold_table.md",
         "pr_curve.png", "centre_offsets.png", "summary.json")


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    write_records(tmp / "test-00000-of-00001.tfrecord")
    name, paths = evaluate.split_records(tmp, "test")
    summary = evaluate.evaluate_split(FakeDetector(OUTPUTS), paths, tmp / "eval" / name, name)
    return tmp / "eval" / "test", summary


def test_every_file_is_written(evaluated):
    out, _ = evaluated
    for name in FILES:
        assert (out / name).stat().st_size > 0, name
    assert (out / "pr_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_table_matches_hand_counts(evaluated):
    out, summary = evaluated
    table = Table.read(out / "threshold_table.ecsv")
    rows = {int(r["threshold_percent"]): (r["tp"], r["fp"], r["fn"]) for r in table}
    for percent, counts in HAND.items():
        assert rows[percent] == counts, percent
    assert summary["best_f1"]["threshold"] == 0.0            # F1 0.5714 at 0..50 %: lowest
    assert summary["best_f1"]["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    written = json.loads((out / "summary.json").read_text())
    assert written["n_clusters"] == 3 and written["n_images"] == 3


def test_kpc_offsets_and_eq8(evaluated):
    out, summary = evaluated
    detections = Table.read(out / "detections.ecsv")
    assert list(detections["cluster"]) == [0, -1, -1, 1]
    np.testing.assert_allclose(detections["offset_kpc"][[0, 3]], [0.0, 30 * KPC_PER_PX],
                               atol=0.05)
    assert detections["nearest_kpc"][2] == pytest.approx(50 * KPC_PER_PX, rel=1e-3)
    operating = summary["at_operating_threshold"]
    assert operating["standard_error_kpc"] == pytest.approx(
        np.sqrt((30 * KPC_PER_PX) ** 2 / 2), rel=1e-3)
    # 4 predictions above 0 %: 3 within 100 kpc of a centre, 1 at 129 kpc
    assert operating["fraction_predictions_within_radius"] == pytest.approx(0.75)


def test_ks_and_markdown(evaluated):
    out, summary = evaluated
    ks = summary["ks_tests"]
    assert set(ks) == {"redshift", "bcg_rmag", "richness"}
    assert ks["richness"]["n_returned"] == 2 and ks["richness"]["n_all"] == 3
    text = (out / "threshold_table.md").read_text()
    assert "| 80 | 1 | 1 | 2 | 0.5000 | 0.3333 | 0.4000 |" in text


def test_fixed_threshold_and_rescore_without_rerun(evaluated, tmp_path):
    out, _ = evaluated
    detections = Table.read(out / "detections.ecsv")
    clusters = Table.read(out / "clusters.ecsv")
    summary = evaluate.write_split_outputs(tmp_path, "test", detections, clusters, 150.0,
                                           threshold=0.7)
    assert summary["operating_threshold"] == 0.7
    assert summary["table"][0]["tp"] == 2 and summary["table"][0]["fp"] == 2
    # within 150 kpc the far box (129 kpc) is near the cluster but it is already taken: a FP
    assert summary["at_operating_threshold"]["fraction_predictions_within_radius"] == 1.0
    assert summary["at_operating_threshold"]["n_tp"] == 1


def test_rescore_reads_saved_detections(evaluated, tmp_path):
    import shutil

    out, _ = evaluated
    copy = tmp_path / "test"
    shutil.copytree(out, copy)
    summary = evaluate.rescore_split(copy, "test", 200.0, threshold=0.9)
    assert summary["records"] and summary["match_radius_kpc"] == 200.0
    rows = Table.read(copy / "threshold_table.ecsv")
    assert (rows["tp"][0], rows["fp"][0], rows["fn"][0]) == (2, 2, 1)
    assert json.loads((copy / "summary.json").read_text())["operating_threshold"] == 0.9


def test_image_without_clusters_counts_its_boxes_as_fp(tmp_path):
    import tensorflow as tf

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval, wcs.wcs.crpix, wcs.wcs.cdelt = [10, 10], [25.5, 25.5], [-2e-4, 2e-4]
    header = wcs.to_header().tostring(sep="\n")
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((50, 50, 3), np.uint8)).save(buffer, format="PNG")
    path = tmp_path / "neg-00000-of-00001.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(encode_example(buffer.getvalue(), 50, 50, "a", "a", np.zeros((0, 4)), [],
                                    [], {}, header))
        writer.write(encode_example(buffer.getvalue(), 50, 50, "b", "b", [[0.4, 0.4, 0.6, 0.6]],
                                    [1], ["cluster"], {"ra": [10.0], "dec": [10.0],
                                                       "redshift": [0.1], "name": ["A"]},
                                    header))
    box = (np.array([[0.4, 0.4, 0.6, 0.6]]), np.array([0.8]))
    summary = evaluate.evaluate_split(lambda image: box, [path], tmp_path / "out", "neg")
    assert summary["n_images"] == 2 and summary["n_clusters"] == 1
    assert (summary["table"][5]["tp"], summary["table"][5]["fp"]) == (1, 1)


def test_cli_rejects_a_radius_beyond_250_kpc(tmp_path):
    result = subprocess.run([sys.executable, "-m", "deepcee", "evaluate", "--model", tmp_path,
                             "--data", tmp_path, "--match-radius-kpc", "300"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "250" in result.stderr


def test_candidates_from_false_positives(evaluated, tmp_path):
    from deepcee.evaluation import candidates

    out, summary = evaluated
    detections = Table.read(out / "detections.ecsv")
    fp_box = detections[2]                              # 0.75, 129 kpc from the BCG
    raw_wen = Table({"WHL": ["J1", "J2", "J3"], "RAJ2000": [fp_box["ra"], fp_box["ra"], 10.0],
                     "DEJ2000": [fp_box["dec"] + 0.5 / 60, fp_box["dec"], 10.0],
                     "zph": [0.3, 0.45, 0.2]})       # J2 is outside 0.05 < z < 0.4
    raw_redmapper = Table({"Name": ["RM1"], "RAJ2000": [200.0], "DEJ2000": [-5.0],
                           "zlambda": [0.15]})
    references = {"wen": candidates.standard_reference(raw_wen, "wen"),
                  "redmapper": candidates.standard_reference(raw_redmapper, "redmapper")}
    assert list(references["wen"]["name"]) == ["J1", "J3"]
    table = candidates.split_candidates(out, "test", 0.7, references, 1.61)
    # image 0's FPs at 0.85 and 0.75 are 50 px = 40" apart: one candidate of two boxes
    assert len(table) == 1 and table["n_boxes"][0] == 2
    assert table["score"][0] == pytest.approx(0.85)
    assert table["wen_name"][0] == "J1" and table["wen_match"][0] and table["known"][0]
    assert not table["redmapper_match"][0]
    assert table["wen_sep_arcmin"][0] == pytest.approx(
        np.hypot(0.5 + 50 * SCALE_ARCSEC / 60, 5 * SCALE_ARCSEC / 60), abs=0.01)
    candidates.write_stamps(table, summary["records"], tmp_path / "stamps")
    stamp = Image.open(tmp_path / "stamps" / "test-0000.png")
    assert stamp.size[0] > 10 and stamp.mode == "RGB"
    region = candidates.region_text(table, 1.61)
    assert "fk5" in region and 'circle(' in region and "96.60\"" in region


def test_injection_recovery_on_the_simulator(tmp_path):
    """Two small simulated cutouts made by the data set builder; a detector that boxes the
    stored BCG of the first image only recovers 1 of 2 (wiring of records, matching, grid)."""
    import dataclasses
    from deepcee.evaluation import injection_recovery as ir

    settings = dataclasses.replace(ir.dataset_settings(tmp_path / "none", 0), cutout_px=200,
                                   image_px=100, max_offset_arcsec=10.0)
    records = tmp_path / "injections.tfrecord"
    injections = ir.make_injection_records(records, [0.1, 0.3], [10.0, 80.0], 1, settings)
    assert list(injections["z"]) == [0.1, 0.3] and len(set(injections["name"])) == 1

    from data_prep.deepcee_data.tfrecord_schema import read_examples
    centres = [(e["center_x"][list(e["names"]).index(n.encode())],
                e["center_y"][list(e["names"]).index(n.encode())])
               for e, n in zip(read_examples([records]), injections["name"])]
    x, y = centres[0]
    outputs = [([[y - 0.05, x - 0.05, y + 0.05, x + 0.05]], [0.9]), (np.zeros((0, 4)), [])]
    ir.recover(FakeDetector(outputs), records, injections, 100.0, 0.7)
    assert list(injections["recovered"]) == [True, False]
    assert injections["offset_kpc"][0] < 1.0
    completeness, recovered, injected = ir.completeness_grid(injections, [0.1, 0.3], [10, 80])
    assert completeness.tolist() == [[1.0], [0.0]] and injected.sum() == 2
