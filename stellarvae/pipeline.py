"""One field end to end: patches -> DeepVAE -> GMM -> heat map -> measurements -> files.

:func:`process_field` runs on a :class:`FieldData`; :func:`process_named_field` loads a named
field's data first (``stellarvae train`` and ``table``) and :func:`process_image_file` reads a
user's FITS image and star table (``stellarvae detect``). The steps follow the
paper: §IV patches of 8, 16, 32 and 64 px, one DeepVAE each (§III), a two-component GMM on the
latent features of each size (§III-E), the heat map of the four sizes and its 0.7 x max region
(§IV), centre, radius, members and IoU (§V). The catalogue baselines
(:mod:`stellarvae.baselines`) are measured on the same field and written beside the VAE.

Two steps go beyond the paper, both named options that are off (0) by default, so the
defaults are the paper's method: ``background_px`` (subtract a running median before scaling,
:mod:`data_prep.stellarvae_data.patches`) and ``heat_smoothing_px`` (Gaussian smoothing of the summed heat map,
:mod:`stellarvae.heat_map`). At the 2MASS scale of 1 arcsec / px the paper's 0.7 x max region
covers only a cluster's core, and patchy nebulosity can outvote its stars; with
``background_px=9`` and ``heat_smoothing_px=64`` (``IMPROVED``) the region follows the whole
cluster (README: results of both on the simulator).

Further named options beyond the paper, each off by default, are gathered with those two in
the preset ``robust`` (:data:`PRESETS`; ``--preset robust``; README "Presets" says why each was
chosen, measured on the selection function, ``stellarvae injection-recovery``): the image
block-averaged to ``work_scale_arcsec`` so that patch sizes and widths are angles on the sky (one
setting for 2MASS and UKIDSS), the background and smoothing widths in arcsec, a lower clip of
the scaled image (``clip_percentile``: patches then count stars instead of weighing a few
bright ones), the centre and half-number radius from a Plummer fit to the catalogue's stars
around the heat map's centre, seen through the catalogue's blending (``blend_arcsec``,
measured from the catalogue by default) and weighing each star's magnitude by the cluster's and
the field's luminosity functions (``luminosity_bins``), or the heat map's region where only
that is a significant over-density (``radius_from="stars-or-region"``,
:mod:`stellarvae.star_profile`), a shorter training with eq. 6's N(0, I) prior, and
``min_significance``: a field whose detection is not significant
(:mod:`stellarvae.significance`) reports "no significant cluster" instead of a region.
``region_sigma`` (a region threshold above the heat map's background) is an option that was
measured and not chosen. The significance of every detection is reported with
every preset (``status`` column).

Evaluation circles: the reference circle is the Tej et al. (2006) radius centred on the IRAS
position (Table I fields only); the truth circle (simulated fields) is the truth row nearest the
image centre. IoU and centre offset are reported against each circle that exists.
"""
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from data_prep.base.celestial import pixel_scale_arcsec
from data_prep.base.errors import InputError
from data_prep.base.files import atomic_dir, atomic_path
from data_prep.stellarvae_data.patches import (PATCH_SIZES, extract_patches, resample_to_scale,
                                               scale_to_unit, subtract_diffuse_background)
from stellarvae import (baselines, heat_map, latent_gmm, measure, outputs, plots, significance,
                        star_profile)
from stellarvae.fields import safe_name
from stellarvae.training import TrainingOptions, encode_patches, train_vae

MIN_IMAGE_PX = 64
MIN_PATCHES = 4
RESULT_FILE = "detection.json"


