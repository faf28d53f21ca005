"""The Deep-CEE training, test and redMaPPer data sets (Deep-CEE §2.2), as ``deepcee tfrecords``
builds them.

What it makes, from a cluster source (``--source sdss``: Wen et al. 2012 and redMaPPer from
VizieR, SDSS DR9 images from SkyView; ``--source sim``: the embedded simulator):

1. The paper sample (Abell clusters of Wen et al. 2012, 0.1 < z < 0.2, N200 >= 20, Dec > 0:
   497 clusters), or ``--n`` of them chosen with the seed; the redMaPPer clusters of a region
   holding none of the sample (31 in the paper; at most ``--n`` with ``--n``).
2. A split by cluster (``data_prep.deepcee_data.sample_split``): 446 training / 51 test clusters of 497, so
   4 offset copies each give the paper's 1784 / 204 images and no cluster leaks between them;
   the redMaPPer clusters are a split of their own, one image each.
3. Per image, a g, r, i cutout of ``--cutout-px`` (2000) pixels at 0.396 arcsec / px, centred
   at a uniform random offset of up to 270 arcsec in x and y from the BCG
   (``data_prep.deepcee_data.offsets``), cached as FITS (``data_prep.deepcee_data.cutout_cache``).
4. The three bands resampled to ``--image-px`` (1000) pixels (``data_prep.deepcee_data.regrid``:
   area averaging, with the WCS rescaled to match), then square-root stretched between a sky
   lower limit and a percentile upper limit into i, r, g -> R, G, B
   (``data_prep.deepcee_data.stretch``), pixels without data black: the one colour image
   function that ``deepcee detect`` uses too (``data_prep.deepcee_data.colour_image``); then
   PNG-encoded (``data_prep.deepcee_data.png_encoding``). Resampling the flux images before the stretch,
   rather than the 8-bit picture after it as the paper's training-time resizer did, makes the
   stretch 4x cheaper and changes a pixel by about the sqrt's curvature within one original
   pixel, far below the noise. PNG row ``j``, column ``i`` is FITS pixel ``(i + 1, j + 1)``
   of the stored WCS (astropy 0-based ``(x, y) = (i, j)``): the arrays are not flipped, so a
   north-up cutout has north at the bottom of the PNG.
5. Boxes centred on every BCG of the split inside the image, half-side ``--box-kpc`` (250 kpc)
   at the cluster's redshift (``data_prep.deepcee_data.cluster_boxes``), class ``galaxy_cluster`` (id 1).
6. TFRecords in the OD API schema plus the cluster properties and the encoded image's WCS
   (``data_prep.deepcee_data.tfrecord_schema``): ``<split>-0000k-of-0000n.tfrecord``, ``--shard-size``
   (100) records each.

Outputs in ``--out``: the shards, ``label_map.pbtxt``, ``clusters.ecsv`` (the sample, its
split and each copy's offset), ``manifest.json`` (settings, stretch rule, counts, every shard's
record count and SHA-256, the Wen cut report; no timestamps), ``preview.png``, and
``rejects.ecsv`` (split, cluster, copy, reason) when a cutout was skipped.

Nothing is lost: each shard is written to a temporary name and renamed, then recorded with its
SHA-256 and a fingerprint of its settings and contents in ``.progress.json``. A rerun keeps a
shard whose file matches its record and fingerprint and makes only what is missing, from the
cached cutouts where they exist; a killed run leaves at most ``.tmp-*`` files, which the next
run removes. A finished data set in ``--out`` made with other settings stays whole while the
new one is built beside it (``.building-<name>``, resumed by a rerun like any build), and is
replaced only when the new one is complete. Images are streamed one at a
time, so memory does not grow with the sample. The same seed gives the same bytes.

A cutout with no usable data (mostly NaN or zero, outside the footprint), a truncated cached
FITS, or a missing band is skipped and listed in ``rejects.ecsv``; the run goes on. An
unreachable service stops the run with one line and exit status 2.
"""
import dataclasses
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Table, vstack
from astropy.wcs import WCS
from tqdm import tqdm

