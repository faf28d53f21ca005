"""``deepcee export``: a trained checkpoint -> a SavedModel with the OD API's serving signature.

The OD API's TF2 exporter (``exporter_main_v2.py``, input type ``image_tensor``) writes
``<out>/saved_model/`` whose ``serving_default`` signature takes ``input_tensor`` (uint8,
``[1, H, W, 3]``) and returns ``detection_boxes`` ``[1, K, 4]`` (normalised ``ymin, xmin,
ymax, xmax``), ``detection_scores`` ``[1, K]``, ``detection_classes`` ``[1, K]`` (float,
1-based label-map ids) and ``num_detections`` ``[1]`` (float; rows past it are padding),
with ``<out>/pipeline.config`` beside it. This module writes the same, plus the label map,
and two variables a tiling detector needs: ``training_image_size`` (pixels ``[height,
width]`` of the training images) and ``training_pixel_scale_arcsec`` (0 if unknown).
"""
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from data_prep.base.errors import InputError
from data_prep.base.files import atomic_path
from deepcee.config import load_pipeline_config
from deepcee.model.builder import build_model

OUTPUT_KEYS = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")


def add_arguments(parser):
    parser.add_argument("--model-dir", required=True,
                        help="training run directory (checkpoints and pipeline.config)")
    parser.add_argument("--out", required=True,
                        help="export directory: saved_model/, pipeline.config, label map")


def run(args):
    path = export(args.model_dir, args.out)
    print(f"wrote {path}")


@dataclass
class TrainedModel:
    """A Faster R-CNN restored from a training run, with what the run knew of its images."""

    model: object
    config: object
    step: int
    training_image_size: tuple  # (height, width) pixels; (0, 0) if unknown
    training_pixel_scale_arcsec: float  # 0 if the records had no WCS


def geometry_variables(image_size=(0, 0), pixel_scale_arcsec=0.0):
    """The two checkpointed variables describing the training images (see module doc)."""
    return (tf.Variable(list(image_size), dtype=tf.int32, trainable=False,
                        name="training_image_size"),
            tf.Variable(float(pixel_scale_arcsec), dtype=tf.float32, trainable=False,
                        name="training_pixel_scale_arcsec"))


def model_input_size(model_config):
    """(height, width) the model resizes images to (``image_resizer``)."""
    resizer = model_config.faster_rcnn.image_resizer
    if resizer.WhichOneof("image_resizer_oneof") == "fixed_shape_resizer":
        return resizer.fixed_shape_resizer.height, resizer.fixed_shape_resizer.width
    size = resizer.keep_aspect_ratio_resizer.min_dimension
    return size, size


def load_trained_model(model_dir):
    """Rebuild the model of ``model_dir/pipeline.config`` and restore its latest checkpoint."""
    model_dir = Path(model_dir)
    config_path = model_dir / "pipeline.config"
    latest = tf.train.latest_checkpoint(str(model_dir))
    if not config_path.is_file() or latest is None:
        raise InputError(f"{model_dir}: no trained checkpoint (needs pipeline.config and a "
                         "'checkpoint' index); run 'deepcee train' (make train-cee) first")
    config = load_pipeline_config(config_path)
    model = build_model(config.model)
    model.detect(tf.zeros([1, *model_input_size(config.model), 3], tf.float32))
    image_size, pixel_scale = geometry_variables()
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
    checkpoint = tf.train.Checkpoint(model=model, step=step, training_image_size=image_size,
                                     training_pixel_scale_arcsec=pixel_scale)
    checkpoint.restore(latest).expect_partial().assert_existing_objects_matched()
    return TrainedModel(model, config, int(step.numpy()), tuple(image_size.numpy().tolist()),
                        float(pixel_scale.numpy()))


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


def export(model_dir, out):
    """Write ``out/saved_model`` (replaced atomically), ``out/pipeline.config`` and the label
    map; return the SavedModel directory."""
    trained = load_trained_model(model_dir)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    module = DetectionModule(trained)
    target = out / "saved_model"
    staging = out / f".tmp-{os.getpid()}-saved_model"
    shutil.rmtree(staging, ignore_errors=True)
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # Keras' notes on layers it does not serialise (not needed here)
    try:
        tf.saved_model.save(module, str(staging),
                            signatures={"serving_default": module.serve.get_concrete_function()})
        if target.exists():
            retired = out / f".old-{os.getpid()}-saved_model"
            os.replace(target, retired)
            shutil.rmtree(retired)
        os.replace(staging, target)
    finally:
        logger.setLevel(level)
        shutil.rmtree(staging, ignore_errors=True)
    copy_file(Path(model_dir) / "pipeline.config", out / "pipeline.config")
    label_map = trained.config.train_input_reader.label_map_path
    if label_map and Path(label_map).is_file():
        copy_file(label_map, out / Path(label_map).name)
    return target


def copy_file(source, destination):
    """Copy ``source`` to ``destination`` atomically."""
    with atomic_path(destination) as tmp:
        shutil.copyfile(source, tmp)
