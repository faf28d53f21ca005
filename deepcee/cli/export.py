"""``deepcee export``: a trained checkpoint -> a SavedModel (:mod:`deepcee.serving.export`)."""
from deepcee.serving.export import export


def add_arguments(parser):
    parser.add_argument("--model-dir", required=True,
                        help="training run directory (checkpoints and pipeline.config)")
    parser.add_argument("--out", required=True,
                        help="export directory: saved_model/, pipeline.config, label map")
    parser.add_argument("--checkpoint", choices=("best", "latest"), default="best",
                        help="best: the best-F1 checkpoint the evaluation during training kept "
                             "(the latest if there is none; default); latest: the last one")


def run(args):
    path = export(args.model_dir, args.out, args.checkpoint)
    print(f"wrote {path}")
