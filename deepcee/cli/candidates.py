"""``deepcee candidates``: false positives above a threshold as new-cluster candidates
(:mod:`deepcee.evaluation.candidates` says how they are found and what is written).

Every evaluated split, and the records behind it, is checked before anything is written."""
from pathlib import Path

from data_prep.base.command_line import non_negative_int, positive_float, score
from data_prep.base.errors import InputError
from data_prep.base.files import input_path, output_folder
from deepcee.evaluation import candidates, evaluate


def add_arguments(parser):
    parser.add_argument("--eval", default="runs/deepcee/eval",
                        help="output dir of `deepcee evaluate` (holds <split>/detections.ecsv)")
    parser.add_argument("--data", default="data/deepcee",
                        help="TFRecord dir (for stamps, and the seed in manifest.json)")
    parser.add_argument("--threshold", type=score, default=0.7,
                        help="score threshold (paper §3.2: 0.7, the redMaPPer best F1)")
    parser.add_argument("--source", choices=("sim", "sdss"), required=True,
                        help="catalogues to cross-match: the simulator's or VizieR's")
    parser.add_argument("--out", default="runs/deepcee/candidates", help="writes <out>/<split>/")
    parser.add_argument("--split", action="append",
                        help="evaluated split (repeatable; default: every one in --eval)")
    parser.add_argument("--radius-arcmin", type=positive_float,
                        default=candidates.SEARCH_RADIUS_ARCMIN,
                        help="cross-match and merge radius (arcmin)")
    parser.add_argument("--z-range", type=float, nargs=2, default=candidates.Z_RANGE,
                        metavar=("ZMIN", "ZMAX"), help="catalogue redshift range (exclusive)")
    parser.add_argument("--cache", default="data/cache", help="survey cache (--source sdss)")
    parser.add_argument("--seed", type=non_negative_int, default=None,
                        help="simulator seed (default: the data set's manifest, else 0)")


def run(args):
    zmin, zmax = args.z_range
    if not 0 <= zmin < zmax:
        raise InputError(f"--z-range {zmin} {zmax}: give 0 <= ZMIN < ZMAX")
    eval_root = input_path(args.eval, "--eval", "the --out folder of `deepcee evaluate`",
                           folder=True)
    out = output_folder(args.out, "--out")
    names = args.split or evaluate.evaluated_splits(eval_root)
    if not names:
        raise InputError(f"no <split>/detections.ecsv in {eval_root}: run `deepcee evaluate`")
    for name in names:
        if not (eval_root / name / "detections.ecsv").is_file():
            raise InputError(f"{eval_root / name}/detections.ecsv missing: run `deepcee evaluate`")
        candidates.check_evaluated_split(eval_root / name)
    seed = candidates.data_seed(args.data, args.source, args.seed)
    if args.source == "sdss":
        output_folder(args.cache, "--cache")
    references = candidates.reference_catalogues(args.source, Path(args.cache), seed,
                                                 tuple(args.z_range))
    for name in names:
        counts = candidates.write_split_candidates(eval_root / name, out / name, name,
                                                   args.threshold, references,
                                                   args.radius_arcmin, args.source,
                                                   args.z_range)
        print(f"{name}: {counts['candidates']} candidates from {counts['fp_boxes']} FP boxes "
              f"above {args.threshold:.2f}; {counts['known_wen']} in Wen et al., "
              f"{counts['known_redmapper']} in redMaPPer, {counts['unknown']} unknown -> "
              f"{out / name}")