from data_prep.deepcee_data.box_preview import preview_png
from data_prep.deepcee_data.colour_image import colour_image
from data_prep.deepcee_data import stretch
from data_prep.deepcee_data.cluster_boxes import BOX_KPC, bcg_boxes, clusters_in_image
from data_prep.deepcee_data.cutout_cache import CutoutCache, CutoutRejected
from data_prep.base.columns import floats
from data_prep.base.errors import InputError
from data_prep.base.files import (atomic_path, output_folder, remove_stale_temporaries,
                                  replace_dir, sha256_file, write_bytes, write_json, write_table,
                                  write_text)
from data_prep.deepcee_data.offsets import COPIES, MAX_OFFSET_ARCSEC, bcg_offset, cutout_centre
from data_prep.deepcee_data.png_encoding import encode_rgb_png
from data_prep.deepcee_data.regrid import resized_wcs
from data_prep.deepcee_data.sample_split import TEST_FRACTION, choose_clusters, split_by_cluster
from data_prep.sim.looks import load_look
from data_prep.surveys import sdss

SPLITS = ("train", "test", "redmapper")
SPLIT_NUMBER = {"train": 1, "test": 2, "redmapper": 3}
CLASS_ID, CLASS_NAME = 1, "galaxy_cluster"
CLUSTER_COLUMNS = ("name", "ra", "dec", "z", "bcg_rmag", "richness", "n200")
CLUSTER_UNITS = {"ra": u.deg, "dec": u.deg, "bcg_rmag": u.mag}
LABEL_MAP = Path(__file__).resolve().parents[2] / "pipeline_configs" / "label_map.pbtxt"
PREVIEW_IMAGES = {"train": 3, "test": 2, "redmapper": 1}
PROGRESS = ".progress.json"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything that decides the bytes of the data set (recorded in the manifest); the
    defaults are the paper's (§2.2) and ``deepcee tfrecords``'s."""

    source: str = "sim"
    seed: int = 0
    n: int | None = None
    cutout_px: int = sdss.CUTOUT_PX
    image_px: int = 1000
    scale_arcsec: float = sdss.PIXEL_SCALE_ARCSEC
    copies: int = COPIES
    max_offset_arcsec: float = MAX_OFFSET_ARCSEC
    test_fraction: float = TEST_FRACTION
    box_kpc: float = BOX_KPC
    lower_sigma: float = stretch.LOWER_SIGMA
    upper_percentile: float = stretch.UPPER_PERCENTILE
    max_blank_fraction: float = 0.5
    shard_size: int = 100
    look: str | None = None

    def image_settings(self):
        """The settings that change a record's bytes (not which clusters are chosen); a look
        by its ranges, so that an edited look file makes new shards."""
        keys = ("source", "cutout_px", "image_px", "scale_arcsec", "box_kpc", "lower_sigma",
                "upper_percentile", "max_blank_fraction")
        settings = {key: getattr(self, key) for key in keys}
        if self.look is not None:
            settings["look"] = load_look(self.look).as_dict()
        return settings

    def stretch_limits(self, split, index):
        """``(lower_sigma, upper_percentile)`` of one image: the settings', or drawn from the
        look's ranges (seeded by the seed, split and image index)."""
        if self.look is None:
            return self.lower_sigma, self.upper_percentile
        look = load_look(self.look).draw(
            np.random.default_rng([self.seed, 7, SPLIT_NUMBER[split], index]))
        return look["stretch_lower_sigma"], look["stretch_upper_percentile"]


@dataclasses.dataclass(frozen=True)
class ImageTask:
    """One image to make: a cluster (row of its split's table), an offset copy, a centre."""

    row: int
    name: str
    copy: int
    dx_arcsec: float
    dy_arcsec: float
    centre_ra: float
    centre_dec: float


def open_source(name, cache_dir, seed, look=None):
    """The cluster source (``data_prep.deepcee_data.cluster_sources.cluster_source``)."""
    from data_prep.deepcee_data.cluster_sources import cluster_source
    return cluster_source(name, cache_dir, seed, look=look)


def standard_clusters(table):
    """The standard cluster columns as plain arrays (masked values -> NaN), in table order."""
    out = Table()
    out["name"] = [str(v) for v in table["name"]]
    for column in CLUSTER_COLUMNS[1:]:
        values = table[column] if column in table.colnames else np.full(len(table), np.nan)
        out[column] = floats(values)
        out[column].unit = CLUSTER_UNITS.get(column)
    return out


