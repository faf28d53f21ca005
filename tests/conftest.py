"""Shared test set-up: Keras 2 for TensorFlow, and the fixtures several test files use.

Plain helper functions (WCS, TFRecords, configs, command line) are in ``helpers.py``."""
import pytest

from data_prep.base.tensorflow_env import select_tf_keras

select_tf_keras()  # before any test module imports TensorFlow

from helpers import REPO, write_blob_records  # noqa: E402


@pytest.fixture
def repo_root():
    """The repository root (where the Makefile and pipeline_configs/ live)."""
    return REPO


@pytest.fixture(scope="session")
def blob_records(tmp_path_factory):
    """A data directory of 128 px blob images (``helpers.write_blob_records``): 4 in
    ``train-00000-of-00001.tfrecord``, 1 in ``test-...``. Shared by the session: read it,
    never write to it."""
    return write_blob_records(tmp_path_factory.mktemp("blobs"), n_train=4, n_test=1)
