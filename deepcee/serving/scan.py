"""Deep-CEE over a survey region on Dask (``deepcee scan``): the paper's next step (§4.2), its
model run over the whole of a survey and every detection cross-matched with the existing
catalogues.

1. **Tiles.** The REGION (:mod:`data_prep.base.sky_tiling`) is cut into square tiles the size
   of the model's input: its training image size at its training pixel scale (1000 px at
   0.792"/px = 13.2 arcmin for the paper's model). Neighbours overlap by one cluster box,
   by default 2 x 250 kpc at z = 0.1, the sample's lowest redshift (4.57 arcmin;
   ``data_prep.deepcee_data.cluster_boxes.BOX_KPC``), so each cluster of the sample lies whole
   in the tile that owns its centre. Images come from ``--source`` (:mod:`.scan_sources`).
2. **Scan.** One Dask task per tile (:mod:`data_prep.base.dask_scan`): the tile's images are
   made into the training picture, the exported SavedModel (loaded once per worker) detects,
   and every box with score >= ``--min-score`` goes to ``OUT/tiles/<tile>.ecsv`` (``tile, ra,
   dec, score, width_arcsec, height_arcsec``), written once; finished tiles are skipped on
   rerun, failed ones listed in ``OUT/failed_tiles.ecsv`` and retried next run.
3. **Merge and cross-match.** The tiles' detections are merged on the sky: in decreasing score,
   each keeps the others within ``--merge-radius-arcmin`` (1.61, the paper's search radius,
   250 kpc at z = 0.15) as duplicates (``search_around_sky``, as
   :func:`deepcee.evaluation.candidates.merge_image_fps`; ``n_merged`` counts them). Those
   inside the REGION with score >= ``--threshold`` form the catalogue, matched with Wen et al.
   (2012) and redMaPPer (0.05 < z < 0.4) within 1.61 arcmin (§3.2,
   :func:`deepcee.evaluation.candidates.cross_match`): ``known`` when either has a cluster
   there, new otherwise.

Outputs in ``OUT``: ``catalogue.ecsv`` and ``catalogue.fits`` (name, RA, Dec, score, tile,
n_merged, box size, ``wen_*`` and ``redmapper_*`` name / separation / redshift / match, known),
``catalogue.reg`` (ds9: green known, red new), ``sky_map.png``, ``summary.json``; on the mock
sky also ``completeness_purity.{ecsv,png}`` against the simulator's truth
(:mod:`deepcee.evaluation.survey_completeness`).
"""
import hashlib
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io.fits.verify import VerifyWarning
from astropy.table import Table, vstack

from data_prep.base import dask_scan, regions
from data_prep.base.celestial import pixel_scale_arcsec
from data_prep.base.cosmology import arcsec_for_kpc
from data_prep.base.errors import InputError
from data_prep.base.files import write_json, write_table, write_text
from data_prep.base.sky_map import plot_sky_map
from data_prep.base.sky_tiling import SYNTAX, parse_region
from data_prep.deepcee_data.cluster_boxes import BOX_KPC
from deepcee.evaluation import candidates, survey_completeness
from deepcee.serving.detect import Detector, detection_table, read_fits_triplet

DEFAULT_OVERLAP_ARCMIN = round(2.0 * float(arcsec_for_kpc(BOX_KPC, 0.1)) / 60.0, 2)
"""One cluster box (2 x 250 kpc) at z = 0.1, the lowest redshift of the paper's sample."""
MIN_SCORE = 0.05
"""Boxes below this score are not kept in the tile results."""
THRESHOLD = 0.5
"""Catalogue score threshold (as ``deepcee detect``)."""
CATALOGUE_COLUMNS = ("name", "ra", "dec", "score", "tile", "n_merged", "width_arcsec",
                     "height_arcsec")


@dataclass(frozen=True)
class TileJob:
    """What a worker does with one tile (picklable; see step 2 of the module doc).

    Attributes
    ----------
    model : str
        Export directory of ``deepcee export`` (absolute).
    source : deepcee.serving.scan_sources.TileSource
    min_score : float
    """

    model: str
    source: object
    min_score: float

    def detector(self):
        """The model, loaded once per worker process."""
        return dask_scan.worker_cache(("deepcee-model", self.model),
                                      lambda: Detector.from_saved_model(self.model))

    def __call__(self, tile):
        detector = self.detector()
        with self.source.images(tile) as paths:
            picture = read_fits_triplet(paths, detector.training_pixel_scale_arcsec)
        if picture.wcs is None:
            raise InputError(f"tile {tile.id}: the r image has no celestial WCS; a scan "
                             "needs RA/Dec")
        boxes, scores = detector(picture.rgb)
        table = detection_table(picture, boxes, scores)
        table = table[np.asarray(table["score"]) >= self.min_score]
        arcsec_per_px = pixel_scale_arcsec(picture.wcs) / picture.scale_to_input
        return Table({"tile": np.full(len(table), tile.id, dtype=f"U{len(tile.id)}"),
                      "ra": np.asarray(table["ra"], float),
                      "dec": np.asarray(table["dec"], float),
                      "score": np.asarray(table["score"], float),
                      "width_arcsec": np.asarray(table["xmax"] - table["xmin"]) * arcsec_per_px,
                      "height_arcsec": np.asarray(table["ymax"] - table["ymin"])
                      * arcsec_per_px})