def plan_split(table, copies, settings):
    """The images of one split: ``copies`` offset copies of each cluster, in table order."""
    tasks = []
    for row, cluster in enumerate(table):
        for copy in range(copies):
            dx, dy = bcg_offset(cluster["name"], copy, settings.seed,
                                settings.max_offset_arcsec)
            ra, dec = cutout_centre(float(cluster["ra"]), float(cluster["dec"]), dx, dy)
            tasks.append(ImageTask(row, str(cluster["name"]), copy, dx, dy, ra, dec))
    return tasks


def shard_names(split, n_tasks, shard_size):
    """File names of a split's shards (none for an empty split)."""
    n_shards = math.ceil(n_tasks / shard_size)
    return [f"{split}-{k:05d}-of-{n_shards:05d}.tfrecord" for k in range(n_shards)]


def table_digest(table):
    """SHA-256 of a cluster table's values (what its labels depend on)."""
    rows = [[str(v) if isinstance(v, str) else repr(float(v)) for v in row] for row in table]
    return hashlib.sha256(json.dumps([table.colnames, rows]).encode()).hexdigest()


def shard_fingerprint(settings, split, table_sha, tasks):
    """SHA-256 of everything that decides a shard's bytes."""
    content = {"settings": settings.image_settings(), "split": split, "clusters": table_sha,
               "tasks": [dataclasses.astuple(task) for task in tasks]}
    return hashlib.sha256(json.dumps(content, default=repr).encode()).hexdigest()


def check_band(image, max_blank_fraction):
    """Refuse a band with more than ``max_blank_fraction`` of its pixels NaN or exactly zero
    (outside the survey footprint): :class:`CutoutRejected`."""
    n_blank = image.size - int(np.count_nonzero(image)) + int(np.count_nonzero(np.isnan(image)))
    if n_blank > max_blank_fraction * image.size:  # zeros + NaN (NaN != 0)
        raise CutoutRejected(f"{n_blank / image.size:.0%} of pixels NaN or zero "
                             "(outside the survey footprint)")


def wcs_header_text(wcs, size_px):
    """FITS header text (80-character cards, ``WCS(text)`` reads it) of the encoded image."""
    header = wcs.to_header()
    header.insert(0, ("NAXIS", 2))
    header.insert(1, ("NAXIS1", size_px))
    header.insert(2, ("NAXIS2", size_px))
    return header.tostring()


def make_record(task, split, index, clusters, cache, settings):
    """One serialized ``tf.train.Example`` for an image task.

    Raises
    ------
    CutoutRejected
        The cutout is unusable (missing band, truncated file, no data, flat band).
    """
    from data_prep.deepcee_data.tfrecord_schema import encode_example
    bands = cache.load(task.name, task.copy, task.centre_ra, task.centre_dec,
                       settings.cutout_px, settings.scale_arcsec)
    for band, (data, _) in bands.items():
        if data.shape != (settings.cutout_px, settings.cutout_px):
            raise CutoutRejected(f"band {band} is {data.shape[1]} x {data.shape[0]} px, "
                                 f"expected {settings.cutout_px} x {settings.cutout_px}")
        try:
            check_band(data, settings.max_blank_fraction)
        except CutoutRejected as error:
            raise CutoutRejected(f"band {band}: {error}") from None
    try:
        rgb, _ = colour_image({band: data for band, (data, _) in bands.items()},
                              settings.image_px, *settings.stretch_limits(split, index))
    except ValueError as error:
        raise CutoutRejected(f"stretch failed: {error}") from None
    try:
        wcs = WCS(bands["r"][1]).celestial
    except (ValueError, KeyError, MemoryError) as error:
        raise CutoutRejected(f"r band: unreadable WCS ({error})") from None
    if not wcs.has_celestial:
        raise CutoutRejected("r band: no celestial WCS in the header")
    wcs = resized_wcs(wcs, settings.cutout_px / settings.image_px)
    inside, x, y = clusters_in_image(wcs, settings.image_px, clusters["ra"], clusters["dec"])
    if not inside[task.row]:
        raise CutoutRejected(f"the BCG of {task.name} falls outside its cutout: the source's "
                             "WCS does not match the requested centre")
    labelled = clusters[inside]
    boxes, centers = bcg_boxes(x[inside], y[inside], labelled["z"], wcs, settings.image_px,
                               settings.box_kpc)
    png = encode_rgb_png(rgb)
    objects = {"ra": labelled["ra"], "dec": labelled["dec"], "redshift": labelled["z"],
               "bcg_rmag": labelled["bcg_rmag"], "richness": labelled["richness"],
               "n200": labelled["n200"], "center_x": centers[:, 0], "center_y": centers[:, 1],
               "name": list(labelled["name"])}
    return encode_example(
        png, settings.image_px, settings.image_px,
        filename=f"{split}/{task.name}_{task.copy}.png",
        source_id=str(SPLIT_NUMBER[split] * 1_000_000 + index),
        boxes=boxes, class_ids=[CLASS_ID] * len(labelled),
        class_texts=[CLASS_NAME] * len(labelled), objects=objects,
        wcs_header=wcs_header_text(wcs, settings.image_px))


