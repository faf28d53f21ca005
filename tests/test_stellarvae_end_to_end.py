"""StellarVAE end to end on the simulator: every output, and the detection against the truth."""
import json

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from stellarvae.cli import main
from stellarvae.pipeline import IMPROVED

OUTPUTS = ("heat_map.fits", "detection.ecsv", "detection.json", "detection.reg",
           "latent_space.png", "heat_map.png", "detection.png",
           "models/vae_patch8.weights.h5", "models/vae_patch64.weights.h5",
           "models/gmm_patch32.npz")


IMPROVED_ARGS = ["--background-px", str(IMPROVED["background_px"]),
                 "--heat-smoothing-px", str(IMPROVED["heat_smoothing_px"])]


@pytest.mark.slow
def test_paper_method_finds_the_sim_cluster_centre(tmp_path):
    """The paper's method (the defaults) puts the centre within half the true radius."""
    argv = ["train", "--field", "IRAS06055", "--source", "sim", "--seed", "0", "--no-baselines",
            "--out", str(tmp_path / "runs"), "--cache", str(tmp_path / "cache")]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "runs" / "IRAS06055" / "detection.json").read_text())
    assert summary["options"]["background_px"] == 0
    assert summary["options"]["heat_smoothing_px"] == 0
    vae = summary["detections"][0]
    assert vae["offset_truth_arcsec"] < 0.5 * vae["truth_radius_arcsec"]


@pytest.mark.slow
def test_sim_field_is_found_within_half_the_true_radius_with_iou_at_least_0_6(tmp_path,
                                                                              capsys):
    """With the two named improvements, the region also follows the whole cluster."""
    argv = ["train", "--field", "IRAS06055", "--source", "sim", "--seed", "0", *IMPROVED_ARGS,
            "--out", str(tmp_path / "runs"), "--cache", str(tmp_path / "cache")]
    assert main(argv) == 0
    run_dir = tmp_path / "runs" / "IRAS06055"
    for name in OUTPUTS:
        assert (run_dir / name).is_file(), name
    assert any((run_dir / "tensorboard" / "patch16").rglob("events.out.tfevents.*"))
    summary = json.loads((run_dir / "detection.json").read_text())
    vae = next(row for row in summary["detections"] if row["method"] == "vae")
    print(json.dumps(vae, indent=1))
    assert vae["offset_truth_arcsec"] < 0.5 * vae["truth_radius_arcsec"]
    assert vae["iou_truth"] >= 0.6
    assert vae["ref_radius_arcsec"] == 89.0 and vae["members"] > 0
    table = Table.read(run_dir / "detection.ecsv")
    assert list(table["method"]) == ["vae", "star_counts", "knn_density"]
    assert str(table["radius_arcsec"].unit) == "arcsec"
    with fits.open(run_dir / "heat_map.fits") as hdul:
        assert hdul[0].header["CTYPE1"].startswith("RA---")
        assert {"VOTES8", "VOTES64", "REGION"} <= {hdu.name for hdu in hdul}
        assert hdul["REGION"].data.sum() > 0
    assert "circle(" in (run_dir / "detection.reg").read_text()
    capsys.readouterr()
    # a rerun with the same inputs reuses the finished field
    before = (run_dir / "detection.json").stat().st_mtime_ns
    assert main(argv) == 0
    assert "reused" in capsys.readouterr().out
    assert (run_dir / "detection.json").stat().st_mtime_ns == before


@pytest.mark.slow
def test_table_for_two_fields_with_reduced_training(tmp_path, capsys):
    argv = ["table", "--source", "sim", "--seed", "1", "--fields", "IRAS06055,IRAS05274",
            "--max-epochs", "3", "--max-train-patches", "400", "--no-baselines",
            "--out", str(tmp_path / "runs"), "--cache", str(tmp_path / "cache")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "| IRAS 06055+2039 |" in out and "| IRAS 05274+3345 |" in out
    table = Table.read(tmp_path / "runs" / "table1.ecsv")
    assert list(table["ref_radius_arcsec"]) == [89.0, 103.0]
    assert list(table["paper_members"]) == [98, 56]
    assert np.all(np.isfinite(table["iou_truth_percent"]))
    assert (tmp_path / "runs" / "table1.md").read_text().count("\n") == 4
