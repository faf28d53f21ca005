"""``deepcee tfrecords``: the Deep-CEE training, test and redMaPPer data sets (Deep-CEE §2.2);
see :mod:`data_prep.deepcee_data.builder` for what is built and how."""
from data_prep.base.command_line import non_negative_int
from data_prep.base.errors import InputError
from data_prep.sim.looks import load_look
from data_prep.deepcee_data import builder
from data_prep.surveys import sdss

DEFAULTS = builder.Settings()


def add_arguments(parser):
    """Options of ``deepcee tfrecords``."""
    parser.add_argument("--source", choices=("sdss", "sim"), default="sim",
                        help="where clusters and images come from (default sim: offline)")
    parser.add_argument("--n", type=int, default=None,
                        help="use N clusters of the paper sample, chosen with the seed "
                             "(default: all); also caps the redMaPPer set at N")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed of every random step")
    parser.add_argument("--out", default="data/deepcee",
                        help="output directory; a finished data set of other settings there "
                             "is replaced only once the new one is complete")
    parser.add_argument("--cache", default="data/cache",
                        help="cache directory (cutouts in <cache>/<source>/cutouts)")
    parser.add_argument("--cutout-px", type=int, default=DEFAULTS.cutout_px,
                        help="cutout side at 0.396 arcsec/px (paper: 2000)")
    parser.add_argument("--image-px", type=int, default=DEFAULTS.image_px,
                        help="side of the encoded image (paper: 1000)")
    parser.add_argument("--copies", type=int, default=DEFAULTS.copies,
                        help="offset copies per training/test cluster (paper: 4)")
    parser.add_argument("--max-offset", type=float, default=DEFAULTS.max_offset_arcsec,
                        help="largest BCG offset from the image centre in x and y, arcsec "
                             "(paper: 270)")
    parser.add_argument("--test-fraction", type=float, default=DEFAULTS.test_fraction,
                        help="fraction of clusters in the test split (paper: 204/1988)")
    parser.add_argument("--box-kpc", type=float, default=DEFAULTS.box_kpc,
                        help="half-side of the ground-truth box, projected kpc (default 250)")
    parser.add_argument("--lower-sigma", type=float, default=DEFAULTS.lower_sigma,
                        help="stretch lower limit = sky median + this x sky sigma (default 0)")
    parser.add_argument("--upper-percentile", type=float, default=DEFAULTS.upper_percentile,
                        help="stretch upper limit = this percentile of the band (default 99.5)")
    parser.add_argument("--max-blank", type=float, default=DEFAULTS.max_blank_fraction,
                        help="reject a cutout with more than this fraction of NaN or zero "
                             "pixels in a band (default 0.5)")
    parser.add_argument("--look", default=None,
                        help="simulator only: draw each image's look (seeing, depth, sky, "
                             "calibration, colours, sizes, stretch) from pipeline_configs/looks/"
                             "LOOK.json or a JSON file (default: the fixed paper-like look)")
    parser.add_argument("--shard-size", type=int, default=DEFAULTS.shard_size,
                        help="records per TFRecord shard (default 100)")


def settings_from_args(args):
    """Check the options; raise :class:`InputError` for impossible ones."""
    checks = [
        (args.n is None or args.n >= 1, f"--n {args.n}: give at least 1 cluster"),
        (args.cutout_px >= 16, f"--cutout-px {args.cutout_px}: give at least 16 pixels"),
        (1 <= args.image_px <= args.cutout_px,
         f"--image-px {args.image_px}: give 1 to --cutout-px ({args.cutout_px}) pixels"),
        (args.copies >= 1, f"--copies {args.copies}: give at least 1"),
        (args.max_offset >= 0, f"--max-offset {args.max_offset}: give a value >= 0 arcsec"),
        (0 <= args.test_fraction < 1, f"--test-fraction {args.test_fraction}: give 0 to <1"),
        (args.box_kpc > 0, f"--box-kpc {args.box_kpc}: give a positive size"),
        (0 < args.upper_percentile <= 100,
         f"--upper-percentile {args.upper_percentile}: give a percentile in (0, 100]"),
        (0 <= args.max_blank <= 1, f"--max-blank {args.max_blank}: give a fraction 0..1"),
        (args.shard_size >= 1, f"--shard-size {args.shard_size}: give at least 1"),
    ]
    for ok, message in checks:
        if not ok:
            raise InputError(message)
    if args.look is not None:
        if args.source != "sim":
            raise InputError(f"--look {args.look} sets the simulator's look: use it with "
                             "--source sim")
        load_look(args.look)  # refuse a bad look file before anything is written
    half_image_arcsec = args.cutout_px * sdss.PIXEL_SCALE_ARCSEC / 2
    if args.max_offset >= half_image_arcsec:
        raise InputError(f"--max-offset {args.max_offset} arcsec puts the BCG outside a "
                         f"{args.cutout_px} px cutout ({half_image_arcsec:.0f} arcsec "
                         "half-side): lower it or raise --cutout-px")
    return builder.Settings(source=args.source, seed=args.seed, n=args.n, cutout_px=args.cutout_px,
                    image_px=args.image_px, scale_arcsec=sdss.PIXEL_SCALE_ARCSEC,
                    copies=args.copies, max_offset_arcsec=args.max_offset,
                    test_fraction=args.test_fraction, box_kpc=args.box_kpc,
                    lower_sigma=args.lower_sigma, upper_percentile=args.upper_percentile,
                    max_blank_fraction=args.max_blank, shard_size=args.shard_size,
                    look=args.look)


def run(args):
    builder.build(settings_from_args(args), args.out, args.cache)
