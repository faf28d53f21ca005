"""Options shared by the ``stellarvae`` verbs: where K-band data come from (``train``,
``table``) and the pipeline's settings (``train``, ``detect``, ``table``)."""
from pathlib import Path

from data_prep.base.errors import InputError
from stellarvae import baselines
from stellarvae.pipeline import PipelineOptions
from stellarvae.training import TrainingOptions

SOURCES = ("sim", "2mass", "ukidss")
DEFAULT_SIZE_ARCMIN = 10.0


def add_source_arguments(parser):
    """Where the K-band data come from, and where results go."""
    parser.add_argument("--source", choices=SOURCES, default="sim",
                        help="K-band data: sim (embedded simulator, offline), 2mass or ukidss")
    parser.add_argument("--size-arcmin", type=float, default=DEFAULT_SIZE_ARCMIN,
                        help="field side in arcmin (default %(default)s)")
    parser.add_argument("--cache", type=Path, default=Path("data/cache"),
                        help="download / simulation cache (default %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("runs/stellarvae"),
                        help="results root; each field writes OUT/<FIELD>/")


def add_pipeline_arguments(parser):
    """Options of :class:`stellarvae.pipeline.PipelineOptions`, the seed and ``--force``."""
    defaults = TrainingOptions()
    parser.add_argument("--seed", type=int, default=0, help="seed of every random step")
    parser.add_argument("--latent-dim", type=int, default=defaults.latent_dim,
                        help="size of z (default %(default)s, as the paper's Fig. 4)")
    parser.add_argument("--prior", choices=("mog", "normal"), default=defaults.prior,
                        help="p(z): learnable 2-component mixture (paper, default) or N(0, I)")
    parser.add_argument("--max-epochs", type=int, default=defaults.max_epochs,
                        help="epoch limit of each DeepVAE (training stops earlier on a NELBO "
                             "plateau; default %(default)s)")
    parser.add_argument("--max-train-patches", type=int, default=defaults.max_train_patches,
                        help="random subset of patches used for training (all are encoded)")
    parser.add_argument("--background-px", type=int, default=PipelineOptions.background_px,
                        help="running-median window (px) subtracted before scaling, removing "
                             "sky and nebulosity; 0 = the paper (default); 9 works well at "
                             "2MASS scale")
    parser.add_argument("--heat-smoothing-px", type=float,
                        default=PipelineOptions.heat_smoothing_px,
                        help="Gaussian sigma (px) of the summed heat map; 0 = the paper "
                             "(default); 64 (the largest patch) works well at 2MASS scale")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip the catalogue baselines (star counts, k-NN density)")
    parser.add_argument("--force", action="store_true",
                        help="redo a field even when its finished result matches the inputs")


def pipeline_options(args):
    """:class:`PipelineOptions` from parsed :func:`add_pipeline_arguments` options."""
    if args.latent_dim < 1 or args.max_epochs < 1 or args.max_train_patches < 16 \
            or args.background_px < 0 or args.heat_smoothing_px < 0:
        raise InputError("--latent-dim and --max-epochs must be >= 1, --max-train-patches "
                         ">= 16, --background-px and --heat-smoothing-px >= 0")
    training = TrainingOptions(latent_dim=args.latent_dim, prior=args.prior,
                               max_epochs=args.max_epochs,
                               max_train_patches=args.max_train_patches)
    return PipelineOptions(training=training, background_px=args.background_px,
                           heat_smoothing_px=args.heat_smoothing_px,
                           baselines=() if args.no_baselines else baselines.BASELINES)
