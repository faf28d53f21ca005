"""A trained checkpoint -> a SavedModel with the OD API's serving signature (``deepcee export``).

The OD API's TF2 exporter (``exporter_main_v2.py``, input type ``image_tensor``) writes
``<out>/saved_model/`` whose ``serving_default`` signature takes ``input_tensor`` (uint8,
``[1, H, W, 3]``) and returns ``detection_boxes`` ``[1, K, 4]`` (normalised ``ymin, xmin,
ymax, xmax``), ``detection_scores`` ``[1, K]``, ``detection_classes`` ``[1, K]`` (float,
1-based label-map ids) and ``num_detections`` ``[1]`` (float; rows past it are padding),
with ``<out>/pipeline.config`` beside it. This module writes the same, plus the label map,
and two variables a tiling detector needs: ``training_image_size`` (pixels ``[height,
width]`` of the training images) and ``training_pixel_scale_arcsec`` (0 if unknown).
"""
import shutil
from pathlib import Path

import tensorflow as tf

from data_prep.base.errors import InputError
from data_prep.base.files import atomic_dir, atomic_path, input_path, output_folder
from deepcee.model.checkpoint import BEST, geometry_variables, load_trained_model, read_best

OUTPUT_KEYS = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")


class DetectionModule(tf.Module):
    """What the SavedModel holds: the model, the serving function and the image geometry."""

    def __init__(self, trained):
        super().__init__()
        self.model = trained.model
        self.training_image_size, self.training_pixel_scale_arcsec = geometry_variables(
            trained.training_image_size, trained.training_pixel_scale_arcsec)

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8,
                                                name="input_tensor")])
    def serve(self, input_tensor):
        detections = self.model.detect(tf.cast(input_tensor, tf.float32))
        return {key: tf.cast(detections[key], tf.float32) for key in OUTPUT_KEYS}


def chosen_checkpoint(model_dir, which="best"):
    """The checkpoint of a run to export: ``best`` (the best-F1 checkpoint kept by the
    evaluation during training, else the latest) or ``latest``. Returns ``(path, what)``,
    ``what`` saying which it is for the user."""
    best = read_best(model_dir)
    latest = tf.train.latest_checkpoint(str(model_dir))
    if which == "best" and best is not None:
        path = tf.train.latest_checkpoint(str(Path(model_dir) / BEST))
        return path, f"the best checkpoint (test-split best F1 {best['best_f1']:.3f})"
    return latest, "the latest checkpoint" + ("" if which == "latest" else
                                               " (no evaluation during training kept a best)")


def restored_run(model_dir, checkpoint_path=None):
    """:func:`deepcee.model.checkpoint.load_trained_model`, with a checkpoint that cannot be
    restored (damaged, or written for another config) as one :class:`InputError` line."""
    try:
        return load_trained_model(model_dir, checkpoint_path)
    except (tf.errors.OpError, ValueError, AssertionError, IndexError) as error:
        reason = (str(error).strip().splitlines() or [""])[0][:160]
        raise InputError(f"{model_dir}: its checkpoint cannot be restored ({type(error).__name__}"
                         f": {reason}); resume training to write a new one, or give another "
                         "run") from None


def export(model_dir, out, which="best", log=print):
    """Write ``out/saved_model`` (replaced whole, only once the new one is complete),
    ``out/pipeline.config`` and the label map from the run's ``which`` checkpoint
    (:func:`chosen_checkpoint`); return the SavedModel directory."""
    model_dir = input_path(model_dir, "--model-dir", "a training run folder ('deepcee train "
                           "--model-dir')", folder=True)
    out = output_folder(out, "--out")
    path, what = chosen_checkpoint(model_dir, which)
    trained = restored_run(model_dir, path)
    log(f"exporting {what}, step {trained.step}")
    module = DetectionModule(trained)
    target = out / "saved_model"
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # Keras' notes on layers it does not serialise (not needed here)
    try:
        with atomic_dir(target) as staging:
            tf.saved_model.save(module, str(staging), signatures={
                "serving_default": module.serve.get_concrete_function()})
    finally:
        logger.setLevel(level)
    copy_file(model_dir / "pipeline.config", out / "pipeline.config")
    label_map = trained.config.train_input_reader.label_map_path
    if label_map and Path(label_map).is_file():
        copy_file(label_map, out / Path(label_map).name)
    return target


def copy_file(source, destination):
    """Copy ``source`` to ``destination`` atomically."""
    with atomic_path(destination) as tmp:
        shutil.copyfile(source, tmp)
