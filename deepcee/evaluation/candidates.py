"""``deepcee candidates``: false positives above a threshold as new-cluster candidates, cross-
matched with Wen et al. (2012) and redMaPPer (Deep-CEE §3.2).

The paper follows up the FPs of the redMaPPer set at 70 % (8 candidates): it searches both
catalogues, restricted to 0.05 < z < 0.4, within ~1.61 arcmin of each predicted centre (250 kpc
at z = 0.15) and finds 3 of the 8 in Wen et al. Here, for each evaluated split:

1. the FP boxes with score > threshold are read from ``<eval>/<split>/detections.ecsv`` (no
   rerun of the model); FPs of one image whose centres lie within the search radius of a
   higher-scoring FP of the same image are one candidate (``n_boxes`` counts them; the paper's
   8 FPs were 8 candidates, so with one box each nothing changes);
2. each candidate is matched (``SkyCoord.match_to_catalog_sky``) to the nearest cluster of each
   catalogue with 0.05 < z < 0.4 and counts as known when it lies within the radius;
3. ``<out>/<split>/`` receives ``candidates.ecsv``, ``candidates.reg`` (ds9, fk5 circles of the
   search radius: red unknown, green known) and ``stamps/<id>.png`` (the record's image around
   the box, box drawn).

Catalogues: ``--source sim`` reads the simulator's raw Wen and redMaPPer tables
(``MockSky.wen_table()`` / ``.redmapper_table()``, the seed of the data set's manifest);
``--source sdss`` the whole VizieR tables (``data_prep.surveys.vizier``, cached in ``--cache``).
The command line is ``deepcee.cli.candidates``.
"""
import json
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord, search_around_sky
from astropy.table import Table

from data_prep.base import regions
from data_prep.base.columns import floats
from data_prep.base.errors import InputError
from data_prep.base.files import atomic_dir, write_json, write_table, write_text
from data_prep.deepcee_data.tfrecord_schema import check_shards
from data_prep.surveys import catalogues
from deepcee.evaluation import plots as eval_plots

SEARCH_RADIUS_ARCMIN = 1.61
"""§3.2: ~1.61 arcmin, 250 kpc at z = 0.15."""
Z_RANGE = (0.05, 0.4)
"""§3.2: the relaxed redshift range of the catalogue search."""
CATALOGUES = {
    # name -> (raw column spellings, name column, redshift column)
    "wen": (catalogues.WEN_COLUMNS, "WHL", "zph"),
    "redmapper": (catalogues.REDMAPPER_COLUMNS, "Name", "zlambda"),
}


def standard_reference(raw, catalogue, z_range=Z_RANGE):
    """A raw Wen or redMaPPer table -> ``name, ra, dec, z`` (deg) rows with zmin < z < zmax."""
    columns, name_column, z_column = CATALOGUES[catalogue]
    table = catalogues.raw_columns(raw, {k: columns[k] for k in
                                         (name_column, "RAJ2000", "DEJ2000", z_column)},
                                   catalogue)
    ra, dec = table["RAJ2000"], table["DEJ2000"]
    if ra.dtype.kind in "US":  # sexagesimal VizieR formatting
        coords = SkyCoord(ra, dec, unit=(u.hourangle, u.deg))
        ra, dec = coords.ra.deg, coords.dec.deg
    z = floats(table[z_column])
    out = Table({"name": [str(v) for v in table[name_column]],
                 "ra": np.asarray(ra, float), "dec": np.asarray(dec, float), "z": z})
    keep = (out["z"] > z_range[0]) & (out["z"] < z_range[1])
    return out[keep]


def reference_catalogues(source, cache_dir, seed, z_range=Z_RANGE):
    """``{"wen": Table, "redmapper": Table}`` of ``standard_reference`` rows for a source."""
    if source == "sim":
        from data_prep.sim.galaxy_clusters import MockSky
        sky = MockSky(seed=seed)
        raw = {"wen": sky.wen_table(), "redmapper": sky.redmapper_table()}
    elif source == "sdss":
        from data_prep.surveys import vizier
        raw = {"wen": vizier.wen_clusters(cache_dir), "redmapper": vizier.redmapper_clusters(
            cache_dir)}
    else:
        raise InputError(f"unknown --source {source!r}: use sim or sdss")
    return {name: standard_reference(table, name, z_range) for name, table in raw.items()}


