"""``deepcee evaluate`` end to end on three hand-made records and a fake detector: every file
is written and the table matches counts made by hand."""
import json
import subprocess
import sys

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table
from PIL import Image
from regions import Regions

from deepcee.evaluation import evaluate
from helpers import BCG_PIXEL, record_bytes, tan_wcs, write_bcg_records, write_tfrecord

SIZE = 100
SCALE_ARCSEC = 0.792           # a 2000 px, 0.396"/px cutout resized to 1000 px
Z = 0.2                        # 3.2677 kpc/" -> 2.588 kpc per encoded pixel
KPC_PER_PX = SCALE_ARCSEC * 3.2677245748


def box_at(dx_px, dy_px, half=0.1):
    """A box ``dx_px, dy_px`` pixels from the BCG of a ``write_bcg_records`` image."""
    x = (BCG_PIXEL + dx_px + 0.5) / SIZE
    y = (BCG_PIXEL + dy_px + 0.5) / SIZE
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
         "pr_curve.png", "centre_offsets.png", "examples.png", "summary.json")


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    # three images, cluster A<i> at z = 0.2 with its BCG at pixel (50, 50) of image i
    write_bcg_records(tmp / "test-00000-of-00001.tfrecord", n_images=3, size=SIZE,
                      scale_arcsec=SCALE_ARCSEC, redshift=Z)
    name, paths = evaluate.split_records(tmp, "test")
    summary = evaluate.evaluate_split(FakeDetector(OUTPUTS), paths, tmp / "eval" / name, name)
    return tmp / "eval" / "test", summary


def test_every_file_is_written(evaluated):
    out, _ = evaluated
    for name in FILES:
        assert (out / name).stat().st_size > 0, name
    assert (out / "pr_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_examples_show_true_boxes_and_the_boxes_above_the_operating_threshold(evaluated):
    """examples.png: one tile per image; green true boxes everywhere, orange detections only
    where a box scores above the best-F1 threshold (images 0 and 1, not image 2)."""
    from PIL import Image
    from data_prep.deepcee_data.box_preview import BOX_COLOUR, PREDICTED_COLOUR
    out, summary = evaluated
    sheet = np.asarray(Image.open(out / "examples.png").convert("RGB"))
    tile = sheet.shape[1] // 3
    tiles = [sheet[:tile, k * tile:(k + 1) * tile] for k in range(3)]
    def has(image, colour):
        return bool(np.all(image == colour, axis=-1).any())
    assert all(has(t, BOX_COLOUR) for t in tiles)
    assert [has(t, PREDICTED_COLOUR) for t in tiles] == [True, True, False]
    assert summary["operating_threshold"] < 0.55


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
    wcs = tan_wcs(10.0, 10.0, 0.72, size=50)
    black = np.zeros((50, 50, 3), np.uint8)
    path = write_tfrecord(tmp_path / "neg-00000-of-00001.tfrecord", [
        record_bytes(black, [], {}, wcs, filename="a"),
        record_bytes(black, [[0.4, 0.4, 0.6, 0.6]],
                     {"ra": [10.0], "dec": [10.0], "redshift": [0.1], "name": ["A"]}, wcs,
                     filename="b")])
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
    (circle,) = Regions.parse(candidates.region_text(table, 1.61), format="ds9")
    assert circle.center.frame.name == "fk5" and circle.meta["text"] == "test-0000 0.85"
    assert circle.radius.to_value("arcmin") == pytest.approx(1.61, rel=1e-6)
    assert circle.center.separation(SkyCoord(table["ra"][0], table["dec"][0], unit="deg",
                                             frame="fk5")).arcsec < 1e-3
    assert "green" in circle.visual.values()                 # known: J1 is within the radius


def test_fps_of_each_image_merge_into_the_highest_scoring_one_within_the_radius():
    from deepcee.evaluation import candidates

    arcmin = 1.0 / 60
    # image 0: A (0.9), B 1' from A (0.8), C 2' from A and 1' from B (0.7); image 1: D at A's
    # position (0.6) and E 0.94 deg away (0.95); image 2: F at B's position (0.5)
    fps = Table({"image": [1, 0, 0, 0, 1, 2], "score": [0.6, 0.8, 0.9, 0.7, 0.95, 0.5],
                 "ra": [150.0, 150.0, 150.0, 150.0, 151.0, 150.0],
                 "dec": [20.0, 20.0 + arcmin, 20.0, 20.0 + 2 * arcmin, 20.0, 20.0 + arcmin]})
    merged = candidates.merge_image_fps(fps, 1.5)
    # A takes B; C (B already taken, 2' from A) stands alone; other images never merge
    assert list(merged["image"]) == [0, 0, 1, 1, 2]
    assert list(merged["score"]) == [0.9, 0.7, 0.95, 0.6, 0.5]
    assert list(merged["n_boxes"]) == [2, 1, 1, 1, 1]
    assert len(candidates.merge_image_fps(fps[:0], 1.5)) == 0


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
