"""The ``stellarvae`` command: star-cluster detection in K-band fields."""
import sys

from data_prep.base.command_line import dispatch

VERBS = {
    "train": ("stellarvae.cli.train", "run StellarVAE on a named field (IRAS06055, RA,Dec)"),
    "detect": ("stellarvae.cli.detect", "run StellarVAE on any K-band FITS image"),
    "table": ("stellarvae.cli.table", "Table I of the paper for the eight IRAS fields"),
    "scan": ("stellarvae.cli.scan", "run many fields (or a region's grid) on Dask"),
    "injection-recovery": ("stellarvae.cli.injection_recovery",
                           "selection function of each method on simulated fields (Dask)"),
    "fields": ("stellarvae.cli.fields", "list the known fields and their reference values"),
    "sim-gallery": ("stellarvae.cli.sim_gallery", "write PNGs of simulated K-band fields"),
}


def main(argv=None):
    return dispatch("stellarvae", __doc__.splitlines()[0], VERBS, argv)


if __name__ == "__main__":
    sys.exit(main())