def write_shard(path, job, cache, settings, bar):
    """Write one shard atomically; return (records written, list of reject rows)."""
    import tensorflow as tf
    records, rejects = 0, []
    with atomic_path(path) as tmp:
        with tf.io.TFRecordWriter(str(tmp)) as writer:
            for offset, task in enumerate(job.tasks):
                try:
                    writer.write(make_record(task, job.split, job.first_index + offset,
                                             job.clusters, cache, settings))
                    records += 1
                except CutoutRejected as error:
                    rejects.append({"split": job.split, "name": task.name, "copy": task.copy,
                                    "reason": str(error)})
                bar.update(1)
    return records, rejects


def shard_is_done(out, entry, job):
    """True if a shard's progress record matches the job's fingerprint and the file on disk
    (SHA-256)."""
    path = out / job.name
    return (entry.get("fingerprint") == job.fingerprint and path.exists()
            and sha256_file(path) == entry.get("sha256"))


def load_progress(out):
    """Shard records of earlier runs (empty if none or unreadable)."""
    try:
        return json.loads((out / PROGRESS).read_text())
    except (OSError, ValueError):
        return {}


def remove_leftovers(out, planned):
    """Delete temporary files of killed runs and shards that the current plan does not have."""
    remove_stale_temporaries(out)
    for split in SPLITS:
        for path in out.glob(f"{split}-*-of-*.tfrecord"):
            if path.name not in planned:
                path.unlink()


def clusters_table(splits, settings):
    """The sample with its split and each copy's offset (NaN for copies a split lacks)."""
    rows = []
    for split, (table, tasks, copies) in splits.items():
        if len(table) == 0:
            continue
        part = table.copy()
        part["split"] = split
        offsets = np.full((len(table), settings.copies, 2), np.nan)
        for task in tasks:
            offsets[task.row, task.copy] = task.dx_arcsec, task.dy_arcsec
        part["offset_east"] = offsets[:, :, 0] * u.arcsec
        part["offset_north"] = offsets[:, :, 1] * u.arcsec
        rows.append(part)
    result = vstack(rows) if rows else Table()
    result.meta["description"] = ("Deep-CEE sample: one row per cluster; offset_east/north: "
                                  "BCG offset from each copy's image centre (arcsec)")
    return result


def preview_images(out, shards, copies):
    """The first copy of the first clusters of each split, decoded for :func:`preview_png`."""
    import tensorflow as tf
    from data_prep.deepcee_data.tfrecord_schema import BOX_KEYS
    chosen = []
    for split, count in PREVIEW_IMAGES.items():
        files = [str(out / s["file"]) for s in shards if s["split"] == split and s["records"]]
        stride = copies if split != "redmapper" else 1
        for record in tf.data.TFRecordDataset(files).shard(stride, 0).take(count):
            feature = tf.train.Example.FromString(record.numpy()).features.feature
            values = {key: list(feature[key].float_list.value) for key in BOX_KEYS}
            chosen.append({
                "png": feature["image/encoded"].bytes_list.value[0],
                "boxes": np.stack([values[key] for key in BOX_KEYS], axis=-1),
                "centers": np.stack([feature["image/object/center/x"].float_list.value,
                                     feature["image/object/center/y"].float_list.value], -1),
                "title": feature["image/filename"].bytes_list.value[0].decode()})
    return chosen


