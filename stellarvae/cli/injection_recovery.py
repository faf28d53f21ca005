"""``stellarvae injection-recovery``: the selection function of StellarVAE (paper and robust
presets) and the catalogue baselines on simulated fields, on Dask
(:mod:`stellarvae.injection_recovery` says what is simulated, scored and written).

Each field is one task; a rerun in the same ``--out`` skips the finished fields and remakes the
tables and maps from all of them. ``--report-only`` remakes them without running anything.
"""
from pathlib import Path

from data_prep.base import dask_scan
from data_prep.base.errors import InputError
from stellarvae import injection_recovery as ir


def add_arguments(parser):
    parser.add_argument("--out", type=Path, default=Path("runs/stellarvae/selection_function"),
                        help="results folder (default %(default)s)")
    parser.add_argument("--members", type=int, nargs="+", default=list(ir.MEMBERS),
                        help="cluster members to the 2MASS limit (default %(default)s)")
    parser.add_argument("--r-half", type=float, nargs="+", default=list(ir.R_HALF_ARCSEC),
                        help="half-number radii, arcsec (default %(default)s)")
    parser.add_argument("--density", type=float, nargs="+", default=list(ir.DENSITY),
                        help="field-star density scales (1: ~5 stars/arcmin^2 to K = 14.3; "
                             "default %(default)s)")
    parser.add_argument("--nebulosity", type=float, nargs="+", default=list(ir.NEBULOSITY),
                        help="nebulosity strengths (default %(default)s)")
    parser.add_argument("--surveys", nargs="+", choices=("2mass", "ukidss"),
                        default=list(ir.SURVEYS), help="pixel scales: 2mass 1\"/px, ukidss "
                                                       "0.2\"/px (default: both)")
    parser.add_argument("--seeds", type=int, default=ir.SEEDS,
                        help="fields per cluster cell (default %(default)s)")
    parser.add_argument("--empty-seeds", type=int, default=ir.EMPTY_SEEDS,
                        help="cluster-free fields per density, nebulosity and survey "
                             "(default %(default)s)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seed of the first field of each cell (default %(default)s)")
    parser.add_argument("--size-arcmin", type=float, default=ir.SIZE_ARCMIN,
                        help="field side, arcmin (default %(default)s)")
    parser.add_argument("--methods", nargs="+", choices=ir.METHODS, default=list(ir.METHODS),
                        help="methods to score (default: all)")
    parser.add_argument("--report-only", action="store_true",
                        help="remake the tables and maps from the finished fields only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    dask_scan.add_cluster_arguments(parser)


def check_arguments(args):
    """InputError for a grid that cannot be simulated."""
    if min(args.members) < 1 or min(args.r_half) <= 0:
        raise InputError("--members and --r-half must be positive")
    if min(args.density) <= 0 or min(args.nebulosity) < 0:
        raise InputError("--density must be positive and --nebulosity >= 0")
    if args.seeds < 1 or args.empty_seeds < 0 or args.first_seed < 0:
        raise InputError("--seeds must be >= 1, --empty-seeds and --first-seed >= 0")
    if not 2.0 <= args.size_arcmin <= 30.0:
        raise InputError(f"--size-arcmin {args.size_arcmin}: use 2 to 30 arcmin")
    if 2 * max(args.r_half) > args.size_arcmin * 60.0:
        raise InputError(f"--r-half {max(args.r_half):g}\" does not fit a "
                         f"{args.size_arcmin:g}' field twice; give a larger --size-arcmin")


def run(args):
    check_arguments(args)
    grid = ir.Grid(members=tuple(args.members), r_half_arcsec=tuple(args.r_half),
                   density=tuple(args.density), nebulosity=tuple(args.nebulosity),
                   surveys=tuple(args.surveys), seeds=args.seeds, empty_seeds=args.empty_seeds,
                   size_arcmin=args.size_arcmin, first_seed=args.first_seed)
    if args.report_only:
        headline = ir.write_results(args.out, grid)  # keeps the command that ran the fields
    else:
        report, headline = ir.run_grid(grid, args.out, dask_scan.cluster_options(args),
                                       args.methods, progress=not args.no_progress,
                                       command=args.command_line)
        print(f"{report.total} fields: {report.written} run now, {report.skipped} finished "
              f"before, {len(report.failed)} failed ({report.seconds:.0f} s)")
        for field, reason in sorted(report.failed.items()):
            print(f"  failed {field}: {reason}")
    if headline is None:
        raise InputError(f"{args.out}: no finished field to report; run without --report-only")
    for method, m in headline["methods"].items():
        print(f"{method:12s} detection rate {_pct(m['detection_rate'])}, median IoU "
              f"{_num(m['median_iou'])}, median offset/r_half "
              f"{_num(m['median_offset_over_r_half'])}; detectable cells: IoU "
              f"{_num(m['detectable_median_iou'])}; false detections "
              f"{_pct(m['false_detection_rate'])}")
    print(f"written: {args.out / 'selection_function.ecsv'}, selection_function.md, "
          "summary.json, map_*.png, false_detections.png")
    return 0


def _pct(value):
    return "n/a" if value is None else f"{100 * value:.0f} %"


def _num(value):
    return "n/a" if value is None or value != value else f"{value:.2f}"
