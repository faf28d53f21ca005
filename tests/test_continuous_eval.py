"""Evaluation during training (deepcee.training.continuous_eval): scalars, the best
checkpoint, the learning curve, resume, and export of the best checkpoint."""
import json

import numpy as np
import pytest
import tensorflow as tf

from deepcee.config import load_pipeline_config
from deepcee.model.checkpoint import (TrainedModel, build_with_weights, geometry_variables,
                                      load_trained_model, run_checkpoint)
from deepcee.serving.export import chosen_checkpoint, export
from deepcee.training import train as training
from deepcee.training.continuous_eval import ContinuousEvaluation
from helpers import (BCG_PIXEL, TINY_CONFIG, scalar_events, scalar_values, write_bcg_records,
                     write_pipeline_config)

SIZE = 100
N_IMAGES = 3


class ScriptedDetector:
    """Stands in for the network: one box on the BCG when ``good``, else far from it."""

    good = False

    def __call__(self, image):
        centre = (BCG_PIXEL + 0.5) / SIZE
        y = centre if self.good else 0.05
        return np.array([[y - 0.1, centre - 0.1, y + 0.1, centre + 0.1]]), np.array([0.9])


@pytest.fixture
def run(tmp_path):
    """A run directory with a tiny model, its step, checkpoint and test records."""
    records = write_bcg_records(tmp_path / "test.tfrecord", n_images=N_IMAGES, size=SIZE)
    config = load_pipeline_config(TINY_CONFIG)
    model = build_with_weights(config.model)
    step = tf.Variable(0, dtype=tf.int64)
    geometry = geometry_variables((SIZE, SIZE), 0.792)
    model_dir = tmp_path / "run"
    (model_dir).mkdir()
    (model_dir / "pipeline.config").write_text(TINY_CONFIG.read_text())

    def evaluation():
        evaluator = ContinuousEvaluation(model_dir, [records], None,
                                         run_checkpoint(model, step, geometry),
                                         TrainedModel(model, config, 0, (SIZE, SIZE), 0.792))
        evaluator.detector = ScriptedDetector()
        return evaluator

    return model_dir, step, evaluation


def evaluate_at(evaluator, step, at, good, writer):
    step.assign(at)
    evaluator.detector.good = good
    return evaluator(at, loss=1.0 / at, minutes=0.5 * at, writer=writer)


def test_scalars_best_checkpoint_and_curve_follow_the_f1(run):
    model_dir, step, evaluation = run
    evaluator = evaluation()
    writer = tf.summary.create_file_writer(str(model_dir / "eval"))
    rows = [evaluate_at(evaluator, step, at, good, writer)
            for at, good in ((1, False), (2, True), (3, False))]
    assert [row["best_f1"] for row in rows] == [0.0, 1.0, 0.0]
    assert rows[1]["n_images"] == N_IMAGES
    f1 = scalar_values(model_dir / "eval", "eval/best_f1")
    assert f1 == pytest.approx({1: 0.0, 2: 1.0, 3: 0.0})
    assert {"eval/precision", "eval/recall", "eval/threshold"} <= set(
        scalar_events(model_dir / "eval"))
    best = json.loads((model_dir / "best" / "best.json").read_text())
    assert best["step"] == 2 and best["best_f1"] == 1.0
    saved = tf.train.latest_checkpoint(str(model_dir / "best"))
    assert tf.train.load_variable(saved, "step/.ATTRIBUTES/VARIABLE_VALUE") == 2
    curve = json.loads((model_dir / "learning_curve.json").read_text())
    assert [row["step"] for row in curve] == [1, 2, 3]
    assert [row["minutes"] for row in curve] == [0.5, 1.0, 1.5]
    assert (model_dir / "learning_curve.png").stat().st_size > 1000


def test_resume_keeps_the_best_so_far_and_export_takes_it(run):
    model_dir, step, evaluation = run
    writer = tf.summary.create_file_writer(str(model_dir / "eval"))
    first = evaluation()
    for at, good in ((1, False), (2, True), (3, False)):
        evaluate_at(first, step, at, good, writer)
    resumed = evaluation()  # a rerun restored from the checkpoint of step 2
    assert resumed.resume_at(2) == 1.0  # minutes up to step 2
    assert resumed.best["step"] == 2
    evaluate_at(resumed, step, 4, False, writer)
    assert resumed.best["step"] == 2
    curve = json.loads((model_dir / "learning_curve.json").read_text())
    assert [row["step"] for row in curve] == [1, 2, 4]
    path, what = chosen_checkpoint(model_dir)
    assert "best checkpoint" in what and load_trained_model(model_dir, path).step == 2


@pytest.mark.slow
def test_training_evaluates_the_test_split_and_exports_the_best(tmp_path):
    data = tmp_path / "data"
    write_bcg_records(data / "train-00000-of-00001.tfrecord", n_images=4, size=128)
    write_bcg_records(data / "test-00000-of-00001.tfrecord", n_images=3, size=128)
    config = write_pipeline_config(tmp_path / "tiny.config", TINY_CONFIG)
    messages = []
    training.train(config, tmp_path / "run", data_dir=data, steps=4, checkpoint_every=2,
                   log=messages.append)
    assert sorted(scalar_events(tmp_path / "run" / "eval")["eval/best_f1"]) == [2, 4]
    assert any("test split (3 images) best F1" in m for m in messages)
    best = json.loads((tmp_path / "run" / "best" / "best.json").read_text())
    exported = []
    export(tmp_path / "run", tmp_path / "export", log=exported.append)
    assert exported == [f"exporting the best checkpoint (test-split best F1 "
                        f"{best['best_f1']:.3f}), step {best['step']}"]
    latest = []
    export(tmp_path / "run", tmp_path / "export", "latest", log=latest.append)
    assert latest == ["exporting the latest checkpoint, step 4"]
