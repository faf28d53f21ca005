"""``deepcee scan``: Deep-CEE over a survey region on Dask, merged into one cross-matched
catalogue (:mod:`deepcee.serving.scan`).

Exit status 0 when every tile is finished, 1 when some failed (listed with their reasons in
``OUT/failed_tiles.ecsv``; rerun the same command to retry them), 2 on a usage mistake.
"""
from data_prep.base import dask_scan
from data_prep.base.errors import InputError
from data_prep.base.sky_tiling import SYNTAX
from deepcee.evaluation.candidates import SEARCH_RADIUS_ARCMIN
from deepcee.serving import scan
from deepcee.serving.scan_sources import KINDS, tile_source


def add_arguments(parser):
    parser.add_argument("--region", default=None,
                        help=f"the sky to scan: {SYNTAX}; optional with --source dir:PATH")
    parser.add_argument("--source", default="sim",
                        help=f"tile images: {KINDS} (default sim, the offline mock sky)")
    parser.add_argument("--model", default="runs/deepcee/export",
                        help="export directory of 'deepcee export' (default %(default)s)")
    parser.add_argument("--out", default="runs/scan/deepcee",
                        help="scan folder: tiles/, catalogue, sky map (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="mock sky seed (--source sim)")
    parser.add_argument("--cache", default="data/cache",
                        help="survey download cache (default %(default)s)")
    parser.add_argument("--overlap-arcmin", type=float, default=scan.DEFAULT_OVERLAP_ARCMIN,
                        help="overlap of neighbouring tiles (default %(default)s: a 500 kpc "
                             "cluster box at z = 0.1)")
    parser.add_argument("--min-score", type=float, default=scan.MIN_SCORE,
                        help="lowest score kept in the tile results (default %(default)s)")
    parser.add_argument("--threshold", type=float, default=scan.THRESHOLD,
                        help="catalogue score threshold (default %(default)s)")
    parser.add_argument("--merge-radius-arcmin", type=float, default=SEARCH_RADIUS_ARCMIN,
                        help="duplicates closer than this are one cluster, and the catalogue "
                             "cross-match radius (default %(default)s, the paper's)")
    parser.add_argument("--catalogues", choices=("sim", "sdss", "none"), default=None,
                        help="Wen et al. / redMaPPer to cross-match: the mock sky's, VizieR's "
                             "or none (default: sim for --source sim, else sdss)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    dask_scan.add_cluster_arguments(parser)


def run(args):
    if not 0.0 <= args.threshold <= 1.0:
        raise InputError(f"--threshold {args.threshold}: give a score between 0 and 1")
    if not args.merge_radius_arcmin > 0:
        raise InputError(f"--merge-radius-arcmin {args.merge_radius_arcmin}: give a positive "
                         "radius")
    options = dask_scan.cluster_options(args)
    source = tile_source(args.source, args.seed, args.cache)
    catalogues = args.catalogues or ("sim" if source.kind == "sim" else "sdss")
    plan = scan.plan_scan(args.model, source, args.region, args.overlap_arcmin, args.min_score)
    summary = scan.run_scan(args.out, plan, options, args.threshold, args.merge_radius_arcmin,
                            catalogues, args.cache, progress=not args.no_progress)
    run_info = summary["run"]
    print(f"{summary['tiles']} tiles ({run_info['written']} scanned now, {run_info['skipped']} "
          f"before, {summary['tiles_failed']} failed) in {run_info['seconds']:.0f} s; "
          f"{summary['catalogue']} clusters with score >= {args.threshold:g}"
          + (f": {summary['known']} known, {summary['new']} new" if catalogues != "none"
             else ""))
    if "true_clusters" in summary:
        print(f"mock sky: {summary['true_clusters']} true clusters; completeness "
              f"{summary['completeness_at_threshold']}, purity {summary['purity_at_threshold']}"
              f" at score > {args.threshold:g} (completeness_purity.png)")
    print(f"written: {args.out}/catalogue.ecsv (.fits, .reg), sky_map.png, summary.json")
    if summary["tiles_failed"]:
        print(f"{summary['tiles_failed']} tiles failed: see {args.out}/failed_tiles.ecsv; run "
              "the same command again to retry them")
        return 1
    return 0
