"""``deepcee candidates``: false positives above a threshold as new-cluster candidates
(:mod:`deepcee.evaluation.candidates` says how they are found and what is written)."""
from pathlib import Path

from data_prep.base.errors import InputError
from deepcee.evaluation import candidates, evaluate, metrics


def add_arguments(parser):
    parser.add_argument("--eval", default="runs/deepcee/eval",
                        help="output dir of `deepcee evaluate` (holds <split>/detections.ecsv)")
    parser.add_argument("--data", default="data/deepcee",
                        help="TFRecord dir (for stamps, and the seed in manifest.json)")
    parser.add_argument("--threshold", type=float, default=0.7,
                        help="score threshold (paper §3.2: 0.7, the redMaPPer best F1)")
    parser.add_argument("--source", choices=("sim", "sdss"), required=True,
                        help="catalogues to cross-match: the simulator's or VizieR's")
    parser.add_argument("--out", default="runs/deepcee/candidates", help="writes <out>/<split>/")
    parser.add_argument("--split", action="append",
                        help="evaluated split (repeatable; default: every one in --eval)")
    parser.add_argument("--radius-arcmin", type=float, default=candidates.SEARCH_RADIUS_ARCMIN,
                        help="cross-match and merge radius (arcmin)")
    parser.add_argument("--z-range", type=float, nargs=2, default=candidates.Z_RANGE,
                        metavar=("ZMIN", "ZMAX"), help="catalogue redshift range (exclusive)")
    parser.add_argument("--cache", default="data/cache", help="survey cache (--source sdss)")
    parser.add_argument("--seed", type=int, default=None,
                        help="simulator seed (default: the data set's manifest, else 0)")


def run(args):
    metrics.check_threshold(args.threshold)
    eval_root = Path(args.eval)
    names = args.split or evaluate.evaluated_splits(eval_root)
    if not names:
        raise InputError(f"no <split>/detections.ecsv in {eval_root}: run `deepcee evaluate`")
    for name in names:
        if not (eval_root / name / "detections.ecsv").is_file():
            raise InputError(f"{eval_root / name}/detections.ecsv missing: run `deepcee evaluate`")
    seed = candidates.data_seed(args.data, args.source, args.seed)
    references = candidates.reference_catalogues(args.source, Path(args.cache), seed,
                                                 tuple(args.z_range))
    for name in names:
        out = Path(args.out) / name
        counts = candidates.write_split_candidates(eval_root / name, out, name, args.threshold,
                                                   references, args.radius_arcmin, args.source,
                                                   args.z_range)
        print(f"{name}: {counts['candidates']} candidates from {counts['fp_boxes']} FP boxes "
              f"above {args.threshold:.2f}; {counts['known_wen']} in Wen et al., "
              f"{counts['known_redmapper']} in redMaPPer, {counts['unknown']} unknown -> {out}")
