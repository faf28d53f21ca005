"""``deepcee evaluate``: score a trained model on TFRecord splits as Deep-CEE §3
(:mod:`deepcee.evaluation.evaluate` says what is written)."""
from data_prep.base.command_line import positive_int
from data_prep.base.errors import InputError
from data_prep.base.files import output_folder
from deepcee.evaluation import evaluate, matching, metrics


def add_arguments(parser):
    parser.add_argument("--model", default=None,
                        help="SavedModel export dir (runs/deepcee/export) or a training run "
                             "dir with checkpoints (runs/deepcee/train)")
    parser.add_argument("--data", default="data/deepcee", help="dir with <split>-*.tfrecord")
    parser.add_argument("--out", default="runs/deepcee/eval", help="writes <out>/<split>/")
    parser.add_argument("--split", action="append",
                        help="split name (data/<name>-*.tfrecord) or a TFRecord path/glob; "
                             "repeatable; default: every one of test, redmapper present")
    parser.add_argument("--match-radius-kpc", type=float,
                        default=matching.DEFAULT_MATCH_RADIUS_KPC,
                        help="TP distance threshold in kpc (paper: 100; at most 250)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="operating threshold for eq. 8, offsets and KS "
                             "(default: the best-F1 threshold of each split)")
    parser.add_argument("--alpha", type=float, default=0.05, help="KS significance level")
    parser.add_argument("--limit", type=positive_int, default=None,
                        help="evaluate only the first N images of each split")
    parser.add_argument("--rescore", action="store_true",
                        help="re-score the saved detections in --out (e.g. another radius or "
                             "threshold) without running the model")


def run(args):
    radius = matching.check_match_radius(args.match_radius_kpc)
    if args.threshold is not None:
        metrics.check_threshold(args.threshold)
    if not 0 < args.alpha < 1:
        raise InputError(f"--alpha {args.alpha}: give a significance level between 0 and 1")
    out = output_folder(args.out, "--out")
    if args.rescore:
        names = args.split or evaluate.evaluated_splits(out)
        if not names:
            raise InputError(f"--rescore: no <split>/detections.ecsv in {out} to re-score; run "
                             "`deepcee evaluate` without --rescore first")
        summaries = [evaluate.rescore_split(out / name, name, radius, args.threshold, args.alpha)
                     for name in names]
    else:
        if args.model is None:
            raise InputError("--model is required (an export or training run dir), unless "
                             "--rescore re-scores saved detections")
        requested = args.split or evaluate.present_splits(args.data)
        if not requested:
            raise InputError(f"no test-* or redmapper-* TFRecords in {args.data}: run "
                             "`deepcee tfrecords` first or pass --split")
        splits = [evaluate.split_records(args.data, split) for split in requested]
        from deepcee.serving.detect import load_detector

        detector = load_detector(args.model)
        summaries = [evaluate.evaluate_split(detector, paths, out / name, name, radius,
                                             args.threshold, args.alpha, args.limit)
                     for name, paths in splits]
    for summary in summaries:
        best, operating = summary["best_f1"], summary["at_operating_threshold"]
        print(f"{summary['split']}: {summary['n_images']} images, best F1 {best['f1']:.4f} at "
              f"{best['threshold'] * 100:.0f} %; eq. 8 standard error "
              f"{operating['standard_error_kpc']:.2f} kpc -> {out / summary['split']}")