@dataclass(frozen=True)
class PipelineOptions:
    """Everything that changes a field's result besides the data and the seed.

    Attributes
    ----------
    training : TrainingOptions
    patch_sizes : tuple of int
        Patch sides in pixels (paper: 8, 16, 32, 64).
    threshold_fraction : float
        Region threshold as a fraction of the heat map's maximum (paper: 0.7).
    background_px : int
        Running-median window subtracted before scaling; 0 = none (paper).
    heat_smoothing_px : float
        Gaussian sigma of the summed heat map in pixels; 0 = none (paper).
    baselines : tuple of str
        Catalogue baselines measured beside the VAE.
    work_scale_arcsec : float
        Block-average the image to about this many arcsec per pixel first (patch sizes and
        pixel widths then mean the same angle in every survey); 0 = native pixels (paper).
    background_arcsec, heat_smoothing_arcsec : float
        ``background_px`` and ``heat_smoothing_px`` given in arcsec (converted at the working
        pixel scale); 0 = not given. Use one or the other form of each.
    region_sigma : float
        > 0: the region threshold is the heat map's median + this many robust standard
        deviations (``heat_map.background_level``) instead of ``threshold_fraction`` x max.
    radius_from : {"region", "stars", "stars-or-region"}
        ``region``: radius of the circle of the region's area (paper). ``stars``: centre and
        half-number radius of a Plummer fit to the catalogue stars around the heat map's centre
        (:mod:`stellarvae.star_profile`); the region is kept when there is no catalogue or the
        fit fails. ``stars-or-region``: as ``stars``, but the region's circle is kept when it
        is a significant over-density (:func:`stellarvae.significance.is_significant`, at
        ``min_significance`` or 5 sigma) and the fitted circle is not.
    max_shift_arcsec : float
        How far the star fit may move the heat map's centre.
    blend_arcsec : float or None
        The catalogue's blending separation in the star fit (:mod:`stellarvae.star_profile`):
        None = measured from the catalogue's closest pairs
        (:func:`stellarvae.star_profile.blend_separation`), 0 = no blending, > 0 = given.
    luminosity_bins : int
        > 0: the star fit also weighs each star's K magnitude, fitting the cluster's and the
        field's luminosity functions in this many equal-count bins
        (:mod:`stellarvae.star_profile`); 0 = positions only.
    clip_percentile : float
        Percentile of the (background-subtracted) image scaled to 1 (paper: 99.5). Lower, every
        star above the faintest saturates, so a patch's brightness counts its stars instead of
        weighing their fluxes and a few bright field stars no longer outvote a cluster.
    min_significance : float
        > 0: a detection whose star over-density is below this many sigma is withheld and the
        field reports "no significant cluster"; 0 = every region is reported (paper).
    """

    training: TrainingOptions = field(default_factory=TrainingOptions)
    patch_sizes: tuple = PATCH_SIZES
    threshold_fraction: float = heat_map.THRESHOLD_FRACTION
    background_px: int = 0
    heat_smoothing_px: float = 0.0
    baselines: tuple = baselines.BASELINES
    work_scale_arcsec: float = 0.0
    background_arcsec: float = 0.0
    heat_smoothing_arcsec: float = 0.0
    region_sigma: float = 0.0
    radius_from: str = "region"
    max_shift_arcsec: float = 60.0
    blend_arcsec: float = None
    luminosity_bins: int = 0
    min_significance: float = 0.0
    clip_percentile: float = 99.5


#: The two beyond-the-paper steps, as tested on the simulator (README, "deviations").
IMPROVED = {"background_px": 9, "heat_smoothing_px": float(max(PATCH_SIZES))}

#: Named combinations of options. ``paper`` is the paper's method (the defaults); ``robust``
#: the improvements chosen on the development fields of the selection function (seeds 100+;
#: README, "Presets"): 2"/px working scale, 10" background window, clip at the 95th
#: percentile, 40" heat-map smoothing, radius and centre from the catalogue's star profile
#: (fitted through the catalogue's blending, measured from the catalogue, with the cluster's and
#: the field's luminosity functions in 8 bins; the heat map's region when only that is
#: significant),
#: "no significant cluster" below 5 sigma or a contrast of 0.5, and a training budget that
#: keeps a 10' 2MASS field under 10 s on two cores (N(0, I) prior as eq. 6, 5 epochs, 512
#: patches, no TensorBoard logs).
PRESETS = {
    "paper": {},
    "robust": {"work_scale_arcsec": 2.0, "background_arcsec": 10.0, "clip_percentile": 95.0,
               "heat_smoothing_arcsec": 40.0, "radius_from": "stars-or-region",
               "luminosity_bins": 8, "min_significance": significance.SIGNIFICANCE_THRESHOLD,
               "training": {"prior": "normal", "max_epochs": 5, "max_train_patches": 512,
                            "tensorboard": False}},
}
RADIUS_SOURCES = ("region", "stars", "stars-or-region")


def options_from_dict(settings):
    """The :class:`PipelineOptions` whose ``dataclasses.asdict`` is ``settings`` (e.g. read
    back from JSON, where tuples became lists)."""
    settings = {key: tuple(value) if isinstance(value, list) else value
                for key, value in settings.items()}
    return PipelineOptions(**{**settings, "training": TrainingOptions(**settings["training"])})


def preset_options(name, **overrides):
    """:class:`PipelineOptions` of the preset ``name`` with ``overrides`` (option: value;
    ``training`` a dict of :class:`TrainingOptions` fields) applied on top."""
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}: use one of {', '.join(PRESETS)}")
    settings = {**PRESETS[name], **overrides}
    training = {**PRESETS[name].get("training", {}), **overrides.get("training", {})}
    settings["training"] = replace(TrainingOptions(), **training)
    return PipelineOptions(**settings)


