"""What many test files build for themselves, defined once: the repository's paths and configs,
a north-up TAN WCS, small TFRecords in the data set's schema, and a few comparison and
command-line helpers.

Plain functions live here; pytest fixtures built from them live in ``conftest.py``. Test and
benchmark modules import this module (``from helpers import ...``: pytest and
``tests/run_benchmarks.py`` put ``tests/`` on ``sys.path``); no test module imports another.
TensorFlow is imported inside the functions that need it, after ``conftest.py`` (or the
benchmark runner) has selected Keras 2 for it.
"""
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
"""The repository root (where the Makefile and pipeline_configs/ live)."""
TINY_CONFIG = REPO / "pipeline_configs" / "deepcee_tiny.config"
"""The small Faster R-CNN config the training, export and model tests run (256 px images)."""
PAPER_CONFIG = REPO / "pipeline_configs" / "deepcee_faster_rcnn_inception_v2.config"
"""Deep-CEE's own config (1000 px images, 300 proposals)."""


# --- command line and byte-for-byte comparisons ---------------------------------------------

def run_cli(*args, cwd=None, timeout=600):
    """Run ``python -m <args>`` in a subprocess; return the CompletedProcess (text mode)."""
    return subprocess.run([sys.executable, "-m", *map(str, args)], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout)


def fits_bytes(hdu):
    """The bytes of a FITS file holding ``hdu`` (to compare runs byte for byte)."""
    buffer = io.BytesIO()
    fits.HDUList([hdu]).writeto(buffer)
    return buffer.getvalue()


def table_text(table):
    """A table as ECSV text (to compare runs byte for byte)."""
    buffer = io.StringIO()
    table.write(buffer, format="ascii.ecsv")
    return buffer.getvalue()


# --- pipeline configs -------------------------------------------------------------------------

def pipeline_config_text(base=TINY_CONFIG, replace=(), absolute_paths=False):
    """The text of a pipeline config with some settings changed.

    Parameters
    ----------
    base : path
        The config to start from (default: the tiny config).
    replace : sequence of (str, str)
        Text replacements, applied in order. Each old text must occur in the config, so that
        a test of a changed setting fails loudly, instead of testing the unchanged config,
        when the config file is edited.
    absolute_paths : bool
        Make the config's ``"pipeline_configs/..."`` paths absolute, so that a copy written
        elsewhere finds the label map from any working directory.
    """
    text = Path(base).read_text()
    for old, new in replace:
        assert old in text, f"{old!r} is not in {base}: the test no longer changes anything"
        text = text.replace(old, new)
    if absolute_paths:
        text = text.replace('"pipeline_configs/', f'"{REPO}/pipeline_configs/')
    return text


def write_pipeline_config(path, base=TINY_CONFIG, replace=(), absolute_paths=True):
    """Write ``pipeline_config_text(base, replace, absolute_paths)`` to ``path``; return it."""
    path = Path(path)
    path.write_text(pipeline_config_text(base, replace, absolute_paths))
    return path


def parse_pipeline_config(path=TINY_CONFIG):
    """The ``TrainEvalPipelineConfig`` message of a config file, parsed as the text it is
    (no path resolution or checks: tests change fields of it before building a model)."""
    from google.protobuf import text_format
    from protos import pipeline_pb2
    config = pipeline_pb2.TrainEvalPipelineConfig()
    text_format.Parse(Path(path).read_text(), config)
    return config


# --- WCS --------------------------------------------------------------------------------------

def tan_wcs(ra, dec, scale_arcsec, size=None, crpix=None, cd=False):
    """A north-up, east-left gnomonic (TAN) WCS with square pixels.

    Parameters
    ----------
    ra, dec : float
        Sky position (deg) of the reference pixel.
    scale_arcsec : float
        Pixel size (arcsec).
    size : int, optional
        Side of a square image whose centre is the reference pixel: CRPIX = (size + 1) / 2
        (FITS 1-based), i.e. 0-based array pixel (size - 1) / 2.
    crpix : (float, float), optional
        The reference pixel (FITS 1-based x, y) instead of an image centre.
    cd : bool
        Write the scale as a CD matrix diag(-scale, scale) instead of CDELT (-scale, scale).
    """
    if (size is None) == (crpix is None):
        raise TypeError("give exactly one of size and crpix")
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [(size + 1) / 2, (size + 1) / 2] if crpix is None else list(crpix)
    scale_deg = scale_arcsec / 3600
    if cd:
        wcs.wcs.cd = np.diag([-scale_deg, scale_deg])
    else:
        wcs.wcs.cdelt = [-scale_deg, scale_deg]
    return wcs


# --- TFRecords in the data set's schema --------------------------------------------------------