def merge_image_fps(fps, radius_arcmin):
    """Keep, per image, the highest-scoring FP of each group within ``radius_arcmin``.

    In decreasing score, each FP not yet taken takes the untaken FPs of its image within
    ``radius_arcmin`` (arcmin) of it. ``fps`` has ``image, score, ra, dec`` (deg). Returns the
    takers (by image, then decreasing score) with ``n_boxes``: how many FPs each stands for.
    """
    rows = fps[np.lexsort((-np.asarray(fps["score"]), np.asarray(fps["image"])))]
    owner = np.full(len(rows), -1)
    if len(rows):
        coords = SkyCoord(rows["ra"], rows["dec"], unit="deg")
        first, second, separation, _ = search_around_sky(coords, coords,
                                                         radius_arcmin * u.arcmin)
        image = np.asarray(rows["image"])
        pair = (separation.arcmin <= radius_arcmin) & (image[first] == image[second])
        order = np.argsort(first[pair], kind="stable")
        first, second = first[pair][order], second[pair][order]
        neighbours = np.split(second, np.searchsorted(first, np.arange(1, len(rows))))
        for i, near in enumerate(neighbours):
            if owner[i] < 0:
                owner[i] = i
                owner[near[owner[near] < 0]] = i
    kept = np.flatnonzero(owner == np.arange(len(rows)))
    out = rows[kept]
    out["n_boxes"] = np.bincount(owner, minlength=len(rows))[kept]
    return out


def cross_match(candidates, references, radius_arcmin):
    """Add ``<cat>_name, <cat>_sep_arcmin, <cat>_z, <cat>_match`` per catalogue and ``known``."""
    coords = SkyCoord(candidates["ra"], candidates["dec"], unit="deg")
    known = np.zeros(len(candidates), bool)
    for name, reference in references.items():
        sep = np.full(len(candidates), np.nan)
        nearest_name = np.full(len(candidates), "", dtype=object)
        nearest_z = np.full(len(candidates), np.nan)
        if len(candidates) and len(reference):
            index, separation, _ = coords.match_to_catalog_sky(
                SkyCoord(reference["ra"], reference["dec"], unit="deg"))
            sep = separation.arcmin
            nearest_name = np.asarray(reference["name"])[index]
            nearest_z = np.asarray(reference["z"])[index]
        match = sep <= radius_arcmin
        candidates[f"{name}_name"] = np.where(match, nearest_name, "").astype(str)
        candidates[f"{name}_sep_arcmin"] = sep
        candidates[f"{name}_z"] = np.where(match, nearest_z, np.nan)
        candidates[f"{name}_match"] = match
        known |= match
    candidates["known"] = known
    return candidates


def region_text(candidates, radius_arcmin):
    """ds9 region file: fk5 circles of the search radius (arcmin), labelled with the candidate
    id and score; red unknown, green known."""
    centres = SkyCoord(candidates["ra"], candidates["dec"], unit="deg", frame="fk5")
    circles = [regions.sky_circle(centre, radius_arcmin * 60.0,
                                  f"{row['id']} {row['score']:.2f}",
                                  "green" if row["known"] else "red")
               for centre, row in zip(centres, candidates)]
    return regions.ds9_text(circles, [f"Deep-CEE candidates: red = no Wen et al. / redMaPPer "
                                      f"cluster within {radius_arcmin:g} arcmin, green = known"])


def write_stamps(candidates, record_paths, stamp_dir):
    """One PNG per candidate, cropped from its record's image (records read once, in order)."""
    from data_prep.deepcee_data.tfrecord_schema import read_examples

    wanted = {}
    for row in candidates:
        wanted.setdefault(int(row["image"]), []).append(row)
    if not wanted:
        return
    last = max(wanted)
    for index, example in enumerate(read_examples(record_paths)):
        for row in wanted.get(index, []):
            if example["source_id"].decode() != str(row["source_id"]):
                raise InputError(f"record {index} of {record_paths[0]} is not the evaluated "
                                 f"image {row['source_id']}: rerun `deepcee evaluate`")
            eval_plots.write_stamp(example["image"],
                                   [row["ymin"], row["xmin"], row["ymax"], row["xmax"]],
                                   stamp_dir / f"{row['id']}.png")
        if index >= last:
            break


