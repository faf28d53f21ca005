"""What the scan tests and the scan benchmark share: an exported Faster R-CNN that knows its
training images' size and pixel scale (random weights: a scan's correctness and speed do not
depend on them), and a small region of the mock sky."""
import shutil
from pathlib import Path

REGION = "box:186.87,186.96,29.82,29.90"
"""About 5 x 5 arcmin around the mock cluster WHL J122739.3+295138 (seed 0): 9 tiles of the test
model (256 px at 0.792"/px = 3.38 arcmin) with a 1 arcmin overlap."""


def export_model(root, config, image_px, scale_arcsec, seed=0):
    """Build the Faster R-CNN of ``config`` with seeded random weights, record that it was
    trained on ``image_px`` images at ``scale_arcsec`` (arcsec / px), save it as a training
    run's checkpoint and export it; returns the export directory."""
    import tensorflow as tf

    from deepcee.config import load_pipeline_config
    from deepcee.model.checkpoint import build_with_weights, geometry_variables, run_checkpoint
    from deepcee.serving.export import export

    run = Path(root) / "train"
    run.mkdir(parents=True, exist_ok=True)
    model = build_with_weights(load_pipeline_config(config).model, seed=seed)
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
    run_checkpoint(model, step, geometry_variables((image_px, image_px), scale_arcsec)).save(
        str(run / "ckpt"))
    shutil.copyfile(config, run / "pipeline.config")
    export(run, Path(root) / "export")
    return Path(root) / "export"
