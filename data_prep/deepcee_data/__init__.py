"""The Deep-CEE data set (Deep-CEE §2.2): clusters and cutouts from the surveys or the
simulator, ground-truth boxes, random offsets, the training / test split, the square-root
colour stretch, and TFRecords in the OD API schema (``builder`` runs it all)."""
from data_prep.base.tensorflow_env import select_tf_keras

select_tf_keras()
