"""A run's model on disk and back, one way for training, export, detection and the OD API
name map: build it from its config with every variable created, the geometry of the images it
was trained on, and the ``tf.train.Checkpoint`` layout that holds them."""
import json
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from data_prep.base.errors import InputError
from deepcee.config import load_pipeline_config
from deepcee.model.builder import build_model


BEST = "best"
"""Folder of a run directory holding its best-F1 checkpoint and ``best.json``
(:mod:`deepcee.training.continuous_eval`)."""


def read_best(model_dir):
    """``best/best.json`` of a run (step and figures of its best checkpoint), or None."""
    path = Path(model_dir) / BEST / "best.json"
    return json.loads(path.read_text()) if path.is_file() else None


def create_weights(model):
    """Create every variable of ``model`` (Keras builds layers on first use) with one
    detection pass on a blank image of the model's input size; a built model is left as it is."""
    if not model.box_classifier.built:
        settings = model.settings
        model.detect(tf.zeros([1, settings.image_height, settings.image_width, 3]))
    return model


def build_with_weights(model_config, seed=0, xla_compatible=False):
    """:func:`deepcee.model.builder.build_model` with its variables created (ready to restore
    a checkpoint into, or to name for the OD API)."""
    return create_weights(build_model(model_config, seed=seed, xla_compatible=xla_compatible))


def geometry_variables(image_size=(0, 0), pixel_scale_arcsec=0.0):
    """The two checkpointed variables describing the training images: ``training_image_size``
    (pixels ``[height, width]``) and ``training_pixel_scale_arcsec`` (0 if unknown)."""
    return (tf.Variable(list(image_size), dtype=tf.int32, trainable=False,
                        name="training_image_size"),
            tf.Variable(float(pixel_scale_arcsec), dtype=tf.float32, trainable=False,
                        name="training_pixel_scale_arcsec"))


def run_checkpoint(model, step, geometry, optimizer=None):
    """The checkpoint of a training run: model, step, image geometry (a pair from
    :func:`geometry_variables`) and, while training, the optimiser (momentum slots,
    iterations)."""
    image_size, pixel_scale = geometry
    objects = dict(model=model, step=step, training_image_size=image_size,
                   training_pixel_scale_arcsec=pixel_scale)
    if optimizer is not None:
        objects["optimizer"] = optimizer
    return tf.train.Checkpoint(**objects)


@dataclass
class TrainedModel:
    """A Faster R-CNN restored from a training run, with what the run knew of its images."""

    model: object
    config: object
    step: int
    training_image_size: tuple  # (height, width) pixels; (0, 0) if unknown
    training_pixel_scale_arcsec: float  # 0 if the records had no WCS


def load_trained_model(model_dir, checkpoint_path=None):
    """Rebuild the model of ``model_dir/pipeline.config`` and restore a checkpoint of the run
    (default: its latest)."""
    model_dir = Path(model_dir)
    config_path = model_dir / "pipeline.config"
    checkpoint_path = checkpoint_path or tf.train.latest_checkpoint(str(model_dir))
    if not config_path.is_file() or checkpoint_path is None:
        raise InputError(f"{model_dir}: no trained checkpoint (needs pipeline.config and a "
                         "'checkpoint' index); run 'deepcee train' (make train-cee) first")
    config = load_pipeline_config(config_path)
    model = build_with_weights(config.model)
    geometry = geometry_variables()
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
    run_checkpoint(model, step, geometry).restore(checkpoint_path) \
        .expect_partial().assert_existing_objects_matched()
    image_size, pixel_scale = geometry
    return TrainedModel(model, config, int(step.numpy()), tuple(image_size.numpy().tolist()),
                        float(pixel_scale.numpy()))