def split_candidates(eval_dir, name, threshold, references, radius_arcmin):
    """The candidate table of one evaluated split (steps 1-2 of the module doc)."""
    detections = Table.read(eval_dir / "detections.ecsv")
    fp = (np.asarray(detections["cluster"]) < 0) & (np.asarray(detections["score"]) > threshold)
    keep = ("image", "source_id", "ymin", "xmin", "ymax", "xmax", "score", "ra", "dec",
            "nearest_kpc")
    candidates = merge_image_fps(detections[fp][keep], radius_arcmin)
    order = np.lexsort((np.asarray(candidates["image"]), -np.asarray(candidates["score"])))
    candidates = candidates[order]
    candidates.add_column([f"{name}-{k:04d}" for k in range(len(candidates))], name="id",
                          index=0)
    candidates["source_id"] = candidates["source_id"].astype(str)
    for column in ("ra", "dec"):
        candidates[column].unit = "deg"
    candidates.meta["threshold"] = threshold
    candidates.meta["search_radius_arcmin"] = radius_arcmin
    return cross_match(candidates, references, radius_arcmin)


def check_evaluated_split(eval_dir):
    """Check the saved evaluation of a split before anything is written: its
    ``detections.ecsv`` (a readable table with the columns used here) and ``summary.json``,
    and the TFRecords the stamps are cut from (``check_shards``). Returns those record paths.

    Raises
    ------
    InputError
        One line naming the damaged or missing file.
    """
    eval_dir = Path(eval_dir)
    needed = ("image", "source_id", "ymin", "xmin", "ymax", "xmax", "score", "ra", "dec",
              "nearest_kpc", "cluster")
    try:
        columns = Table.read(eval_dir / "detections.ecsv", format="ascii.ecsv").colnames
        records = json.loads((eval_dir / "summary.json").read_text())["records"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{eval_dir}: the saved evaluation is incomplete or damaged "
                         f"({type(error).__name__}: {str(error)[:120]}); run `deepcee evaluate`"
                         " again") from None
    missing = [column for column in needed if column not in columns]
    if missing:
        raise InputError(f"{eval_dir}/detections.ecsv lacks the columns {', '.join(missing)}; "
                         "run `deepcee evaluate` again")
    check_shards(records)
    return records


def data_seed(data_dir, source, seed):
    """The simulator seed: ``seed`` if given, else the data set manifest's, else 0."""
    manifest = Path(data_dir) / "manifest.json"
    if not manifest.is_file():
        return 0 if seed is None else seed
    try:
        content = json.loads(manifest.read_text())
        content.get("source")
    except (OSError, ValueError, AttributeError) as error:
        raise InputError(f"{manifest}: not a data set manifest ({type(error).__name__}); "
                         "rebuild the data set with `deepcee tfrecords` or pass --seed") from None
    if content.get("source") not in (None, source):
        raise InputError(f"{manifest} was built with --source {content['source']}, not "
                         f"{source}: pass --source {content['source']}")
    return int(content.get("seed", 0)) if seed is None else seed


def write_split_candidates(eval_dir, out_dir, name, threshold, references, radius_arcmin,
                           source, z_range):
    """Steps 1-3 of the module doc for split ``name``, evaluated in ``eval_dir``.

    Writes ``candidates.ecsv``, ``candidates.reg``, ``stamps/`` and ``summary.json`` (counts,
    with ``source`` and ``z_range`` recorded) into ``out_dir``, which is replaced whole once
    they are all written; returns the summary dict.
    """
    eval_dir = Path(eval_dir)
    candidates = split_candidates(eval_dir, name, threshold, references, radius_arcmin)
    records = json.loads((eval_dir / "summary.json").read_text())["records"]
    counts = {"split": name, "threshold": threshold, "source": source,
              "search_radius_arcmin": radius_arcmin, "z_range": list(z_range),
              "fp_boxes": int(np.sum(candidates["n_boxes"])),
              "candidates": len(candidates),
              "known_wen": int(np.sum(candidates["wen_match"])),
              "known_redmapper": int(np.sum(candidates["redmapper_match"])),
              "unknown": int(np.sum(~candidates["known"]))}
    with atomic_dir(out_dir) as staging:
        (staging / "stamps").mkdir()
        write_stamps(candidates, records, staging / "stamps")
        write_table(staging / "candidates.ecsv", candidates)
        write_text(staging / "candidates.reg", region_text(candidates, radius_arcmin))
        write_json(staging / "summary.json", counts)
    return counts
