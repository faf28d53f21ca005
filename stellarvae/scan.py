"""StellarVAE over many K-band fields on Dask (``stellarvae scan``): a list of named fields or
a Galactic-plane region cut into tiles, one field per task (:mod:`data_prep.base.dask_scan`).

Fields: named ones (``IRAS06055``, ``'IRAS 06055+2039'``, ``'RA,Dec'``; default the eight
fields of Table I), or a REGION (:mod:`data_prep.base.sky_tiling`) cut into square fields of
``--size-arcmin`` that overlap by ``--overlap-arcmin`` (default 5: the diameter of the largest
Table I cluster, r = 145"), each named by its tile id. Each field runs, in a child process of
its worker (so a worker's memory does not grow from field to field), exactly as
``stellarvae train`` runs it (:func:`stellarvae.pipeline.process_named_field`) into
``OUT/<FIELD>/`` (heat map, detection table and JSON, regions, figures); a field already
finished with the same inputs and options is reused. The field's ``detection.ecsv`` rows are
its task's result.

The scan's own files go to ``OUT/scan-<settings digest>/``, one folder per combination of
source, field size, seed and pipeline options (so scans with other options never mix, and
``OUT`` can hold several): ``tiles/``, ``failed_tiles.ecsv``, ``scan.json``,
``detections.ecsv`` (every field's rows with its ``tile``; on a grid, only detections whose
centre lies in the tile's own cell, so a cluster in an overlap is counted once) and
``sky_map.png`` (detections coloured by IoU against the truth on simulated fields, else against
the reference).
"""
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from astropy.table import Table, vstack

from data_prep.base import dask_scan
from data_prep.base.child_process import run_in_child
from data_prep.base.columns import floats
from data_prep.base.errors import InputError
from data_prep.base.files import write_table
from data_prep.base.sky_map import plot_sky_map
from data_prep.base.sky_tiling import Tile, parse_region
from stellarvae import fields, pipeline

DEFAULT_OVERLAP_ARCMIN = 5.0
"""The diameter of the largest Table I cluster (IRAS 06061+2151, r = 145")."""


@dataclass(frozen=True)
class FieldJob:
    """What a worker does with one field (picklable).

    Attributes
    ----------
    source : str
        ``sim``, ``2mass`` or ``ukidss``.
    size_arcmin : float
        Field side (arcmin) of named fields.
    cache, out : str
        Download cache and results root (absolute).
    options : stellarvae.pipeline.PipelineOptions
    seed : int
    force : bool
        Redo fields finished with the same inputs.
    """

    source: str
    size_arcmin: float
    cache: str
    out: str
    options: object
    seed: int = 0
    force: bool = False

    def __call__(self, tile):
        """Run the tile's field in a child process (:mod:`data_prep.base.child_process`:
        TensorFlow's memory goes back after each field) and return its detection rows."""
        run_in_child(f"{__name__}:run_field", {"job": asdict(self), "tile": asdict(tile)})
        rows = Table.read(Path(self.out) / field_of_tile(tile).name / "detection.ecsv",
                          format="ascii.ecsv")
        rows.add_column(np.full(len(rows), tile.id), name="tile", index=0)
        rows.meta.clear()
        return rows


def run_field(request):
    """The child process's job: ``{"job": asdict(FieldJob), "tile": asdict(Tile)}`` -> run the
    tile's field as ``stellarvae train`` does; returns None."""
    job = FieldJob(**{**request["job"],
                      "options": pipeline.options_from_dict(request["job"]["options"])})
    cell = request["tile"]["cell"]
    tile = Tile(**{**request["tile"], "cell": None if cell is None else tuple(cell)})
    pipeline.process_named_field(field_of_tile(tile), job.source, tile.side_deg * 60.0,
                                 job.cache, job.out, job.options, job.seed, job.force)


