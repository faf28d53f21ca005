"""Evaluation during training, as the OD API's continuous evaluation does it.

Every ``--eval-every`` steps (after that step's checkpoint) and at the end of a run, the test
split (the config's ``eval_input_reader``, at most ``eval_config.num_examples`` images) goes
through the current weights and is scored as ``deepcee evaluate`` scores it (Deep-CEE §3:
100 kpc rule, precision / recall / F1 over thresholds). What it writes in the run directory:

- TensorBoard scalars in ``eval/``: ``eval/best_f1``, ``eval/precision``, ``eval/recall`` and
  ``eval/threshold`` (at the best-F1 threshold), ``eval/standard_error_kpc`` (eq. 8, of the
  true positives at that threshold);
- ``best/``: the checkpoint with the highest best F1 so far (an earlier step keeps a tie),
  with ``best/best.json`` (its step and figures); ``deepcee export`` exports it by default;
- ``learning_curve.json`` (one row per evaluation: step, training minutes, mean total loss
  since the previous evaluation, the figures above) and ``learning_curve.png``.

A resumed run reads all three back, so the best checkpoint and the curve carry on.
"""
import json
import math
from pathlib import Path

import tensorflow as tf

from data_prep.base.files import write_json
from deepcee.evaluation import evaluate
from deepcee.evaluation.matching import DEFAULT_MATCH_RADIUS_KPC
from deepcee.evaluation.plots import plot_learning_curve
from deepcee.model.checkpoint import BEST, read_best
from deepcee.serving.detect import Detector
from deepcee.serving.export import DetectionModule

CURVE = "learning_curve.json"


class ContinuousEvaluation:
    """Scores the model of a training run on its test split and keeps its best checkpoint.

    Parameters
    ----------
    model_dir : path
        The run directory.
    record_paths : list of path
        The test split's TFRecords.
    limit : int or None
        At most this many images (the config's ``eval_config.num_examples``).
    checkpoint : tf.train.Checkpoint
        What ``best/`` holds (model, step, image geometry).
    trained : deepcee.model.checkpoint.TrainedModel
        The model being trained and its image geometry (its weights are read at each call).
    """

    def __init__(self, model_dir, record_paths, limit, checkpoint, trained,
                 radius_kpc=DEFAULT_MATCH_RADIUS_KPC):
        self.model_dir = Path(model_dir)
        self.record_paths = list(record_paths)
        self.limit = limit
        self.radius_kpc = radius_kpc
        self.manager = tf.train.CheckpointManager(checkpoint, str(self.model_dir / BEST),
                                                  max_to_keep=1, checkpoint_name="ckpt")
        module = DetectionModule(trained)
        self.detector = Detector(module.serve)
        self._module = module  # keeps the serving function alive
        self.best = read_best(self.model_dir)
        path = self.model_dir / CURVE
        self.rows = json.loads(path.read_text()) if path.is_file() else []

    def resume_at(self, step):
        """Forget rows after ``step`` (the checkpoint a resumed run starts from); return the
        training minutes recorded up to it."""
        self.rows = [row for row in self.rows if row["step"] <= step]
        return self.rows[-1]["minutes"] if self.rows else 0.0

    def __call__(self, step, loss, minutes, writer):
        """Evaluate the current weights at ``step``; ``loss`` is the mean total loss since the
        previous evaluation, ``minutes`` the training time so far. Returns the curve row."""
        detections, clusters, _ = evaluate.run_detector(self.detector, self.record_paths,
                                                        self.limit)
        evaluate.score_split(detections, clusters, self.radius_kpc)
        _, summary, _ = evaluate.summarise(detections, clusters, self.radius_kpc)
        best = summary["best_f1"]
        error = summary["at_operating_threshold"]["standard_error_kpc"]
        row = {"step": int(step), "minutes": round(float(minutes), 3), "loss": float(loss),
               "best_f1": best["f1"], "precision": best["precision"], "recall": best["recall"],
               "threshold": best["threshold"], "standard_error_kpc": error,
               "n_images": summary["n_images"]}
        with writer.as_default():
            for name in ("best_f1", "precision", "recall", "threshold", "standard_error_kpc"):
                if not math.isnan(row[name]):
                    tf.summary.scalar(f"eval/{name}", row[name], step=step)
        writer.flush()
        if self.best is None or row["best_f1"] > self.best["best_f1"]:
            self.manager.save(checkpoint_number=step)
            self.best = row
            write_json(self.model_dir / BEST / "best.json", row)
        self.rows.append(row)
        write_json(self.model_dir / CURVE, self.rows)
        plot_learning_curve(self.rows, self.model_dir / "learning_curve.png",
                            f"{self.model_dir.name}: test split, {row['n_images']} images")
        return row
