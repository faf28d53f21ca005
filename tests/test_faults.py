"""The bad-input contract of every command, end to end through the console entry points.

Each case is a user mistake (a malformed or missing file, a path-like field name, a FITS with
no WCS, ...). The contract: exit status 2, exactly one line on stderr that names the problem,
no traceback, and every file already in the output folder byte-for-byte unchanged.
Component-level faults (SIGKILL during tfrecords and training, services that time out or answer
HTTP 500, truncated downloads) are tested beside their modules: test_dataset.py,
test_train.py, test_surveys.py.
"""
import hashlib

import numpy as np
import pytest
from astropy.io import fits

from helpers import TINY_CONFIG, run_cli, tan_wcs

pytestmark = pytest.mark.slow


def tree_digest(root):
    """{relative path: sha256} of every file under ``root``."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def finished_outputs(root):
    """An output folder holding results of an earlier run, which no failure may touch."""
    (root / "IRAS06055").mkdir(parents=True)
    (root / "IRAS06055" / "detection.json").write_text('{"ra": 92.1}\n')
    (root / "train").mkdir()
    (root / "train" / "checkpoint").write_text('model_checkpoint_path: "ckpt-20"\n')
    return root


def write_kband(path, with_wcs=True, data=None):
    """A small K-band image, optionally with a celestial TAN WCS."""
    header = tan_wcs(92.1, 20.6, 1.0, size=128).to_header() if with_wcs else fits.Header()
    image = np.random.default_rng(0).normal(100, 5, (128, 128)) if data is None else data
    fits.PrimaryHDU(image.astype(np.float32), header).writeto(path)
    return path


def case_misspelt_config(tmp):
    config = tmp / "bad.config"
    config.write_text("model {\n  faster_rcnn {\n    num_clases: 1\n  }\n}\n")
    return ["deepcee", "check-config", config], "bad.config:3"


def case_train_with_malformed_config(tmp):
    config = tmp / "broken.config"
    config.write_text("model { faster_rcnn { num_classes: 1 \n")
    return ["deepcee", "train", "--config", config, "--model-dir", tmp / "out" / "train",
            "--steps", "1"], "broken.config"


def case_label_map_with_id_zero(tmp):
    label_map = tmp / "label_map.pbtxt"
    label_map.write_text("item {\n  id: 0\n  name: 'galaxy_cluster'\n}\n")
    config = tmp / "with_bad_map.config"
    text = (tmp.parents[0] / "repo_config.txt").read_text()
    config.write_text(text.replace("PIPELINE_LABEL_MAP", str(label_map)))
    return ["deepcee", "check-config", config], "label_map.pbtxt"


def case_field_is_a_path(tmp):
    return ["stellarvae", "train", "--field", "../../etc", "--out", tmp / "out"], "../../etc"


def case_unknown_field(tmp):
    return ["stellarvae", "train", "--field", "IRAS99999", "--out", tmp / "out"], "IRAS06055"


def case_fits_without_wcs(tmp):
    image = write_kband(tmp / "nowcs.fits", with_wcs=False)
    return ["stellarvae", "detect", image, "--out", tmp / "out"], "WCS"


def case_truncated_fits(tmp):
    image = write_kband(tmp / "whole.fits")
    truncated = tmp / "truncated.fits"
    truncated.write_bytes(image.read_bytes()[:5000])
    return ["stellarvae", "detect", truncated, "--out", tmp / "out"], "truncated.fits"


def case_image_of_zeros(tmp):
    image = write_kband(tmp / "zeros.fits", data=np.zeros((128, 128)))
    return ["stellarvae", "detect", image, "--out", tmp / "out"], "zeros.fits"


def case_empty_catalogue(tmp):
    image = write_kband(tmp / "field.fits")
    catalogue = tmp / "empty.ecsv"
    catalogue.write_text("# %ECSV 1.0\n# ---\n# datatype:\n# - {name: ra, datatype: float64}\n"
                         "# - {name: dec, datatype: float64}\nra dec\n")
    return ["stellarvae", "detect", image, "--catalog", catalogue, "--out", tmp / "out"], \
        "empty.ecsv"


def case_detect_missing_band(tmp):
    g = write_kband(tmp / "g.fits")
    r = write_kband(tmp / "r.fits")
    return ["deepcee", "detect", "--fits-g", g, "--fits-r", r, "--fits-i", tmp / "i.fits",
            "--model", tmp / "out" / "train", "--out", tmp / "out"], "i.fits"


def case_evaluate_without_records(tmp):
    (tmp / "empty_data").mkdir()
    return ["deepcee", "evaluate", "--model", tmp / "out" / "train", "--data",
            tmp / "empty_data", "--out", tmp / "out"], ""


CASES = [case_misspelt_config, case_train_with_malformed_config, case_label_map_with_id_zero,
         case_field_is_a_path, case_unknown_field, case_fits_without_wcs, case_truncated_fits,
         case_image_of_zeros, case_empty_catalogue, case_detect_missing_band,
         case_evaluate_without_records]


@pytest.fixture
def workspace(tmp_path):
    """A case folder with an output tree of earlier results, and a repo config template."""
    config = TINY_CONFIG.read_text()
    label_line = next(line for line in config.splitlines() if "label_map_path" in line)
    (tmp_path / "repo_config.txt").write_text(
        config.replace(label_line, '  label_map_path: "PIPELINE_LABEL_MAP"'))
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    finished_outputs(case_dir / "out")
    return case_dir


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[len("case_"):])
def test_bad_input_is_one_line_exit_2_and_damages_nothing(case, workspace):
    argv, must_mention = case(workspace)
    before = tree_digest(workspace / "out")
    result = run_cli(*argv, cwd=workspace)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert must_mention in lines[0]
    assert tree_digest(workspace / "out") == before
    assert not (workspace.parent / "etc").exists()
