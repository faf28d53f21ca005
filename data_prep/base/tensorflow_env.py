"""TensorFlow's environment for the whole project, set in this one place.

TF-Vision and TensorFlow Probability layers need Keras 2 (``tf_keras``), which TensorFlow 2.20
gives when ``TF_USE_LEGACY_KERAS=1`` is set before Keras is first loaded. The packages that use
TensorFlow (``deepcee``, ``stellarvae``, ``data_prep.deepcee_data``) call
:func:`select_tf_keras` in their ``__init__``, before any of their modules imports TensorFlow.
"""
import os


def select_tf_keras():
    """Select Keras 2 for TensorFlow and quiet its C++ log, unless the user set either.

    TensorFlow's C++ log (e.g. "failed call to cuInit" on every machine without a GPU) is off
    unless the user asks for it: ``TF_CPP_MIN_LOG_LEVEL=0`` shows everything.
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
