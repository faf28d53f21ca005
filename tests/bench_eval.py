"""Benchmarks of ``deepcee evaluate`` on CPU: images per second of the evaluation itself
(decode, WCS, kpc distances, matching, tables, plots) with a detector that costs nothing, and
of evaluation with the tiny Faster R-CNN through ``deepcee.serving.detect.Detector`` (random
weights: speed does not depend on them)."""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import TINY_CONFIG, write_bcg_records  # noqa: E402

N_IMAGES = 20
IMAGE_PX = 1000                 # the paper's encoded image size
BOXES_PER_IMAGE = 300           # the paper's boxes per image at a 0 % threshold
REPEATS = 3


class RandomBoxes:
    """A stand-in detector: ``BOXES_PER_IMAGE`` seeded random boxes and scores per image."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def __call__(self, image):
        corner = self.rng.uniform(0.0, 0.8, (BOXES_PER_IMAGE, 2))
        size = self.rng.uniform(0.05, 0.2, (BOXES_PER_IMAGE, 1))
        boxes = np.concatenate([corner, corner + size], axis=1)
        return boxes, self.rng.uniform(0.0, 1.0, BOXES_PER_IMAGE)


def tiny_model_detector():
    """``deepcee.serving.detect.Detector`` around the tiny config's Faster R-CNN (random weights)."""
    import tensorflow as tf
    from deepcee.config import load_pipeline_config
    from deepcee.serving.detect import Detector
    from deepcee.model.builder import build_model

    config = load_pipeline_config(TINY_CONFIG)
    model = build_model(config.model)
    detect = tf.function(lambda images: model.detect(tf.cast(images, tf.float32)),
                         input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
    return Detector(detect)


def _images_per_second(workdir, detector, n_images):
    from deepcee.evaluation import evaluate

    records = Path(workdir) / f"bench-{IMAGE_PX}-{n_images}.tfrecord"
    if not records.exists():
        write_bcg_records(records, n_images, IMAGE_PX)
    values = []
    for repeat in range(REPEATS):
        start = time.perf_counter()
        evaluate.evaluate_split(detector, [records], Path(workdir) / f"eval-{repeat}", "bench")
        values.append(n_images / (time.perf_counter() - start))
    return values


def bench_eval_scoring(workdir):
    """Evaluation overhead: 1000 px images, 300 boxes each, detector cost excluded."""
    return {"eval_images_per_s_fake_detector_300_boxes": (
        _images_per_second(workdir, RandomBoxes(), N_IMAGES), "images/s")}


def bench_eval_tiny_model(workdir):
    """End-to-end evaluation with the tiny Faster R-CNN on CPU (first call traced outside)."""
    detector = tiny_model_detector()
    detector(np.zeros((IMAGE_PX, IMAGE_PX, 3), np.uint8))
    return {"eval_images_per_s_tiny_model": (
        _images_per_second(workdir, detector, N_IMAGES // 2), "images/s")}
