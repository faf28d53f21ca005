"""The ``deepcee`` command: one verb per stage of the Deep-CEE chain."""
import sys

from data_prep.base.command_line import dispatch

VERBS = {
    "check-config": ("deepcee.cli.check_config", "parse a pipeline config and print a summary"),
    "tfrecords": ("data_prep.deepcee_data.builder", "build the Deep-CEE TFRecord data set"),
    "sim-gallery": ("data_prep.sim.gallery", "write PNGs of simulated SDSS cluster fields"),
    "train": ("deepcee.training.train", "train Faster R-CNN from a pipeline config"),
    "export": ("deepcee.serving.export", "export a trained checkpoint as a SavedModel"),
    "detect": ("deepcee.serving.detect", "find clusters in FITS g,r,i triplets or colour images"),
    "evaluate": ("deepcee.evaluation.evaluate", "precision / recall / F1 over thresholds (paper §3)"),
    "candidates": ("deepcee.evaluation.candidates", "false positives as a cross-matched candidate list"),
    "injection-recovery": ("deepcee.evaluation.injection_recovery",
                           "completeness vs redshift and richness on the simulator"),
}


def main(argv=None):
    return dispatch("deepcee", __doc__.splitlines()[0], VERBS, argv)


if __name__ == "__main__":
    sys.exit(main())