@dataclass
class ScanPlan:
    """A scan ready to run: the job, its tiles, the region (None: a whole ``dir:`` source)
    and the settings its tile results depend on."""

    job: TileJob
    tiles: list
    region: object
    settings: dict


def model_digest(model):
    """SHA-256 of a SavedModel's graph and variable index (the index holds each variable's
    checksum), naming the model in the scan's settings."""
    folder = Path(model)
    folder = folder / "saved_model" if (folder / "saved_model").is_dir() else folder
    digest = hashlib.sha256()
    for part in ("saved_model.pb", "variables/variables.index"):
        path = folder / part
        if not path.is_file():
            raise InputError(f"{folder}: no {part}; pass the directory 'deepcee export' wrote "
                             "(make export-cee)")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def plan_scan(model, source, region_text=None, overlap_arcmin=DEFAULT_OVERLAP_ARCMIN,
              min_score=MIN_SCORE):
    """The tiles and job of a scan (loads the model once here to read its geometry).

    Parameters
    ----------
    model : path
        ``deepcee export`` output.
    source : deepcee.serving.scan_sources.TileSource
    region_text : str or None
        REGION (required unless the source is ``dir:``).
    overlap_arcmin : float
        Overlap of neighbouring grid tiles (arcmin).
    min_score : float
        Lowest score kept in the tile results.
    """
    if not 0.0 <= min_score <= 1.0:
        raise InputError(f"--min-score {min_score}: give a score between 0 and 1")
    region = parse_region(region_text) if region_text else None
    if region is None and source.kind != "dir":
        raise InputError(f"--source {source.kind} needs --region: {SYNTAX}")
    digest = model_digest(model)
    detector = Detector.from_saved_model(model)
    if detector.tile_size is None or detector.training_pixel_scale_arcsec <= 0:
        raise InputError(f"{model}: the model does not know its training images' size and pixel "
                         "scale; train it on the data set's records (which hold a WCS) and "
                         "export it again")
    tile_px = int(max(detector.tile_size))
    scale = detector.training_pixel_scale_arcsec
    if source.kind == "dir":
        tiles = source.folder_tiles(region)
    else:
        tiles = region.tiles(tile_px * scale / 3600.0, overlap_arcmin / 60.0)
    settings = {"model_sha256": digest, "source": source.describe(), "tile_px": tile_px,
                "pixel_scale_arcsec": round(scale, 6), "overlap_arcmin": overlap_arcmin,
                "min_score": min_score}
    job = TileJob(str(Path(model).resolve()), source, float(min_score))
    return ScanPlan(job, tiles, region, settings)


def tile_detections(out, tiles):
    """Every finished tile's detections, in tile order (``tile, ra, dec, score, width_arcsec,
    height_arcsec``)."""
    tables = [table for _, table in dask_scan.read_results(out, tiles)]
    empty = Table({"tile": np.zeros(0, "U1"), "ra": np.zeros(0), "dec": np.zeros(0),
                   "score": np.zeros(0), "width_arcsec": np.zeros(0),
                   "height_arcsec": np.zeros(0)})
    merged = vstack([empty, *tables], metadata_conflicts="silent")
    merged.meta.clear()
    return merged


def merge_on_sky(detections, radius_arcmin):
    """Duplicates within ``radius_arcmin`` merged, the highest score kept (step 3 of the
    module doc); rows in decreasing score with ``n_merged``, the detections each stands for."""
    rows = detections.copy()
    rows["image"] = np.zeros(len(rows), int)  # one sky: every pair may merge
    merged = candidates.merge_image_fps(rows, radius_arcmin)
    merged.remove_column("image")
    merged.rename_column("n_boxes", "n_merged")
    return merged


def catalogue_table(merged, threshold, references, radius_arcmin):
    """The cross-matched catalogue of the merged detections with score >= ``threshold``."""
    from data_prep.sim.cluster_catalogue import iau_name
    rows = merged[np.asarray(merged["score"]) >= threshold]
    rows["name"] = np.asarray(iau_name("DCEE ", rows["ra"], rows["dec"], 1, 0), dtype=str)
    rows = rows[list(CATALOGUE_COLUMNS)]
    for column in ("ra", "dec"):
        rows[column].unit = "deg"
        rows[column].info.format = ".6f"
    for column in ("width_arcsec", "height_arcsec"):
        rows[column].unit = "arcsec"
        rows[column].info.format = ".1f"
    rows["score"].info.format = ".4f"
    if references is not None:
        rows = candidates.cross_match(rows, references, radius_arcmin)
    return rows


