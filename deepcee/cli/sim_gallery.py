"""``deepcee sim-gallery``: PNGs of simulated SDSS cluster fields, for a person to compare
with real SDSS images (:func:`data_prep.sim.gallery.sdss_gallery`)."""
from data_prep.base.errors import InputError
from data_prep.sim.gallery import PRESETS, sdss_gallery


def add_arguments(parser):
    parser.add_argument("--out", default="runs/sim_gallery/sdss", help="output folder for PNGs")
    parser.add_argument("--n", type=int, default=4, help="number of clusters (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="simulator seed")
    parser.add_argument("--size-px", type=int, default=2000, help="cutout side in pixels")
    parser.add_argument("--difficulty", choices=sorted(PRESETS), default="default",
                        help="difficulty preset of the simulated sky")
    parser.add_argument("--cluster-free", action="store_true",
                        help="render the same fields without any cluster")


def run(args):
    if args.n < 1 or not 64 <= args.size_px <= 4000:
        raise InputError("sim-gallery: --n must be >= 1 and --size-px 64 to 4000")
    for path in sdss_gallery(args.out, args.n, args.seed, args.size_px, args.difficulty,
                             args.cluster_free):
        print(path)
