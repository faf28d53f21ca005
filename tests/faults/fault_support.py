"""What the fault corpus shares: the case registry, the workspace a case builds its files in,
the tiny files it damages, the one tiny trained and exported model every case may use, and
the contract every case is held to.

The contract (``check_contract``): exit status 2 with exactly one stderr line
``PROG VERB: error: ...`` that names the problem, or, for the cases whose right answer is a
word (``Case.status == 0``), exit 0 with the answer on stdout and at most one stderr line;
never a traceback; and every file of the output folder's earlier results byte-identical.
"""
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from helpers import (TINY_CONFIG, record_bytes, tan_wcs, write_bcg_records,
                     write_pipeline_config, write_tfrecord)


# --- the registry -------------------------------------------------------------------------

@dataclass
class Case:
    """One fault: what to run and what the one line (or the answer) must name.

    ``build(ws)`` makes the case's files in the :class:`Workspace` and returns
    ``(argv, mention)``: ``argv`` starts with the program (``deepcee`` or ``stellarvae``);
    ``mention`` must appear in the error line (in stdout for a ``status == 0`` case).
    ``kind`` is the class of fault it belongs to.
    """

    name: str
    kind: str
    build: object
    status: int = 2
    console: bool = False


CASES = []


def case(kind, status=2, console=False):
    """Register the decorated ``build(ws)`` function as a :class:`Case` of ``kind``;
    ``console`` also runs it through the console script in a subprocess."""
    def register(build):
        CASES.append(Case(build.__name__, kind, build, status, console))
        return build
    return register


# --- the workspace ------------------------------------------------------------------------

@dataclass
class Workspace:
    """A case's folder, its output folder of earlier results, and the shared fixtures.

    ``model``, ``run`` and ``records`` are shared by the whole session: a case reads them
    and never writes them (``run_copy()`` gives a private copy of the run to change).
    """

    root: Path
    request: object
    out: Path = field(init=False)

    def __post_init__(self):
        self.out = finished_outputs(self.root / "out")

    @property
    def model(self):
        """The tiny model's export folder (``deepcee export``)."""
        return self.request.getfixturevalue("fault_model")["export"]

    @property
    def run(self):
        """The tiny model's training run folder (``deepcee train --model-dir``)."""
        return self.request.getfixturevalue("fault_model")["run"]

    @property
    def records(self):
        """A folder of 128 px blob TFRecords (train and test shards)."""
        return self.request.getfixturevalue("blob_records")

    def run_copy(self):
        """A private copy of the training run (files hard-linked: replace, never edit)."""
        return linked_copy(self.run, self.root / "run")

    def model_copy(self):
        """A private copy of the export (files hard-linked: replace, never edit)."""
        return linked_copy(self.model, self.root / "export")

    def records_copy(self):
        """A private copy of the blob records."""
        return linked_copy(self.records, self.root / "data")

    def path(self, name):
        """A path in the case's folder (its parent made)."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


def linked_copy(source, target):
    """Copy a folder tree with its files hard-linked (fast for the 50 MB model)."""
    shutil.copytree(source, target, copy_function=os.link)
    return target


def finished_outputs(root):
    """An output folder holding earlier results of every verb, which no failure may touch."""
    files = {"detections.ecsv": "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: x, datatype: "
                                "float64}\nx\n1.0\n",
             "IRAS06055/detection.json": '{"ra": 92.1}\n',
             "train/checkpoint": 'model_checkpoint_path: "ckpt-20"\n',
             "test/summary.json": '{"split": "test"}\n',
             "saved_model/saved_model.pb": "earlier export\n",
             "train-00000-of-00001.tfrecord": "earlier shard\n"}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def tree_digest(root):
    """{relative path: sha256} of every file under ``root``."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob("*")) if p.is_file()}


# --- read-only folders (also for root, who ignores permission bits) --------------------------

