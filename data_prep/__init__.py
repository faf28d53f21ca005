"""Data preparation for both cluster finders: survey access, the embedded sky simulator,
colour stretch, patches and TFRecords (Deep-CEE §2.2, StellarVAE §II).

Importing this package selects Keras 2 (``tf_keras``) for TensorFlow, which TF-Vision and
TensorFlow Probability layers need. It is the one place that does so: ``deepcee`` and
``stellarvae`` import it before TensorFlow.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
# TensorFlow's C++ log (e.g. "failed call to cuInit" on every machine without a GPU) is off
# unless the user asks for it: TF_CPP_MIN_LOG_LEVEL=0 shows everything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
