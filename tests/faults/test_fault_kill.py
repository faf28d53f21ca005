"""Kills (SIGKILL) of the long verbs the older tests leave out, and what a rerun makes of them.

``deepcee train`` and ``deepcee tfrecords`` (in place) are killed in ``test_train.py`` and
``test_dataset.py``. Here: ``deepcee evaluate`` killed while it writes a split (each split
folder is then the earlier evaluation or the new one, never a mix, and the rerun writes the
bytes of an uninterrupted run), ``deepcee tfrecords`` killed while it builds a data set of
other settings over a finished one (the finished one stays whole until the new one replaces
it), and ``stellarvae detect`` (the field runner of ``stellarvae train`` and ``scan`` too)
killed while it trains (the earlier result stays whole; the rerun equals an uninterrupted run).
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fault_support import tree_digest, write_fits
from helpers import REPO, scalar_values, write_bcg_records

pytestmark = pytest.mark.slow

TIMING = "timing.json"
"""The one evaluation file that differs between runs (the detector's seconds)."""


def split_digests(out):
    """{split: tree digest without timing.json} of the split folders of an evaluation."""
    return {path.name: {name: digest for name, digest in tree_digest(path).items()
                        if name != TIMING}
            for path in sorted(Path(out).iterdir())
            if path.is_dir() and not path.name.startswith(".")}


def kill_when(process, ready, timeout=600):
    """SIGKILL ``process`` as soon as ``ready()`` is true; fail if it ends first."""
    deadline = time.time() + timeout
    while not ready():
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, "the moment to kill never came"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_evaluate_killed_while_writing_reruns_to_the_uninterrupted_bytes(tmp_path,
                                                                        fault_model,
                                                                        monkeypatch):
    import functools

    from deepcee.cli import main
    from deepcee.serving import detect
    monkeypatch.setattr(detect, "load_detector", functools.cache(detect.load_detector))
    data = tmp_path / "data"
    for split in ("test", "redmapper"):
        write_bcg_records(data / f"{split}-00000-of-00001.tfrecord", n_images=6)
    command = ["evaluate", "--model", str(fault_model["export"]), "--data", str(data)]
    assert main([*command, "--out", str(tmp_path / "reference")]) == 0
    reference = split_digests(tmp_path / "reference")
    out = tmp_path / "out"
    assert main([*command, "--out", str(out), "--limit", "2"]) == 0
    earlier = split_digests(out)
    assert earlier.keys() == reference.keys() and earlier != reference

    console = [sys.executable, "-m", "deepcee", *command, "--out", str(out)]
    process = subprocess.Popen(console, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    kill_when(process, lambda: any(path.name.startswith(".tmp-") for path in out.iterdir()))
    interrupted = split_digests(out)
    for split, files in interrupted.items():  # each split whole: the earlier or the new one
        assert files in (earlier[split], reference[split]), split
    assert interrupted != reference  # the kill came before the end

    rerun = subprocess.run(console, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert split_digests(out) == reference
    assert sorted(path.name for path in out.iterdir()) == sorted(reference)


def test_tfrecords_over_a_data_set_of_other_settings_keeps_it_whole_until_replaced(tmp_path):
    from fake_cluster_source import FakeClusterSource, run_tfrecords, scattered_clusters
    wen, redmapper = scattered_clusters(6), scattered_clusters(2, "RM", redmapper=True)
    out, cache = tmp_path / "data", tmp_path / "cache"
    argv = ["tfrecords", "--source", "sim", "--out", str(out), "--cache", str(cache),
            "--cutout-px", "300", "--image-px", "150", "--max-offset", "40", "--shard-size",
            "2"]
    assert run_tfrecords(argv, FakeClusterSource(wen, redmapper)) == 0
    finished = tree_digest(out)

    other = [*argv, "--box-kpc", "100"]
    code = (f"import sys; sys.path.insert(0, {str(REPO / 'tests')!r}); "
            "from fake_cluster_source import FakeClusterSource, run_tfrecords, "
            "scattered_clusters; "
            "source = FakeClusterSource(scattered_clusters(6), scattered_clusters(2, 'RM', "
            "redmapper=True), delay=0.3); "
            f"sys.exit(run_tfrecords({other!r}, source))")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    building = tmp_path / ".building-data"
    progress = building / ".progress.json"

    def shard_written():
        try:
            return len(json.loads(progress.read_text())) >= 1
        except (OSError, ValueError):
            return False
    kill_when(process, shard_written)
    assert tree_digest(out) == finished  # the earlier data set, whole
    assert building.is_dir()

    assert run_tfrecords(other, FakeClusterSource(wen, redmapper)) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["box_kpc"] == 100
    assert not building.exists() and not list(tmp_path.glob(".old-*"))
    for shard in manifest["shards"]:
        assert tree_digest(out)[shard["file"]] == shard["sha256"]
    assert os.listdir(out)


def test_a_kill_right_after_a_checkpoint_keeps_its_image(tmp_path, blob_records, monkeypatch):
    """The detection image of a checkpoint is written before it, so a kill just after the
    checkpoint loses no image, and the resumed run draws each step's image once."""
    import tensorflow as tf

    from deepcee.training.train import IMAGE_TAG, train
    from helpers import TINY_CONFIG, scalar_events
    save = tf.train.CheckpointManager.save

    def killed_after_step_2(manager, checkpoint_number=None, **options):
        path = save(manager, checkpoint_number=checkpoint_number, **options)
        if checkpoint_number == 2:
            raise KeyboardInterrupt  # the process ends here, as under SIGKILL
        return path
    monkeypatch.setattr(tf.train.CheckpointManager, "save", killed_after_step_2)
    run = dict(data_dir=blob_records, checkpoint_every=1, eval_every=0, log=lambda _: None)
    with pytest.raises(KeyboardInterrupt):
        train(TINY_CONFIG, tmp_path / "run", steps=3, **run)
    assert scalar_events(tmp_path / "run" / "eval")[IMAGE_TAG] == [1, 2]
    monkeypatch.setattr(tf.train.CheckpointManager, "save", save)
    train(TINY_CONFIG, tmp_path / "run", steps=3, **run)
    assert sorted(scalar_events(tmp_path / "run" / "eval")[IMAGE_TAG]) == [1, 2, 3]


def stellarvae_field(out):
    """A finished StellarVAE result folder, comparable between runs: {file: sha256} without the
    TensorBoard event files and detection.json (their wall-clock times), detection.json
    without its seconds, each patch size's logged NELBO ({epoch: value}) and number of event files."""
    files = {name: digest for name, digest in tree_digest(out).items()
             if "tensorboard" not in name and name != "detection.json"}
    summary = json.loads((out / "detection.json").read_text())
    summary.pop("seconds")
    for info in summary["per_patch_size"].values():
        info.pop("seconds")
    logged = {path.name: scalar_values(path / "train", "epoch_nelbo")
              for path in sorted((out / "tensorboard").glob("patch*"))}
    event_files = {path.name: len(list(path.rglob("events.*")))
                   for path in sorted((out / "tensorboard").glob("patch*"))}
    return files, summary, logged, event_files


def test_stellarvae_detect_killed_keeps_the_earlier_result_and_reruns_to_the_same_bytes(
        tmp_path):
    from astropy.table import Table

    image = write_fits(tmp_path / "field.fits", size=128)
    rng = np.random.default_rng(0)
    Table({"ra": 92.1 + rng.uniform(-0.015, 0.015, 60),
           "dec": 20.6 + rng.uniform(-0.015, 0.015, 60),
           "kmag": np.full(60, 12.0)}).write(tmp_path / "stars.ecsv")
    console = [sys.executable, "-m", "stellarvae", "detect", str(image), "--catalog",
               str(tmp_path / "stars.ecsv"), "--max-epochs", "2", "--max-train-patches", "16"]

    def run(*more):
        done = subprocess.run([*console, *more], cwd=REPO, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr

    run("--out", str(tmp_path / "reference"))
    reference = stellarvae_field(tmp_path / "reference" / "field")
    assert all(len(nelbo) == 2 for nelbo in reference[2].values()), reference[2]
    assert reference[3] == {f"patch{size}": 1 for size in (8, 16, 32, 64)}

    out = tmp_path / "out"
    run("--out", str(out), "--seed", "1")  # an earlier result, of other settings
    earlier = tree_digest(out / "field")
    process = subprocess.Popen([*console, "--out", str(out)], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_when(process, lambda: any(out.glob(".tmp-*/models/vae_patch*.weights.h5")))
    assert tree_digest(out / "field") == earlier

    run("--out", str(out))
    assert stellarvae_field(out / "field") == reference
    run("--out", str(out), "--force")  # a rerun replaces the logs, never appends to them
    assert stellarvae_field(out / "field") == reference
