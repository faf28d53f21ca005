"""Shared test set-up: Keras 2 for TensorFlow, the repository root, and the python interpreter
of this environment for command-line tests."""
import io
import subprocess
import sys
from pathlib import Path

import pytest
from astropy.io import fits

from data_prep.base.tensorflow_env import select_tf_keras

select_tf_keras()  # before any test module imports TensorFlow
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root():
    """The repository root (where the Makefile and pipeline_configs/ live)."""
    return REPO


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
