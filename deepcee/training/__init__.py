"""Training Faster R-CNN as the OD API does it: the TFRecord input pipeline and the loop with
checkpoints, resume and TensorBoard losses."""