@dataclass
class FieldData:
    """The inputs of one field.

    Attributes
    ----------
    name : str
        Path-safe name (output directory).
    label : str
        Name for titles.
    image : ndarray, 2-D
        K-band image (any flux unit; NaN = blank).
    wcs : astropy.wcs.WCS
        Celestial WCS of ``image``.
    stars : Table or None
        Catalogue stars (``ra``, ``dec`` deg, ``kmag``); None when there is no catalogue
        (then no members, IoU or baselines).
    truth : Table or None
        Simulated clusters (``ra``, ``dec``, ``radius_arcsec``, ``n_members``).
    reference : stellarvae.fields.Field or None
        Table I field with the reference radius and members.
    catalogue : str or None
        Where ``stars`` came from (a file), for messages.
    """

    name: str
    label: str
    image: np.ndarray
    wcs: object
    stars: object
    truth: object = None
    reference: object = None
    catalogue: str = None


def check_field_data(data, where):
    """Raise :class:`InputError` for inputs the method cannot use; return ``data`` with only
    the catalogue stars that fall on the image.

    ``where`` names the input (a file or field) in the message.
    """
    image = np.asarray(data.image)
    if image.ndim != 2:
        raise InputError(f"{where}: the image must be 2-D, not {image.ndim}-D")
    if data.wcs is None or not data.wcs.has_celestial:
        raise InputError(f"{where}: the image has no celestial WCS (RA/Dec); "
                         "give a FITS image with a sky WCS")
    if min(image.shape) < MIN_IMAGE_PX:
        raise InputError(f"{where}: the image is {image.shape[1]}x{image.shape[0]} px; "
                         f"StellarVAE needs at least {MIN_IMAGE_PX}x{MIN_IMAGE_PX} px "
                         "(its largest patch)")
    if not np.isfinite(image).any():
        raise InputError(f"{where}: every pixel of the image is blank (NaN); "
                         "check the file or choose another field")
    if data.stars is None:
        return data
    catalogue = data.catalogue or where
    if len(data.stars) == 0:
        raise InputError(f"{catalogue}: the star catalogue is empty; members and IoU need "
                         "catalogue stars (give another catalogue or field)")
    stars = stars_on_image(data.stars, data.wcs, image.shape)
    if len(stars) == 0:
        raise InputError(f"{catalogue}: none of its {len(data.stars)} stars falls on {where}; "
                         "give the catalogue of this image's field")
    return replace(data, stars=stars)


def stars_on_image(stars, wcs, shape):
    """The catalogue stars whose pixel positions are finite and fall on an image of ``shape``
    (stars on the far side of the sky have no pixel position in a TAN projection)."""
    x, y = baselines.star_pixels(stars, wcs)
    inside = (np.isfinite(x) & np.isfinite(y) & (x > -0.5) & (x < shape[1] - 0.5)
              & (y > -0.5) & (y < shape[0] - 0.5))
    return stars[inside]


def check_output_owner(run_dir, image_path, force):
    """Refuse to write ``run_dir`` over the result of another image file of the same name.

    The result records the image's resolved path; a folder whose ``detection.json`` names
    another file (or none) is kept unless ``force``.
    """
    result = Path(run_dir) / RESULT_FILE
    if force or not result.exists():
        return
    try:
        owner = json.loads(result.read_text()).get("image_path")
    except (json.JSONDecodeError, AttributeError):
        owner = None
    if owner != str(Path(image_path).resolve()):
        raise InputError(f"{run_dir}: holds the result of {owner or 'another image'}, not "
                         f"{image_path}; give another --out, rename the image, or add --force "
                         "to replace it")


