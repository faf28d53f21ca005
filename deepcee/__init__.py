"""Deep-CEE: Faster R-CNN (Inception-v2) galaxy-cluster finder (Chan & Stott 2019), in the way
of the TensorFlow Object Detection API.

- ``config``: pipeline configs and label maps (the OD API's text format), checked in one place.
- ``model``: the network in the order of the paper's Figure 1 (Inception-v2, anchors, RPN, box
  classifier, the Faster R-CNN forward pass), its builder from a config, and its set-up/restore.
- ``ops``: pure tensor functions: box coding, target assignment, sampling, NMS, losses.
- ``training``: the input pipeline and the training loop.
- ``evaluation``: the distance rule, metrics, evaluation, plots, candidates, injection-recovery.
- ``serving``: export to a SavedModel, and detection on FITS or colour images.
- ``cli``: the ``deepcee`` command, one thin module per verb.
"""
from data_prep.base.tensorflow_env import select_tf_keras

select_tf_keras()
