"""``deepcee train``: train Faster R-CNN from a pipeline config (:mod:`deepcee.training.train`)."""
from data_prep.base.command_line import non_negative_int, positive_int
from data_prep.base.files import input_path, output_folder
from deepcee.training.train import CHECKPOINT_EVERY, train


def add_arguments(parser):
    parser.add_argument("--config", required=True, help="pipeline config (OD API text format)")
    parser.add_argument("--model-dir", required=True,
                        help="run directory: checkpoints, events, pipeline.config")
    parser.add_argument("--data", default=None,
                        help="directory holding the TFRecord shards named by the config's "
                             "input_path patterns (default: the config's own paths)")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="train up to this step (overrides train_config.num_steps)")
    parser.add_argument("--checkpoint-every", type=positive_int, default=None,
                        help=f"steps between checkpoints (default {CHECKPOINT_EVERY}, or a "
                             "quarter of the run when shorter)")
    parser.add_argument("--image-every", type=positive_int, default=None,
                        help="steps between TensorBoard detection images (default: at each "
                             "checkpoint)")
    parser.add_argument("--eval-every", type=non_negative_int, default=None,
                        help="steps between evaluations of the test split (best F1 in "
                             "TensorBoard, best checkpoint in best/, learning_curve.png; "
                             "default: at each checkpoint; 0: never)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed of the initial weights, data order and flips")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="compute in float16 with float32 weights (mixed_float16 policy)")
    parser.add_argument("--xla", action="store_true",
                        help="compile the training step with XLA (jit_compile)")
    parser.add_argument("--nondeterministic", action="store_true",
                        help="leave TensorFlow's op determinism off (faster on some GPUs; the "
                             "same seed then no longer gives the same bytes)")


def run(args):
    output_folder(args.model_dir, "--model-dir")
    if args.data is not None:
        input_path(args.data, "--data", "the folder of 'deepcee tfrecords --out'", folder=True)
    train(args.config, args.model_dir, data_dir=args.data, steps=args.steps,
          checkpoint_every=args.checkpoint_every, image_every=args.image_every,
          eval_every=args.eval_every, seed=args.seed,
          mixed_precision=args.mixed_precision, xla=args.xla,
          deterministic=not args.nondeterministic)
