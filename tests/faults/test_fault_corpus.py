"""The fault corpus (``fault_cases``), run against the contract of ``fault_support``: every
case in-process through ``deepcee.cli.main`` / ``stellarvae.cli.main`` (fast: TensorFlow is
imported once), the ``console`` subset through the installed console scripts in a
subprocess (what a person sees, TensorFlow's own log included), and groups of one mistake
made through several verbs, which must all print the same line."""
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import fault_cases
from fault_support import CASES, Case, colour_array, tree_digest, truncate, write_fits, write_png
from helpers import TINY_CONFIG

QUIET = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
"""Warnings Python does not show by default outside ``__main__``."""


def params(cases):
    return [pytest.param(item, id=item.name) for item in cases]


def check_contract(item, status, stdout, stderr, mention):
    """Exit 2 and one line ``PROG VERB: error: ...`` naming ``mention``; or, for a word case,
    exit 0, the word on stdout and at most one stderr line; never a traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    if item.status == 0:
        assert status == 0, stderr
        assert len(lines) <= 1, stderr
        assert mention in stdout, stdout
        return
    assert status == 2, f"exit {status}: {stderr}"
    assert len(lines) == 1, stderr
    assert ": error: " in lines[0]
    assert mention in lines[0], lines[0]


def run_in_process(argv, capsys):
    """``(status, stdout, stderr)`` of a command run in this process; Python warnings that
    would be shown count as stderr lines."""
    from deepcee.cli import main as deepcee_main
    from stellarvae.cli import main as stellarvae_main
    main = {"deepcee": deepcee_main, "stellarvae": stellarvae_main}[argv[0]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        status = main([str(arg) for arg in argv[1:]])
    stdout, stderr = capsys.readouterr()
    shown = [f"{w.category.__name__}: {w.message}" for w in caught
             if not issubclass(w.category, QUIET)]
    return status, stdout, "\n".join([stderr, *shown])


def run_console(argv, cwd):
    """``(status, stdout, stderr)`` of the installed console script in a subprocess."""
    import subprocess
    script = Path(sys.executable).parent / argv[0]
    command = [str(script)] if script.exists() else [sys.executable, "-m", argv[0]]
    done = subprocess.run(command + [str(arg) for arg in argv[1:]], cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return done.returncode, done.stdout, done.stderr


def check_earlier_outputs(item, before, after):
    """Every earlier file byte-identical; a failed command wrote nothing new either."""
    assert {name: after.get(name) for name in before} == before
    if item.status:
        assert after == before


@pytest.mark.parametrize("item", params(CASES))
def test_in_process(item, workspace, capsys):
    argv, mention = item.build(workspace)
    before = tree_digest(workspace.out)
    check_contract(item, *run_in_process(argv, capsys), mention)
    check_earlier_outputs(item, before, tree_digest(workspace.out))


@pytest.mark.slow
@pytest.mark.parametrize("item", params([item for item in CASES if item.console]))
def test_console_script(item, workspace):
    argv, mention = item.build(workspace)
    before = tree_digest(workspace.out)
    check_contract(item, *run_console(argv, workspace.root), mention)
    check_earlier_outputs(item, before, tree_digest(workspace.out))


def test_the_corpus_covers_every_verb_and_class():
    assert fault_cases.__doc__  # the classes are described there
    verbs = {tuple(item.build.__name__.split("_")[:2]) for item in CASES}
    assert len(CASES) >= 100
    assert {item.kind for item in CASES} == {
        "options", "numbers", "paths", "fits", "triplet", "colour", "tfrecord", "savedmodel",
        "config", "star-table", "clash", "offline", "word"}
    for verb in ("check", "train", "export", "detect", "evaluate", "candidates", "tfrecords",
                 "injection", "sim"):
        assert any(name[0] == verb for name in verbs), verb
    for verb in ("detect", "train", "table", "fields", "sim"):
        assert ("stellarvae", verb) in verbs, verb


# --- one mistake, one line, whichever verb meets it -----------------------------------------

def same_mistake_groups(ws):
    """Lists of command lines that make one mistake through different verbs."""
    records = ws.records_copy()
    truncate(records / "test-00000-of-00001.tfrecord", 0.7)
    model = ws.model_copy()
    truncate(model / "saved_model" / "saved_model.pb", 0.3)
    config = ws.path("rate.config")
    config.write_text(TINY_CONFIG.read_text().replace("initial_learning_rate: 0.004",
                                                      "initial_learning_rate: -0.1"))
    marked = ws.root / "field_r.fits"
    for band in "gri":
        write_fits(ws.root / f"field_{band}.fits", scale_arcsec=0.396)
    data = np.random.default_rng(0).normal(100, 5, (128, 128))
    data[:4] = 1e38
    write_fits(marked, data, scale_arcsec=0.396)
    picture = write_png(ws.path("a.png"), colour_array())
    return {
        "damaged shard": [
            ["deepcee", "train", "--config", TINY_CONFIG, "--model-dir", ws.out / "run",
             "--data", records, "--steps", 1],
            ["deepcee", "evaluate", "--model", ws.root, "--data", records, "--out", ws.out]],
        "damaged SavedModel": [
            ["deepcee", "detect", picture, "--model", model, "--out", ws.out / "new"],
            ["deepcee", "evaluate", "--model", model, "--data", ws.records, "--out", ws.out]],
        "bad config": [
            ["deepcee", "check-config", config],
            ["deepcee", "train", "--config", config, "--model-dir", ws.out / "run"]],
        "blank markers": [
            ["deepcee", "detect", ws.root / "field_{band}.fits", "--model", ws.root, "--out",
             ws.out],
            ["stellarvae", "detect", marked, "--out", ws.out]],
        "--out is a file": [
            ["deepcee", "detect", picture, "--model", ws.root, "--out",
             ws.out / "detections.ecsv"],
            ["deepcee", "evaluate", "--model", ws.root, "--data", ws.records, "--out",
             ws.out / "detections.ecsv"],
            ["deepcee", "export", "--model-dir", ws.root, "--out", ws.out / "detections.ecsv"],
            ["deepcee", "tfrecords", "--out", ws.out / "detections.ecsv"],
            ["deepcee", "candidates", "--eval", ws.root, "--source", "sim", "--out",
             ws.out / "detections.ecsv"]],
    }


GROUPS = ("damaged shard", "damaged SavedModel", "bad config", "blank markers",
          "--out is a file")


@pytest.mark.parametrize("group", GROUPS)
def test_one_mistake_gives_one_line_in_every_verb(group, workspace, capsys):
    lines = []
    for argv in same_mistake_groups(workspace)[group]:
        status, _, stderr = run_in_process(argv, capsys)
        check_contract(Case(group, "same", None), status, "", stderr, "")
        lines.append(stderr.strip().split(": error: ", 1)[1])
    assert len(set(lines)) == 1, lines