def make_read_only(path, request):
    """Make the folder ``path`` unwritable (mode 0555, and immutable when running as root);
    undone at the end of the test. Skips the test where neither works."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o555)
    immutable = os.geteuid() == 0 and subprocess.run(
        ["chattr", "+i", str(path)], capture_output=True).returncode == 0

    def undo():
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(0o755)
    request.addfinalizer(undo)
    try:
        (path / ".probe").mkdir()
    except OSError:
        return path
    (path / ".probe").rmdir()
    pytest.skip("cannot make a read-only folder here (root without chattr)")


# --- tiny files, whole and damaged ------------------------------------------------------------

def write_fits(path, data=None, wcs=True, size=128, scale_arcsec=1.0, ra=92.1, dec=20.6,
               seed=0):
    """A float32 FITS image (default: noise around 100) with a north-up TAN WCS or none."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = np.random.default_rng(seed).normal(100, 5, (size, size))
    header = fits.Header()
    if wcs:
        header = tan_wcs(ra, dec, scale_arcsec, crpix=((data.shape[1] + 1) / 2,
                                                       (data.shape[0] + 1) / 2)).to_header()
    fits.PrimaryHDU(np.asarray(data, np.float32), header).writeto(path, overwrite=True)
    return path


def write_triplet(folder, name="field", size=200, faults=None):
    """g, r, i SDSS-like FITS (0.396"/px, one bright square) as ``folder/name_{band}.fits``;
    ``faults`` maps a band to a function ``(path, data) -> None`` writing it instead.
    Returns the pattern ``folder/name_{band}.fits``."""
    rng = np.random.default_rng(1)
    for band in "gri":
        data = rng.normal(0.0, 0.01, (size, size))
        data[size // 4: size // 4 + 20, size // 2: size // 2 + 30] = 50.0
        path = Path(folder) / f"{name}_{band}.fits"
        if faults and band in faults:
            faults[band](path, data)
        else:
            write_fits(path, data, scale_arcsec=0.396, ra=150.0, dec=30.0)
    return str(Path(folder) / f"{name}_{{band}}.fits")


def write_png(path, array, **options):
    """Save an array as an image file with PIL (mode from the array)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **options)
    return path


def colour_array(height=128, width=128, seed=0):
    """Random uint8 RGB pixels (distinct channels)."""
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)


def truncate(path, fraction=0.5):
    """Cut a file to ``fraction`` of its bytes, in a new file (hard links stay intact)."""
    data = Path(path).read_bytes()
    Path(path).unlink()
    Path(path).write_bytes(data[:int(len(data) * fraction)])
    return path


def flip_bit(path, offset=None):
    """Flip one bit of a file (the middle byte by default), in a new file."""
    data = bytearray(Path(path).read_bytes())
    offset = len(data) // 2 if offset is None else offset
    data[offset] ^= 0x10
    Path(path).unlink()
    Path(path).write_bytes(bytes(data))
    return path


def write_records(path, n=2, size=128):
    """``n`` blob-free records of ``size`` px in the data set's schema."""
    return write_tfrecord(path, [record_bytes(np.full((size, size, 3), 30 + k, np.uint8),
                                              [[0.4, 0.4, 0.6, 0.6]], {"name": ["c"]},
                                              filename=f"img{k}.png") for k in range(n)])


def write_config(ws, name, replace=()):
    """A copy of the tiny pipeline config with text replaced (paths made absolute)."""
    return write_pipeline_config(ws.path(name), TINY_CONFIG, replace)


def write_label_map(ws, text, name="label_map.pbtxt"):
    """A tiny config whose label map is ``text``."""
    label_map = ws.path(name)
    label_map.write_text(text)
    return write_config(ws, "with_map.config", [('"pipeline_configs/label_map.pbtxt"',
                                                 f'"{label_map}"')])


def evaluated_split(ws):
    """An evaluation folder with a ``test`` split made from three records by a fake
    detector (no model): ``(eval folder, records file)``."""
    from deepcee.evaluation import evaluate
    records = write_bcg_records(ws.path("data/test-00000-of-00001.tfrecord"), n_images=3)
    boxes = [([[0.4, 0.4, 0.6, 0.6], [0.1, 0.1, 0.2, 0.2]], [0.95, 0.9])] * 3

    def detector(image):
        found, scores = boxes[0]
        return np.asarray(found, np.float32), np.asarray(scores, np.float32)
    evaluate.evaluate_split(detector, [records], ws.root / "eval" / "test", "test")
    return ws.root / "eval", records
