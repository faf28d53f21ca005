"""Deep-CEE: Faster R-CNN (Inception-v2) galaxy-cluster finder (Chan & Stott 2019), in the way
of the TensorFlow Object Detection API."""
import data_prep  # noqa: F401  (selects tf_keras before TensorFlow is imported)