def fingerprint(data, options, seed):
    """SHA-256 of the image, the catalogue, the options and the seed."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(data.image, dtype=np.float32).tobytes())
    digest.update(data.wcs.celestial.to_header_string().encode())
    for column in ("ra", "dec"):
        digest.update(np.asarray(data.stars[column], np.float64).tobytes())
    digest.update(json.dumps({"options": asdict(options), "seed": int(seed)},
                             sort_keys=True, default=str).encode())
    return digest.hexdigest()


def is_finished(out_dir, digest):
    """True when ``out_dir`` holds a detection made from the same inputs."""
    path = Path(out_dir) / RESULT_FILE
    if not path.exists():
        return False
    try:
        return json.loads(path.read_text()).get("fingerprint") == digest
    except json.JSONDecodeError:
        return False


def vae_votes(scaled, blank, size, options, seed, run_dir):
    """Train one DeepVAE on the patches of ``size``, cluster its latent space, vote.

    Models and TensorBoard logs go to ``run_dir`` (none are kept when it is None).

    Returns
    -------
    dict
        ``votes`` (pixel vote fractions), ``latent`` (z_mu, z_sigma, is_cluster, rows, cols),
        ``info`` (counts, epochs, NELBO, GMM attempts) for the summary.
    """
    patches = extract_patches(scaled, size, blank=blank)
    if len(patches) < MIN_PATCHES:
        # Too few patches of this size for a two-component GMM: this size does not vote.
        empty = np.zeros(0, dtype=np.float32).reshape(0, options.training.latent_dim)
        return {"votes": np.zeros(scaled.shape, np.float32),
                "latent": {"z_mu": empty, "z_sigma": empty, "is_cluster": np.zeros(0, bool),
                           "rows": patches.rows, "cols": patches.cols},
                "info": {"patches": len(patches), "skipped": f"fewer than {MIN_PATCHES} "
                                                            "usable patches"}}
    x = patches.flat()
    start = time.perf_counter()
    model, history = train_vae(x, options.training, seed=seed + size,
                               log_dir=None if run_dir is None or not options.training.tensorboard
                               else run_dir / "tensorboard" / f"patch{size}")
    if run_dir is not None:
        with atomic_path(run_dir / "models" / f"vae_patch{size}.weights.h5") as tmp:
            model.save_weights(str(tmp))
    z_mu, z_sigma = encode_patches(model, x)
    features = latent_gmm.latent_features(z_mu, z_sigma)
    mixture = latent_gmm.fit_latent_gmm(features, seed=seed)
    labels = mixture.labels(features)
    cluster = latent_gmm.cluster_component(labels, x.mean(axis=1))
    is_cluster = labels == cluster
    if run_dir is not None:
        with atomic_path(run_dir / "models" / f"gmm_patch{size}.npz") as tmp:
            np.savez(tmp, weights=mixture.gmm.weights_, means=mixture.gmm.means_,
                     covariances=mixture.gmm.covariances_, cluster_component=cluster)
    votes = heat_map.vote_map(scaled.shape, patches.rows, patches.cols, size, is_cluster)
    info = {"patches": len(patches), "training_patches": min(len(patches),
                                                             options.training.max_train_patches),
            "epochs": len(history["nelbo"]), "final_nelbo": history["nelbo"][-1],
            "final_reconstruction": history["reconstruction"][-1],
            "final_kl": history["kl"][-1], "nelbo_per_epoch": history["nelbo"],
            "gmm_attempts": mixture.attempts,
            "gmm_accepted": mixture.accepted, "cluster_patches": int(is_cluster.sum()),
            "seconds": time.perf_counter() - start}
    latent = {"z_mu": z_mu, "z_sigma": z_sigma, "is_cluster": is_cluster,
              "rows": patches.rows, "cols": patches.cols}
    return {"votes": votes, "latent": latent, "info": info}


def truth_circle(truth, wcs, shape):
    """(centre, radius arcsec, members) of the truth row nearest the image centre, or None."""
    if truth is None or len(truth) == 0:
        return None
    centre = wcs.celestial.pixel_to_world((shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0)
    coords = SkyCoord(np.asarray(truth["ra"], float) * u.deg,
                      np.asarray(truth["dec"], float) * u.deg)
    row = truth[int(np.argmin(coords.separation(centre).arcsec))]
    return (SkyCoord(float(row["ra"]) * u.deg, float(row["dec"]) * u.deg),
            float(row["radius_arcsec"]), int(row["n_members"]))


def score(detection, data, reference, truth):
    """One detection-table row: the detection and its comparison with reference and truth."""
    nan = float("nan")
    row = {"field": data.name, "method": detection.method, "ra": detection.ra_deg,
           "dec": detection.dec_deg, "radius_arcsec": detection.radius_arcsec,
           "area_arcsec2": detection.area_arcsec2, "members": detection.members,
           "x_pix": detection.x_pix, "y_pix": detection.y_pix}
    found = np.isfinite(detection.ra_deg)
    for prefix, circle in (("reference", reference), ("truth", truth)):
        short = "ref" if prefix == "reference" else "truth"
        if circle is None:
            row.update({f"iou_{prefix}": nan, f"offset_{prefix}_arcsec": nan, f"{short}_ra": nan,
                        f"{short}_dec": nan, f"{short}_radius_arcsec": nan,
                        f"{short}_members": nan})
            continue
        centre, radius, members = circle
        row[f"iou_{prefix}"] = (measure.iou_over_stars(data.stars, detection.centre(),
                                                       detection.radius_arcsec, centre, radius)
                                if found else 0.0)
        row[f"offset_{prefix}_arcsec"] = (float(detection.centre().separation(centre).arcsec)
                                          if found else nan)
        row.update({f"{short}_ra": float(centre.ra.deg), f"{short}_dec": float(centre.dec.deg),
                    f"{short}_radius_arcsec": radius, f"{short}_members": float(members)})
    paper = data.reference
    row["paper_radius_arcsec"] = paper.paper_radius_arcsec if paper else nan
    row["paper_members"] = float(paper.paper_members) if paper else nan
    row["paper_iou_percent"] = paper.paper_iou_percent if paper else nan
    return row


def working_image(image, wcs, options):
    """The image (float32) and WCS the VAE sees: block-averaged to ``work_scale_arcsec`` when
    set, else the input itself; and the background and smoothing widths in its pixels."""
    work, work_wcs = image, wcs
    if options.work_scale_arcsec > 0:
        work, work_wcs, _ = resample_to_scale(image, wcs, options.work_scale_arcsec)
    scale = pixel_scale_arcsec(work_wcs)
    background_px = options.background_px
    if options.background_arcsec > 0:
        background_px = max(3, int(round(options.background_arcsec / scale)) | 1)
    smoothing_px = options.heat_smoothing_px
    if options.heat_smoothing_arcsec > 0:
        smoothing_px = options.heat_smoothing_arcsec / scale
    return work, work_wcs, background_px, smoothing_px


@dataclass
class FieldAnalysis:
    """Everything :func:`analyse_field` computed for one field (nothing written yet).

    Attributes
    ----------
    heat, region : ndarray
        Summed heat map and VAE region, on the working grid (``work_wcs``).
    vote_maps : dict
        Patch size -> vote fractions.
    per_size : dict
        Patch size -> :func:`vae_votes` result.
    detections : list of stellarvae.measure.Detection
        VAE first, then the baselines; a withheld detection has a NaN centre.
    rows : list of dict
        Detection-table rows (:func:`score` plus the significance columns).
    circles : list
        (label, style, centre, radius) drawn and written as ds9 regions.
    candidates : list of dict
        Every method's detection before withholding, with its significance.
    work_wcs : astropy.wcs.WCS
    extra : dict
        Facts for the summary (radius source, Plummer fit, working scale, widths).
    """

    heat: np.ndarray
    region: np.ndarray
    vote_maps: dict
    per_size: dict
    detections: list
    rows: list
    circles: list
    candidates: list
    work_wcs: object
    extra: dict


def _native_pixels(wcs_from, wcs_to, x, y):
    """Pixel (x, y) of ``wcs_from`` in the pixels of ``wcs_to``."""
    if wcs_from is wcs_to:
        return float(x), float(y)
    world = wcs_from.celestial.pixel_to_world(x, y)
    x_to, y_to = wcs_to.celestial.world_to_pixel(world)
    return float(x_to), float(y_to)


def _vae_detection(heat, region, work_wcs, data, star_x, star_y, star_k, footprint, options):
    """The VAE's detection (centre and radius on the input image's WCS) and facts about it
    (``star_x, star_y``: the catalogue's pixel positions, ``star_k`` its K magnitudes).

    With ``radius_from="stars"`` the Plummer fit, seen through the catalogue's blending
    (``options.blend_arcsec``, measured from the catalogue when None; ``extra["blend_arcsec"]``
    says which) and with ``options.luminosity_bins`` luminosity functions, starts from the
    region's centre (:mod:`stellarvae.star_profile`); when it succeeds, its centre and
    half-number radius are the detection's. With ``"stars-or-region"`` the region's own circle
    is the detection's instead when it passes the significance test and the fitted circle does
    not (the fit can settle on a smaller fluctuation beside a diffuse cluster the heat map
    outlines).
    """
    detection = measure.measure_region(heat, region, work_wcs, "vae")
    extra = {"radius_from": "region"}
    if not np.isfinite(detection.ra_deg):
        return detection, extra
    detection.x_pix, detection.y_pix = _native_pixels(work_wcs, data.wcs, detection.x_pix,
                                                      detection.y_pix)
    if options.radius_from == "region" or len(star_x) < 10:
        return detection, extra
    scale = pixel_scale_arcsec(data.wcs)
    blend_px = (star_profile.blend_separation(star_x, star_y) if options.blend_arcsec is None
                else options.blend_arcsec / scale)
    extra["blend_arcsec"] = blend_px * scale
    fit = star_profile.fit_plummer(star_x, star_y, footprint, detection.x_pix, detection.y_pix,
                                   options.max_shift_arcsec / scale, blend_px, star_k,
                                   options.luminosity_bins)
    extra["plummer_fit"] = None if fit is None else asdict(fit)
    if fit is None or not fit.ok:
        return detection, extra
    centre = data.wcs.celestial.pixel_to_world(fit.x, fit.y).icrs
    radius = fit.a_px * scale
    fitted = measure.Detection("vae", float(centre.ra.deg), float(centre.dec.deg), fit.x, fit.y,
                               float(radius), float(np.pi * radius ** 2), detection.n_pixels)
    if options.radius_from == "stars-or-region":
        threshold = options.min_significance or significance.SIGNIFICANCE_THRESHOLD
        passes = [significance.is_significant(significance.overdensity(
            star_x, star_y, footprint, d.x_pix, d.y_pix, d.radius_arcsec / scale), threshold)
            for d in (fitted, detection)]
        extra["star_fit_significant"], extra["region_significant"] = passes
        if passes == [False, True]:
            return detection, extra
    extra["radius_from"] = "stars"
    return fitted, extra


def _status(test, withheld, found, tested):
    """The ``status`` column: what a person should make of the row (``tested``: there is a
    catalogue)."""
    if not found:
        return "none"
    if withheld:
        return "no significant cluster"
    if not tested:
        return "untested"
    return "significant" if significance.is_significant(test) else "not significant"


def judge_detections(data, detections, footprint, star_x, star_y, min_significance=0.0,
                     heat_contrast=float("nan")):
    """Members, significance and detection-table rows of a field's detections.

    A detection whose significance is below ``min_significance`` (> 0) is withheld: it is
    replaced in ``detections`` by one with a NaN centre, and its row says "no significant
    cluster". ``heat_contrast`` goes into the first row (the VAE's).

    Returns
    -------
    reference, truth : tuple or None
        The circles the rows are scored against.
    rows : list of dict
    candidates : list of dict
        Each detection as found, with its significance.
    """
    reference = None
    if data.reference is not None and data.reference.has_reference:
        reference = (SkyCoord(data.reference.ra_deg * u.deg, data.reference.dec_deg * u.deg),
                     data.reference.ref_radius_arcsec, data.reference.ref_members)
    truth = truth_circle(data.truth, data.wcs, np.shape(data.image))
    scale = pixel_scale_arcsec(data.wcs)
    rows, candidates = [], []
    for index, detection in enumerate(detections):
        found = bool(np.isfinite(detection.ra_deg))
        test = significance.overdensity(star_x, star_y, footprint, detection.x_pix,
                                        detection.y_pix, detection.radius_arcsec / scale)
        if found:
            detection.members = measure.count_members(data.stars, detection)
        candidates.append({"method": detection.method, **asdict(detection), **test})
        withheld = bool(found and min_significance > 0 and len(star_x) > 0
                        and not significance.is_significant(test, min_significance))
        if withheld:
            detection = measure.Detection(detection.method, np.nan, np.nan, np.nan, np.nan,
                                          0.0, 0.0, 0)
            detections[index] = detection
        row = score(detection, data, reference, truth)
        row.update({"significance_sigma": test["significance_sigma"],
                    "p_value": test["p_value"], "n_in": test["n_in"],
                    "n_expected": test["n_expected"], "contrast": test["contrast"],
                    "heat_contrast_sigma": heat_contrast if index == 0 else float("nan"),
                    "status": _status(test, withheld, found, len(star_x) > 0)})
        rows.append(row)
    return reference, truth, rows, candidates


def baseline_rows(data, methods):
    """Detection-table rows (with significance) of the catalogue baselines alone."""
    image = np.asarray(data.image)
    footprint = measure.Footprint.of_image(image, data.wcs)
    star_x, star_y = baselines.star_pixels(data.stars, data.wcs)
    detections = [baselines.baseline_detection(method, data.stars, data.wcs, image.shape)[2]
                  for method in methods]
    return judge_detections(data, detections, footprint, star_x, star_y)[2]


def analyse_field(data, options=None, seed=0, run_dir=None, where=None):
    """Run StellarVAE and the baselines on one field; compute, write nothing but the models.

    Parameters
    ----------
    data : FieldData
        With ``stars`` (an empty table when there is no catalogue).
    options : PipelineOptions, optional
    seed : int
    run_dir : path, optional
        Where the models and TensorBoard logs go (none kept when None).
    where : str, optional
        How error messages name the input.

    Returns
    -------
    FieldAnalysis
    """
    options = options or PipelineOptions()
    image = np.asarray(data.image, dtype=np.float32)
    work, work_wcs, background_px, smoothing_px = working_image(image, data.wcs, options)
    prepared = (subtract_diffuse_background(work, background_px) if background_px else work)
    scaled, blank = scale_to_unit(prepared, high_percentile=options.clip_percentile)
    per_size = {size: vae_votes(scaled, blank, size, options, seed, run_dir)
                for size in options.patch_sizes}
    if not any("skipped" not in result["info"] for result in per_size.values()):
        raise InputError(f"{where or data.name}: fewer than {MIN_PATCHES} usable patches of "
                         "every size; give a larger or less blank image")
    vote_maps = {size: result["votes"] for size, result in per_size.items()}
    heat = heat_map.combined_heat_map(list(vote_maps.values()), smoothing_px)
    if options.region_sigma > 0:
        region = heat_map.peak_region(
            heat, level=heat_map.background_level(heat, options.region_sigma))
    else:
        region = heat_map.peak_region(heat, options.threshold_fraction)
    footprint = measure.Footprint.of_image(image, data.wcs)
    star_x, star_y = baselines.star_pixels(data.stars, data.wcs) if len(data.stars) else \
        (np.zeros(0), np.zeros(0))
    star_k = data.stars["kmag"]
    vae, extra = _vae_detection(heat, region, work_wcs, data, star_x, star_y, star_k,
                                footprint, options)
    detections = [vae]
    for method in options.baselines if len(data.stars) else ():
        detections.append(baselines.baseline_detection(method, data.stars, data.wcs,
                                                        image.shape)[2])
    reference, truth, rows, candidates = judge_detections(
        data, detections, footprint, star_x, star_y, options.min_significance,
        significance.heat_contrast_sigma(heat))
    if not np.isfinite(detections[0].ra_deg):
        region = np.zeros_like(region)
    circles = [(d.method, d.method, d.centre(), d.radius_arcsec) for d in detections
               if np.isfinite(d.ra_deg)]
    if reference is not None:
        circles.append(("Tej et al. 2006", "reference", reference[0], reference[1]))
    if truth is not None:
        circles.append(("truth", "truth", truth[0], truth[1]))
    extra.update({"working_pixel_scale_arcsec": pixel_scale_arcsec(work_wcs),
                  "background_px": int(background_px), "heat_smoothing_px": float(smoothing_px),
                  "has_truth": truth is not None})
    return FieldAnalysis(heat, region, vote_maps, per_size, detections, rows, circles,
                         candidates, work_wcs, extra)


def process_field(data, out_root, options=None, seed=0, where=None, force=False,
                  provenance=None):
    """Run StellarVAE and the baselines on one field and write every output.

    Parameters
    ----------
    data : FieldData
    out_root : path
        Results go to ``out_root / data.name``.
    options : PipelineOptions, optional
    seed : int
    where : str, optional
        How error messages name the input (default: the field name).
    force : bool
        Redo a field that is already finished with the same inputs.
    provenance : dict, optional
        Added to the summary (e.g. the image file's path).

    Returns
    -------
    dict
        The summary written to ``detection.json`` (``skipped`` True when reused).
    """
    options = options or PipelineOptions()
    data = check_field_data(data, where or data.name)
    if data.stars is None:
        data = replace(data, stars=Table({"ra": np.zeros(0), "dec": np.zeros(0),
                                          "kmag": np.zeros(0)}))
    run_dir = Path(out_root) / data.name
    digest = fingerprint(data, options, seed)
    if not force and is_finished(run_dir, digest):
        summary = json.loads((run_dir / RESULT_FILE).read_text())
        summary["skipped"] = True
        return summary
    # Built in a staging folder that replaces OUT/<name> whole once finished: a failure or a
    # kill leaves the earlier result as it was, and a rerun never appends to old event files.
    with atomic_dir(run_dir) as staging:
        (staging / "models").mkdir()
        summary = _write_field(staging, data, options, seed, where, digest)
        summary.update(provenance or {})
        outputs.write_summary_json(staging / RESULT_FILE, summary)
    return summary


def _write_field(run_dir, data, options, seed, where, digest):
    """Analyse one field and write its outputs but ``detection.json`` to ``run_dir``; return
    the summary."""
    start = time.perf_counter()
    image = np.asarray(data.image, dtype=np.float32)
    result = analyse_field(data, options, seed, run_dir, where)
    write_outputs(run_dir, data, image, result, options)
    summary = {"field": data.name, "label": data.label, "seed": int(seed),
               "fingerprint": digest, "options": asdict(options),
               "pixel_scale_arcsec": pixel_scale_arcsec(data.wcs),
               "image_shape": list(image.shape), "n_stars": len(data.stars),
               "has_truth": result.extra["has_truth"], "detections": result.rows,
               "per_patch_size": {str(s): r["info"] for s, r in result.per_size.items()},
               "seconds": time.perf_counter() - start, "skipped": False,
               "significance_threshold_sigma": significance.SIGNIFICANCE_THRESHOLD,
               "candidates": result.candidates,
               "vae": {key: value for key, value in result.extra.items() if key != "has_truth"}}
    outputs.write_detection_table(run_dir / "detection.ecsv", result.rows,
                                  {"field": data.name, "label": data.label, "seed": int(seed)})
    return summary


def write_outputs(run_dir, data, image, result, options):
    """Heat-map FITS, ds9 regions and the three figures of one field (``image``: the K-band
    image as float32; ``result``: its :class:`FieldAnalysis`)."""
    outputs.write_heat_map_fits(run_dir / "heat_map.fits", result.heat, result.region,
                                result.vote_maps, result.work_wcs)
    outputs.write_ds9_regions(run_dir / "detection.reg", result.circles)
    plots.plot_latent_space({size: r["latent"] for size, r in result.per_size.items()},
                            run_dir / "latent_space.png", data.label)
    plots.plot_heat_map(result.heat, result.region, result.work_wcs, run_dir / "heat_map.png",
                        data.label, options.threshold_fraction)
    plots.plot_detection(image, data.stars, result.circles, data.wcs,
                         run_dir / "detection.png", data.label)


def process_named_field(field, source, size_arcmin, cache_dir, out_root, options=None, seed=0,
                        force=False):
    """Load a field's K-band image and catalogue and run :func:`process_field` on them.

    Parameters
    ----------
    field : stellarvae.fields.Field
        Its reference values, when it has them, are compared with the detection.
    source : str
        ``"sim"``, ``"2mass"`` or ``"ukidss"`` (``data_prep.stellarvae_data.kband_fields``).
    size_arcmin : float
        Field side, arcmin.
    cache_dir : path
        Download and simulation cache.
    out_root, options, seed, force
        As for :func:`process_field`; ``seed`` also seeds the simulator.

    Returns
    -------
    dict
        The field's summary.
    """
    from data_prep.stellarvae_data.kband_fields import load_kband_field

    kband = load_kband_field(source, field.ra_deg, field.dec_deg, size_arcmin, cache_dir,
                             seed=seed)
    if len(kband.stars) == 0:
        raise InputError(f"field {field.label} ({source}): the catalogue has no stars "
                         "in the image; try a larger --size-arcmin or another source")
    data = FieldData(name=field.name, label=field.label, image=kband.image, wcs=kband.wcs,
                     stars=kband.stars, truth=kband.truth,
                     reference=field if field.has_reference else None)
    return process_field(data, out_root, options, seed=seed,
                         where=f"field {field.label} ({kband.image_path})", force=force)


def process_image_file(image_path, out_root, catalog_path=None, reference=None, options=None,
                       seed=0, force=False):
    """Run :func:`process_field` on a K-band FITS image (any HDU, celestial WCS).

    Parameters
    ----------
    image_path : path
        Results go to ``out_root / <image name without suffixes>``.
    catalog_path : path, optional
        Star table for members, IoU and the baselines (``read_star_catalog``).
    reference : stellarvae.fields.Field, optional
        A Table I field whose reference circle the detection is compared with.
    out_root, options, seed, force
        As for :func:`process_field`.

    Returns
    -------
    dict
        The summary; its ``field`` is the output folder's name.
    """
    from data_prep.stellarvae_data.kband_fields import read_kband_image, read_star_catalog

    image_path = Path(image_path)
    image, wcs = read_kband_image(image_path)
    stars = read_star_catalog(catalog_path) if catalog_path is not None else None
    name = safe_name(image_path.name.split(".")[0] or "image")
    check_output_owner(Path(out_root) / name, image_path, force)
    data = FieldData(name=name, label=image_path.name, image=image, wcs=wcs, stars=stars,
                     reference=reference, catalogue=catalog_path and str(catalog_path))
    return process_field(data, out_root, options, seed=seed, where=str(image_path), force=force,
                         provenance={"image_path": str(image_path.resolve())})
