"""``deepcee injection-recovery``: completeness vs redshift and richness on the simulator
(:mod:`deepcee.evaluation.injection_recovery` says how and what is written)."""
from pathlib import Path

from data_prep.base.command_line import non_negative_int, positive_int
from data_prep.base.errors import InputError
from data_prep.base.files import output_folder
from deepcee.evaluation import injection_recovery, matching, metrics


def add_arguments(parser):
    parser.add_argument("--model", required=True,
                        help="SavedModel export dir or training model dir (as for evaluate)")
    parser.add_argument("--data", default="data/deepcee",
                        help="data set whose manifest.json gives the image settings")
    parser.add_argument("--out", default="runs/deepcee/injection")
    parser.add_argument("--threshold", type=float, default=0.7, help="score threshold")
    parser.add_argument("--z-grid", type=float, nargs="+", default=injection_recovery.Z_GRID,
                        help="injection redshifts (simulator range 0.05 to 0.3)")
    parser.add_argument("--richness-edges", type=float, nargs="+",
                        default=injection_recovery.RICHNESS_EDGES, help="R_L* bin edges")
    parser.add_argument("--per-bin", type=positive_int, default=injection_recovery.PER_BIN,
                        help="clusters injected per redshift and richness bin")
    parser.add_argument("--match-radius-kpc", type=float,
                        default=matching.DEFAULT_MATCH_RADIUS_KPC)
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="simulator and selection seed")


def check_arguments(args):
    """InputError for impossible options."""
    metrics.check_threshold(args.threshold)
    if any(not 0.05 <= z <= 0.3 for z in args.z_grid):
        raise InputError(f"--z-grid {args.z_grid}: the simulator places clusters at 0.05 to 0.3")
    edges = list(args.richness_edges)
    if len(edges) < 2 or edges != sorted(set(edges)):
        raise InputError(f"--richness-edges {edges}: give at least two increasing edges")
    matching.check_match_radius(args.match_radius_kpc)
    try:
        injection_recovery.dataset_settings(args.data, args.seed)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{Path(args.data) / 'manifest.json'}: not a data set manifest of "
                         f"'deepcee tfrecords' ({type(error).__name__}: {str(error)[:100]}); "
                         "rebuild it or give another --data") from None
    output_folder(args.out, "--out")


def run(args):
    check_arguments(args)
    from deepcee.serving.detect import load_detector

    summary = injection_recovery.measure_completeness(
        load_detector(args.model), args.data, args.out, args.z_grid, args.richness_edges,
        args.per_bin, args.match_radius_kpc, args.threshold, args.seed)
    print(f"injection-recovery: {summary['recovered']}/{summary['injected']} recovered at "
          f"score > {args.threshold:.2f} -> {Path(args.out)}")
