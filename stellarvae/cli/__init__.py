"""The ``stellarvae`` command: star-cluster detection in K-band fields."""
import sys

from data_prep.base.command_line import dispatch

VERBS = {
    "train": ("stellarvae.run_field", "run StellarVAE on a named field (IRAS06055, RA,Dec)"),
    "detect": ("stellarvae.detect_image", "run StellarVAE on any K-band FITS image"),
    "table": ("stellarvae.table", "Table I of the paper for the eight IRAS fields"),
    "fields": ("stellarvae.fields", "list the known fields and their reference values"),
    "sim-gallery": ("stellarvae.sim_gallery", "write PNGs of simulated K-band fields"),
}


def main(argv=None):
    return dispatch("stellarvae", __doc__.splitlines()[0], VERBS, argv)


if __name__ == "__main__":
    sys.exit(main())
