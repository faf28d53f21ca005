"""``stellarvae sim-gallery``: PNGs of simulated K-band star-cluster fields, for a person to
compare with real 2MASS Ks and UKIDSS GPS K images (:func:`data_prep.sim.gallery.kband_gallery`).
The fields are the eight IRAS sources of StellarVAE Table I, or any 'RA,Dec' given."""
from data_prep.base.command_line import non_negative_int
from data_prep.base.errors import InputError
from data_prep.sim import gallery
from stellarvae.fields import resolve_field, table_i_fields


def add_arguments(parser):
    parser.add_argument("--out", default="runs/sim_gallery/kband", help="output folder for PNGs")
    parser.add_argument("--field", action="append",
                        help="field name (IRAS06055, 06055+2039) or 'RA,Dec' in degrees; "
                             "repeat for several (default: the eight Table I fields)")
    parser.add_argument("--survey", choices=("2mass", "ukidss"), default="2mass",
                        help="survey to imitate")
    parser.add_argument("--size-arcmin", type=float, default=10.0, help="field side (arcmin)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="simulator seed")
    parser.add_argument("--difficulty", choices=sorted(gallery.PRESETS), default="default",
                        help="difficulty preset")


def run(args):
    fields = [resolve_field(text) for text in args.field] if args.field else table_i_fields()
    if args.size_arcmin <= 0:
        raise InputError("sim-gallery: --size-arcmin must be positive")
    for path in gallery.kband_gallery(fields, args.out, args.survey, args.size_arcmin,
                                      args.seed, args.difficulty):
        print(path)