def field_of_tile(tile):
    """The :class:`stellarvae.fields.Field` a tile stands for: a Table I field (with its
    reference values) when its id names one, else a field named by the id at its centre."""
    try:
        field = fields.resolve_field(tile.id)
        if field.has_reference:
            return field
    except InputError:
        pass
    return fields.Field(name=tile.id, label=f"{tile.id} (RA,Dec {tile.ra:.4f},{tile.dec:+.4f})",
                        ra_deg=tile.ra, dec_deg=tile.dec)


def field_tiles(names, size_arcmin):
    """One tile per named field (``stellarvae.fields.resolve_field`` spellings), duplicates
    dropped, in the order given."""
    tiles = {}
    for name in names:
        field = fields.resolve_field(name)
        tiles.setdefault(field.name, Tile(field.name, field.ra_deg, field.dec_deg,
                                          size_arcmin / 60.0))
    return list(tiles.values())


def region_tiles(region_text, size_arcmin, overlap_arcmin=DEFAULT_OVERLAP_ARCMIN):
    """The grid of square fields that covers a REGION, and the parsed region."""
    region = parse_region(region_text)
    return region.tiles(size_arcmin / 60.0, overlap_arcmin / 60.0), region


def scan_folder(out, job):
    """``OUT/scan-<digest>/`` of the job's settings, and the settings."""
    settings = {"source": job.source, "size_arcmin": job.size_arcmin, "seed": job.seed,
                "options": json.loads(json.dumps(asdict(job.options), default=str))}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    return Path(out) / f"scan-{digest}", settings


def merged_detections(folder, tiles, grid):
    """Every finished field's rows (``tile`` first); on a ``grid``, only the detections whose
    centre lies in their tile's own cell."""
    tables = []
    for tile, table in dask_scan.read_results(folder, tiles):
        if grid:
            ra, dec = np.asarray(table["ra"], float), np.asarray(table["dec"], float)
            found = np.isfinite(ra) & np.isfinite(dec)
            owned = np.zeros(len(table), bool)
            owned[found] = tile.owns(ra[found], dec[found])
            table = table[owned]
        tables.append(table)
    if not tables:
        return Table({"tile": np.zeros(0, "U1"), "method": np.zeros(0, "U1"),
                      "ra": np.zeros(0), "dec": np.zeros(0)})
    return vstack(tables, join_type="outer", metadata_conflicts="silent")


def _floats(table, name):
    """A column as floats, NaN where it is masked or absent."""
    if name not in table.colnames:
        return np.full(len(table), np.nan)
    return floats(table[name])


def write_products(folder, tiles, grid, failed=()):
    """``detections.ecsv`` and ``sky_map.png`` in the scan folder; returns the merged table."""
    merged = merged_detections(folder, tiles, grid)
    write_table(Path(folder) / "detections.ecsv", merged)
    ra, dec = _floats(merged, "ra"), _floats(merged, "dec")
    found = np.isfinite(ra) & np.isfinite(dec)
    iou = _floats(merged, "iou_truth")
    if not np.isfinite(iou[found]).any():
        iou = _floats(merged, "iou_reference")
    methods = np.asarray(merged["method"], dtype=str)[found]
    plot_sky_map(Path(folder) / "sky_map.png", tiles, ra[found], dec[found], iou[found],
                 "IoU (truth when simulated, else reference)",
                 {method: methods == method for method in dict.fromkeys(methods)},
                 f"StellarVAE scan: {len(tiles)} fields", failed=set(failed))
    return merged


def run_scan(job, tiles, grid, options, progress=True, log=print):
    """Scan ``tiles`` with ``job`` on Dask (``options``: a
    :class:`data_prep.base.dask_scan.ClusterOptions`) and write the merged products; returns
    ``(scan folder, ScanReport, merged table)``."""
    folder, settings = scan_folder(job.out, job)
    dask_scan.claim_folder(folder, settings)
    report = dask_scan.scan(job, tiles, folder, options, progress, log)
    return folder, report, write_products(folder, tiles, grid, report.failed)
