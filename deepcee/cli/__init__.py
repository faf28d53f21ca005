"""The ``deepcee`` command: one verb per stage of the Deep-CEE chain."""
import sys

from data_prep.base.command_line import dispatch

VERBS = {
    "check-config": ("deepcee.cli.check_config", "parse a pipeline config and print a summary"),
    "tfrecords": ("deepcee.cli.tfrecords", "build the Deep-CEE TFRecord data set"),
    "sim-gallery": ("deepcee.cli.sim_gallery", "write PNGs of simulated SDSS cluster fields"),
    "train": ("deepcee.cli.train", "train Faster R-CNN from a pipeline config"),
    "export": ("deepcee.cli.export", "export a trained checkpoint as a SavedModel"),
    "detect": ("deepcee.cli.detect", "find clusters in FITS g,r,i triplets or colour images"),
    "scan": ("deepcee.cli.scan", "scan a survey region on Dask into a cross-matched catalogue"),
    "evaluate": ("deepcee.cli.evaluate", "precision / recall / F1 over thresholds (paper §3)"),
    "candidates": ("deepcee.cli.candidates", "false positives as a cross-matched candidate list"),
    "injection-recovery": ("deepcee.cli.injection_recovery",
                           "completeness vs redshift and richness on the simulator"),
    "look-table": ("deepcee.cli.look_table",
                   "leave-one-look-out F1 of detectors on chosen simulator looks"),
}


def main(argv=None):
    return dispatch("deepcee", __doc__.splitlines()[0], VERBS, argv)


if __name__ == "__main__":
    sys.exit(main())