def catalogue_regions(catalogue):
    """ds9 text: each detection's box (sky, arcsec), green when known, red when new."""
    centres = SkyCoord(catalogue["ra"], catalogue["dec"], unit="deg")
    known = catalogue["known"] if "known" in catalogue.colnames else np.zeros(len(catalogue))
    shapes = [regions.sky_box(centre, row["width_arcsec"], row["height_arcsec"],
                              f"{row['score']:.2f}", "green" if is_known else "red")
              for centre, row, is_known in zip(centres, catalogue, known)]
    return regions.ds9_text(shapes, ["Deep-CEE scan: green = a Wen et al. / redMaPPer "
                                     "cluster within 1.61 arcmin, red = new"])


def write_products(out, plan, threshold=THRESHOLD,
                   merge_radius_arcmin=candidates.SEARCH_RADIUS_ARCMIN, catalogues="sim",
                   cache="data/cache", failed=()):
    """Merge, cross-match and write the catalogue, regions, sky map and summary (and, on the
    mock sky, completeness and purity); returns the summary dict.

    Parameters
    ----------
    catalogues : {"sim", "sdss", "none"}
        Which Wen et al. / redMaPPer tables to cross-match: the mock sky's (seed of the
        source), VizieR's, or none.
    failed : collection of str
        Ids of the tiles without a result.
    """
    out = Path(out)
    seed = plan.job.source.seed
    merged = merge_on_sky(tile_detections(out, plan.tiles), merge_radius_arcmin)
    if plan.region is not None:
        merged = merged[plan.region.contains(merged["ra"], merged["dec"], plan.tiles)]
    references = (None if catalogues == "none" else
                  candidates.reference_catalogues(catalogues, Path(cache), seed))
    catalogue = catalogue_table(merged, threshold, references, merge_radius_arcmin)
    catalogue.meta.update({"region": plan.region.text if plan.region else "all images",
                           "threshold": threshold, "merge_radius_arcmin": merge_radius_arcmin,
                           "catalogues": catalogues, **plan.settings})
    write_table(out / "catalogue.ecsv", catalogue)
    with warnings.catch_warnings():  # long meta keys become HIERARCH cards, as they should
        warnings.simplefilter("ignore", VerifyWarning)
        write_table(out / "catalogue.fits", catalogue)
    write_text(out / "catalogue.reg", catalogue_regions(catalogue))
    known = np.asarray(catalogue["known"], bool) if references is not None else \
        np.zeros(len(catalogue), bool)
    truth = None
    summary = {"region": catalogue.meta["region"], "tiles": len(plan.tiles),
               "tiles_failed": len(failed), "detections_merged": len(merged),
               "catalogue": len(catalogue), "known": int(known.sum()),
               "new": int((~known).sum()) if references is not None else None,
               "threshold": threshold, "settings": plan.settings}
    if plan.job.source.kind == "sim":
        from data_prep.sim.galaxy_clusters import MockSky
        true = MockSky(seed=seed).truth_table()
        true = true[plan.region.contains(true["ra"], true["dec"], plan.tiles)]
        truth = (np.asarray(true["ra"]), np.asarray(true["dec"]))
        figures = survey_completeness.completeness_purity(merged, true)
        write_table(out / "completeness_purity.ecsv", figures)
        survey_completeness.plot_completeness_purity(
            figures, out / "completeness_purity.png",
            f"Deep-CEE scan of the mock sky (seed {seed}): {plan.region.text}")
        at = figures[int(np.argmin(np.abs(figures["threshold"] - threshold)))]
        summary.update({"true_clusters": len(true),
                        "completeness_at_threshold": _number(at["completeness"]),
                        "purity_at_threshold": _number(at["purity"])})
    groups = {"known (Wen / redMaPPer)": known, "new": ~known} if references is not None \
        else {"detections": np.ones(len(catalogue), bool)}
    plot_sky_map(out / "sky_map.png", plan.tiles, catalogue["ra"], catalogue["dec"],
                 catalogue["score"], "score", groups,
                 f"Deep-CEE scan: {summary['region']} (score >= {threshold:g})",
                 failed=set(failed), truth=truth)
    write_json(out / "summary.json", summary)
    return summary


def _number(value):
    """A float for JSON, None for NaN (no value)."""
    return None if math.isnan(value) else float(value)


def run_scan(out, plan, options, threshold=THRESHOLD,
             merge_radius_arcmin=candidates.SEARCH_RADIUS_ARCMIN, catalogues="sim",
             cache="data/cache", progress=True, log=print):
    """Claim ``out`` for the plan's settings, scan its tiles on Dask (``options``: a
    :class:`data_prep.base.dask_scan.ClusterOptions`) and write the products; returns the
    summary with this run's tile counts, seconds and tiles per minute."""
    dask_scan.claim_folder(out, plan.settings)
    start = time.perf_counter()
    report = dask_scan.scan(plan.job, plan.tiles, out, options, progress, log)
    summary = write_products(out, plan, threshold, merge_radius_arcmin, catalogues, cache,
                             report.failed)
    summary["run"] = {"written": report.written, "skipped": report.skipped,
                      "failed": report.failed, "seconds": round(time.perf_counter() - start, 2),
                      "tiles_per_minute": round(60.0 * report.written / report.seconds, 2)
                      if report.written else None}
    write_json(Path(out) / "summary.json", summary)
    return summary
