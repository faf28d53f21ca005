"""Options shared by the ``stellarvae`` verbs: where K-band data come from (``train``,
``table``) and the pipeline's settings (``train``, ``detect``, ``table``).

``--preset`` chooses a named set of pipeline options (:data:`stellarvae.pipeline.PRESETS`):
``paper`` (default) is the paper's method, ``robust`` the improvements chosen on the selection
function. Any option given explicitly overrides the preset's value."""
from pathlib import Path

from data_prep.base.command_line import non_negative_int
from data_prep.base.errors import InputError
from stellarvae import baselines
from stellarvae.pipeline import PRESETS, RADIUS_SOURCES, preset_options

SOURCES = ("sim", "2mass", "ukidss")
DEFAULT_SIZE_ARCMIN = 10.0
_FROM_PRESET = "default: the preset's"


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
    parser.add_argument("--preset", choices=tuple(PRESETS), default="paper",
                        help="paper: the paper's method (default); robust: a 2\"/px working "
                             "scale, background subtraction and smoothing in arcsec, centre and "
                             "radius from the catalogue's star profile, and 'no significant "
                             "cluster' below 5 sigma or 50 %% over-density (README, Presets)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed of every random step")
    parser.add_argument("--latent-dim", type=int, default=None,
                        help="size of z (paper: 2, as its Fig. 4)")
    parser.add_argument("--prior", choices=("mog", "normal"), default=None,
                        help="p(z): learnable 2-component mixture (paper preset) or N(0, I) "
                             "with eq. 6's closed-form KL (robust)")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="epoch limit of each DeepVAE (training stops earlier on a NELBO "
                             "plateau; paper preset 25, robust 5)")
    parser.add_argument("--max-train-patches", type=int, default=None,
                        help="random subset of patches used for training, all are encoded "
                             "(paper preset 2000, robust 512)")
    parser.add_argument("--work-scale-arcsec", type=float, default=None,
                        help="block-average the image to about this pixel scale first, so "
                             "patch sizes are angles on the sky (0 = native pixels, the paper; "
                             "robust: 2)")
    parser.add_argument("--background-px", type=int, default=None,
                        help="running-median window (px) subtracted before scaling, removing "
                             "sky and nebulosity; 0 = the paper (default); 9 works well at "
                             "2MASS scale")
    parser.add_argument("--background-arcsec", type=float, default=None,
                        help="the same window in arcsec (robust: 10)")
    parser.add_argument("--heat-smoothing-px", type=float, default=None,
                        help="Gaussian sigma (px) of the summed heat map; 0 = the paper "
                             "(default); 64 (the largest patch) works well at 2MASS scale")
    parser.add_argument("--heat-smoothing-arcsec", type=float, default=None,
                        help="the same sigma in arcsec (robust: 40)")
    parser.add_argument("--clip-percentile", type=float, default=None,
                        help="percentile of the image scaled to 1 (paper: 99.5; robust: 95, so "
                             "that patches count stars rather than weigh a few bright ones)")
    parser.add_argument("--region-sigma", type=float, default=None,
                        help="region threshold at the heat map's median + this many robust "
                             "sigma instead of 0.7 x max (0 = 0.7 x max, both presets)")
    parser.add_argument("--radius-from", choices=RADIUS_SOURCES, default=None,
                        help="region: radius of the region's area (paper); stars: centre and "
                             "half-number radius from a Plummer fit to the catalogue; "
                             "stars-or-region: the fit, or the region when only the region is "
                             "a significant over-density (robust)")
    parser.add_argument("--blend-arcsec", type=float, default=None,
                        help="the star fit's blending separation: the catalogue lists one "
                             "source of two closer than this (0 = no blending; default: "
                             "measured from the catalogue's closest pairs)")
    parser.add_argument("--luminosity-bins", type=int, default=None,
                        help="the star fit also weighs each star's K magnitude, fitting the "
                             "cluster's and the field's luminosity functions in this many "
                             "equal-count bins (0 = positions only; robust: 8)")
    parser.add_argument("--min-significance", type=float, default=None,
                        help="report 'no significant cluster' when the star over-density of "
                             "the detection is below this many sigma or a contrast of 0.5 "
                             "(0 = always report a region, the paper; robust: 5)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip the catalogue baselines (star counts, k-NN density)")
    parser.add_argument("--force", action="store_true",
                        help="redo a field even when its finished result matches the inputs")


_PIPELINE_FIELDS = ("work_scale_arcsec", "background_px", "background_arcsec",
                    "heat_smoothing_px", "heat_smoothing_arcsec", "clip_percentile",
                    "region_sigma", "radius_from", "blend_arcsec", "luminosity_bins",
                    "min_significance")
_TRAINING_FIELDS = ("latent_dim", "prior", "max_epochs", "max_train_patches")
_NON_NEGATIVE = ("work_scale_arcsec", "background_px", "background_arcsec",
                 "heat_smoothing_px", "heat_smoothing_arcsec", "region_sigma",
                 "blend_arcsec", "luminosity_bins", "min_significance")


def pipeline_options(args):
    """:class:`PipelineOptions` from parsed :func:`add_pipeline_arguments` options: the
    preset's, with every option given explicitly on top."""
    given = {name: getattr(args, name) for name in _PIPELINE_FIELDS
             if getattr(args, name, None) is not None}
    training = {name: getattr(args, name) for name in _TRAINING_FIELDS
                if getattr(args, name, None) is not None}
    for name in _NON_NEGATIVE:
        if given.get(name, 0) < 0:
            raise InputError(f"--{name.replace('_', '-')} {given[name]}: give a value >= 0")
    if not 50.0 <= given.get("clip_percentile", 99.5) <= 100.0:
        raise InputError(f"--clip-percentile {given['clip_percentile']}: give 50 to 100")
    if training.get("latent_dim", 1) < 1 or training.get("max_epochs", 1) < 1 \
            or training.get("max_train_patches", 16) < 16:
        raise InputError("--latent-dim and --max-epochs must be >= 1, --max-train-patches "
                         ">= 16")
    for kind in ("background", "heat_smoothing"):
        pixels, arcsec = f"{kind}_px", f"{kind}_arcsec"
        if given.get(pixels) and given.get(arcsec):
            raise InputError(f"--{pixels.replace('_', '-')} and --{arcsec.replace('_', '-')} "
                             "set the same width; give one")
        if pixels in given:  # a width in pixels replaces the preset's width in arcsec
            given.setdefault(arcsec, 0.0)
        elif arcsec in given:
            given.setdefault(pixels, 0)
    return preset_options(args.preset, **given, training=training,
                          baselines=() if args.no_baselines else baselines.BASELINES)