def write_label_map(path):
    """Copy the project's label map (or write its one class if the file is absent)."""
    if LABEL_MAP.exists():
        write_bytes(path, LABEL_MAP.read_bytes())
    else:
        write_text(path, f"item {{\n  id: {CLASS_ID}\n  name: '{CLASS_NAME}'\n}}\n")


@dataclasses.dataclass(frozen=True)
class ShardJob:
    """One shard to make: its split, file name, images and the clusters they label."""

    split: str
    name: str
    first_index: int
    tasks: list
    clusters: Table
    fingerprint: str


def plan_shards(plans, settings):
    """Cut each split's images into shards of ``settings.shard_size``."""
    jobs = []
    for split, (table, tasks, _) in plans.items():
        digest = table_digest(table)
        for k, name in enumerate(shard_names(split, len(tasks), settings.shard_size)):
            first = k * settings.shard_size
            chunk = tasks[first:first + settings.shard_size]
            jobs.append(ShardJob(split, name, first, chunk, table,
                                 shard_fingerprint(settings, split, digest, chunk)))
    return jobs


def building_folder(target, settings):
    """Where the data set of ``settings`` is built: ``target`` itself, unless it holds a
    finished data set (``manifest.json``) of other settings; then ``.building-<name>`` beside
    it, which replaces it once complete (said on stdout, with the settings that differ)."""
    try:
        earlier = json.loads((target / "manifest.json").read_text())["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return target
    wanted = json.loads(json.dumps(dataclasses.asdict(settings), default=str))
    changed = [f"{key} {earlier.get(key)} -> {value}" for key, value in wanted.items()
               if earlier.get(key) != value]
    if not changed:
        return target
    staging = target.with_name(f".building-{target.name}")
    print(f"{target} holds a data set of other settings ({', '.join(changed)}); the new one is "
          f"built in {staging} and replaces it when complete")
    return staging


def build(settings, out, cache_dir):
    """Build the data set in ``out`` (resuming: finished shards are kept), with cutouts
    cached under ``cache_dir/<source>/cutouts``; print a summary. A finished data set of
    other settings in ``out`` stays whole until the new one is complete
    (:func:`building_folder`)."""
    started = time.perf_counter()
    target, cache_dir = Path(out), Path(cache_dir)
    output_folder(target, "--out")
    output_folder(cache_dir / settings.source / "cutouts", "--cache")
    out = building_folder(target, settings)
    source = open_source(settings.source, cache_dir, settings.seed,
                         look=settings.look and load_look(settings.look))
    paper_sample, cut_report = source.paper_sample()
    redmapper = standard_clusters(source.redmapper_sample(exclude=paper_sample))
    sample = choose_clusters(standard_clusters(paper_sample), settings.n, settings.seed)
    redmapper = choose_clusters(redmapper, settings.n, settings.seed)
    train, test = split_by_cluster(sample, settings.seed, settings.test_fraction)
    tables = {"train": (train, settings.copies), "test": (test, settings.copies),
              "redmapper": (redmapper, 1)}
    plans = {split: (table, plan_split(table, copies, settings), copies)
             for split, (table, copies) in tables.items()}
    jobs = plan_shards(plans, settings)

    cache = CutoutCache(cache_dir / settings.source / "cutouts", source)
    remove_stale_temporaries(cache.folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"--out {out}: cannot create the directory ({error.strerror}); "
                         "choose a writable one") from None
    remove_leftovers(out, {job.name for job in jobs})
    earlier = load_progress(out)
    progress = {job.name: earlier[job.name] for job in jobs
                if job.name in earlier and shard_is_done(out, earlier[job.name], job)}
    todo = [job for job in jobs if job.name not in progress]
    if todo:  # the manifest marks a complete data set (make's target): not while working
        (out / "manifest.json").unlink(missing_ok=True)
    reused = sum(len(job.tasks) for job in jobs if job.name in progress)
    with tqdm(total=sum(len(job.tasks) for job in jobs), initial=reused, unit="cutout",
              desc="tfrecords", file=sys.stderr, dynamic_ncols=True) as bar:
        for job in todo:
            try:
                records, rejects = write_shard(out / job.name, job, cache, settings, bar)
            except OSError as error:  # disk full, directory removed: finished shards stay
                raise InputError(f"writing {error.filename or out / job.name}: "
                                 f"{error.strerror or error}; free space or fix the "
                                 "directory, then rerun to resume") from None
            progress[job.name] = {"file": job.name, "split": job.split, "records": records,
                                  "planned": len(job.tasks),
                                  "sha256": sha256_file(out / job.name),
                                  "fingerprint": job.fingerprint, "rejects": rejects}
            write_json(out / PROGRESS, progress)
    write_json(out / PROGRESS, progress)
    shards = [progress[job.name] for job in jobs]
    finish_outputs(out, settings, plans, shards, cut_report)
    if out != target:
        replace_dir(target, out)
    print_summary(target, settings, plans, shards, reused, time.perf_counter() - started)


def finish_outputs(out, settings, plans, shards, cut_report):
    """Write clusters.ecsv, label_map.pbtxt, rejects.ecsv, preview.png and manifest.json."""
    write_table(out / "clusters.ecsv", clusters_table(plans, settings))
    write_label_map(out / "label_map.pbtxt")
    rejects = [row for shard in shards for row in shard["rejects"]]
    rejects_path = out / "rejects.ecsv"
    if rejects:
        write_table(rejects_path, Table(rows=[[r["split"], r["name"], r["copy"], r["reason"]]
                                              for r in rejects],
                                        names=("split", "name", "copy", "reason")))
    elif rejects_path.exists():
        rejects_path.unlink()
    write_bytes(out / "preview.png", preview_png(preview_images(out, shards, settings.copies)))
    counts = {}
    for split, (table, tasks, copies) in plans.items():
        mine = [s for s in shards if s["split"] == split]
        counts[split] = {"clusters": len(table), "copies": copies, "images_planned": len(tasks),
                         "records": sum(s["records"] for s in mine),
                         "rejected": sum(len(s["rejects"]) for s in mine), "shards": len(mine)}
    files = ["clusters.ecsv", "label_map.pbtxt", "preview.png"] + (
        ["rejects.ecsv"] if rejects else [])
    manifest = {
        "dataset": "Deep-CEE (Chan & Stott 2019, section 2.2)",
        "source": settings.source, "seed": settings.seed, "n": settings.n,
        "settings": dataclasses.asdict(settings),
        "image": {"cutout_px": settings.cutout_px, "image_px": settings.image_px,
                  "cutout_scale_arcsec": settings.scale_arcsec,
                  "image_scale_arcsec": settings.scale_arcsec * settings.cutout_px
                  / settings.image_px, "channels": "R, G, B = i, r, g", "format": "png"},
        "stretch": {"function": "sqrt(clip((flux - lower) / (upper - lower), 0, 1))",
                    "lower": f"sigma-clipped sky median + {settings.lower_sigma} x sky sigma",
                    "upper": f"{settings.upper_percentile} percentile of the band",
                    "per": "image and band, after resampling"},
        "boxes": {"centre": "BCG", "half_side_kpc": settings.box_kpc,
                  "cosmology": "FlatLambdaCDM H0=71 Om0=0.27",
                  "class": {"id": CLASS_ID, "name": CLASS_NAME}},
        "counts": counts,
        "totals": {"records": sum(c["records"] for c in counts.values()),
                   "rejected": sum(c["rejected"] for c in counts.values()),
                   "shards": len(shards)},
        "shards": [{key: s[key] for key in ("file", "split", "records", "planned", "sha256")}
                   for s in shards],
        "files": {name: sha256_file(out / name) for name in files},
        "wen_cut_report": cut_report,
    }
    write_text(out / "manifest.json",
               json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")


def print_summary(out, settings, plans, shards, reused, seconds):
    """A few lines saying what was made."""
    print(f"deepcee tfrecords: source={settings.source} seed={settings.seed} -> {out}")
    for split, (table, tasks, _) in plans.items():
        mine = [s for s in shards if s["split"] == split]
        rejected = sum(len(s["rejects"]) for s in mine)
        print(f"  {split:9s} {len(table):4d} clusters  {sum(s['records'] for s in mine):5d} "
              f"records in {len(mine)} shard(s)  {rejected} rejected")
    made = sum(s["planned"] for s in shards) - reused
    print(f"  {made} images made, {reused} reused from finished shards, "
          f"{seconds:.1f} s" + ("; skipped cutouts listed in rejects.ecsv"
                                if (out / "rejects.ecsv").exists() else ""))
