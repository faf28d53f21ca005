"""Leave-one-look-out evaluation (``deepcee.evaluation.look_table``): a test set per look, built
from the simulator with that look and reused on a rerun, every detector scored on each, one
table row per look."""
import dataclasses
import json

import numpy as np

from data_prep.deepcee_data import builder
from data_prep.deepcee_data.tfrecord_schema import read_examples
from deepcee.evaluation import look_table

TINY = builder.Settings(source="sim", seed=5, n=2, cutout_px=200, image_px=100, copies=1,
                        max_offset_arcsec=10.0, test_fraction=0.5)
"""Two clusters, one in the test split, in 200 px cutouts with the BCG within 10" of the
centre (under 50 kpc at these redshifts)."""


def centre_box(image):
    """Boxes the middle of the image, where the BCG is."""
    return np.array([[0.45, 0.45, 0.55, 0.55]], np.float32), np.array([0.9], np.float32)


def nothing(image):
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)


def test_each_look_gets_its_test_set_and_each_detector_its_row_entry(tmp_path, capsys):
    looks = ["default", "bad_seeing"]
    folders = look_table.build_test_sets(looks, TINY, tmp_path / "data", tmp_path / "cache")
    images = {look: [e["image"] for e in read_examples(sorted(folder.glob("test-*")))]
              for look, folder in folders.items()}
    assert all(len(found) == 1 for found in images.values())
    assert not np.array_equal(images["default"][0], images["bad_seeing"][0])
    manifest = json.loads((folders["bad_seeing"] / "manifest.json").read_text())
    assert manifest["settings"]["look"] == "bad_seeing"

    results = look_table.evaluate_looks({"centre": centre_box, "blind": nothing}, folders,
                                        tmp_path / "out")
    rows = look_table.table_rows(results)
    assert [row["look"] for row in rows] == looks
    assert all(row["centre"]["f1"] == 1.0 and row["blind"]["f1"] == 0.0 for row in rows)
    look_table.write_table(tmp_path / "out", rows, ["centre", "blind"], "deepcee look-table")
    text = (tmp_path / "out" / "look_table.md").read_text()
    assert "| bad_seeing | 1.000 (1.00 / 1.00) | 0.000 (0.00 / 0.00) | 1 |" in text
    assert (tmp_path / "out" / "centre" / "bad_seeing" / "summary.json").is_file()

    capsys.readouterr()
    look_table.build_test_sets(looks, TINY, tmp_path / "data", tmp_path / "cache")
    assert "0 images made" in capsys.readouterr().out  # a rerun reuses the finished sets


def test_a_look_changes_only_the_look_of_the_settings():
    assert look_table.look_settings("default", TINY) == TINY
    assert look_table.look_settings("shallow", TINY) == dataclasses.replace(TINY, look="shallow")