def png_bytes(image):
    """PNG bytes of a uint8 [H, W, 3] image (encoded with PIL, independently of the code
    under test)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def record_bytes(image, boxes=(), objects=None, wcs=None, filename="img.png", source_id=None,
                 class_text="galaxy_cluster"):
    """One serialised ``tf.train.Example`` of the data set's schema
    (``data_prep.deepcee_data.tfrecord_schema.encode_example``).

    Parameters
    ----------
    image : numpy.ndarray
        uint8 [H, W, 3] pixels, stored as PNG.
    boxes : array-like
        [M, 4] normalised ``ymin, xmin, ymax, xmax``, each labelled class 1 (``class_text``).
    objects : dict, optional
        Per-box columns: ``ra``, ``dec``, ``redshift``, ``bcg_rmag``, ``richness``, ``n200``,
        ``center_x``, ``center_y`` (normalised BCG position) and ``name``; missing float
        columns are stored as NaN.
    wcs : astropy.wcs.WCS, optional
        The image's WCS (stored as FITS header text); none stores an empty header.
    filename, source_id : str
        The record's file name and source id (default: the file name without its suffix).
    """
    from data_prep.deepcee_data.tfrecord_schema import encode_example
    image = np.asarray(image, np.uint8)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    header = "" if wcs is None else wcs.to_header().tostring(sep="\n")
    source_id = Path(filename).stem if source_id is None else source_id
    return encode_example(png_bytes(image), image.shape[0], image.shape[1], filename,
                          source_id, boxes, [1] * len(boxes), [class_text] * len(boxes),
                          objects or {}, header)


def write_tfrecord(path, records):
    """Write serialised examples to the TFRecord file ``path`` (parents made); return it."""
    import tensorflow as tf
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return path


BCG_PIXEL = 50
"""0-based array pixel (x = y) of the BCG in every image of ``write_bcg_records``."""


def write_bcg_records(path, n_images=3, size=100, scale_arcsec=0.792, redshift=0.2):
    """Records of random pixels with one cluster each, for the evaluation tests.

    Image i is ``size`` x ``size`` pixels of ``scale_arcsec`` on a north-up TAN grid whose
    reference pixel (RA 150 + i, Dec 20) is array pixel (50, 50), where the cluster's BCG is
    (``center_x = center_y = 50.5 / size``); its box is 20 px wide, centred there. The cluster
    is named ``A<i>``, at ``redshift``, with bcg_rmag 15 + i, richness 40 + i and n200 25.
    """
    centre = (BCG_PIXEL + 0.5) / size
    half = 10 / size
    records = []
    for i in range(n_images):
        wcs = tan_wcs(150.0 + i, 20.0, scale_arcsec, crpix=(BCG_PIXEL + 1, BCG_PIXEL + 1))
        objects = {"ra": [150.0 + i], "dec": [20.0], "redshift": [redshift],
                   "bcg_rmag": [15.0 + i], "richness": [40.0 + i], "n200": [25.0],
                   "center_x": [centre], "center_y": [centre], "name": [f"A{i}"]}
        records.append(record_bytes(
            np.random.default_rng(i).integers(0, 255, (size, size, 3), dtype=np.uint8),
            [[centre - half, centre - half, centre + half, centre + half]], objects, wcs,
            filename=f"img{i}.png"))
    return write_tfrecord(path, records)


def write_blob_records(data_dir, n_train, n_test, size=128, seed=0):
    """``train-00000-of-00001.tfrecord`` and ``test-...`` under ``data_dir``: noisy images
    (mean 30, sigma 8), each with one bright Gaussian blob (sigma size / 12) at a random place
    in the central 40 % and its box (half-side size / 5). Returns ``data_dir``."""
    rng = np.random.default_rng(seed)
    data_dir = Path(data_dir)
    yy, xx = np.mgrid[:size, :size]
    for split, n in (("train", n_train), ("test", n_test)):
        records = []
        for k in range(n):
            image = rng.normal(30, 8, (size, size, 3))
            cy, cx = rng.uniform(0.3, 0.7, 2) * size
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (size / 12) ** 2))
            image = np.clip(image + 200 * blob[..., None], 0, 255).astype(np.uint8)
            half = size / 5
            box = np.array([cy - half, cx - half, cy + half, cx + half]) / size
            records.append(record_bytes(image, [box], {"name": ["c"]},
                                        filename=f"{split}{k}.png"))
        write_tfrecord(data_dir / f"{split}-00000-of-00001.tfrecord", records)
    return data_dir


def _summaries(events_dir):
    """``(step, summary value)`` of every summary in the event files under ``events_dir``."""
    import tensorflow as tf
    for path in sorted(Path(events_dir).glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                yield int(event.step), value


def scalar_events(events_dir):
    """{tag: [step, ...]} of the summaries in every event file under ``events_dir``."""
    tags = {}
    for step, value in _summaries(events_dir):
        tags.setdefault(value.tag, []).append(step)
    return tags


def scalar_values(events_dir, tag):
    """Values of the scalar ``tag`` in step order ({step: value})."""
    import tensorflow as tf
    return {step: float(tf.make_ndarray(value.tensor))
            for step, value in sorted(_summaries(events_dir), key=lambda item: item[0])
            if value.tag == tag}
