"""K-band fields with an embedded star cluster, like the 2MASS and UKIDSS GPS fields of the
eight IRAS sources of StellarVAE (§II, Table I), and their raw catalogues and truth.

A field holds: field stars from a K-band luminosity function (dN/dK ~ 10^(0.32 K)) whose
surface density follows Galactic longitude and latitude, 70 % of them behind a patchy
extinction screen; an embedded cluster with a King (1962) or Plummer surface-density profile
whose members follow an observed KLF dN/dK ~ 10^(0.35 K) from K = 7.5 to K = 14.3 that
flattens to 10^(0.1 K) beyond (the turnover of young clusters' KLF), drawn to 1.5 mag below
the catalogue limit; nebular emission concentrated on the cluster; a few galaxies; a sky pedestal,
noise and saturation. Catalogue rows are the detected sources (completeness falls off at the
survey limit, close pairs blend into one) plus the artefacts, galaxies and saturated stars
that the survey readers must drop.

The truth table has one row per cluster (``ra, dec`` deg, ``radius_arcsec``: the King tidal
radius or Plummer truncation radius, ``n_members``: members brighter than the catalogue limit,
``core_radius_arcsec``, ``profile``, ``half_number_radius_arcsec``: the projected radius holding
half the members); a cluster-free field has zero rows.
"""
from dataclasses import dataclass

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table
from scipy.spatial import cKDTree

from data_prep.base.errors import InputError
from data_prep.sim.difficulty import StarClusterDifficulty
from data_prep.sim.fits_image import image_hdu, tan_wcs
from data_prep.sim.galaxies import galaxy_profile, power_law_mags
from data_prep.sim.kband_surveys import SURVEYS, twomass_psc, ukidss_gps
from data_prep.sim.nebulosity import lognormal_field, radial_envelope
from data_prep.sim.render import (StampBank, add_noise, odd_stamp_size, psf_profile,
                                  saturate)

FIELD_KLF_SLOPE = 0.32
CLUSTER_KLF = ((7.5, 0.35), (14.3, 0.10))  # (from K, slope of log10 dN/dK) segments
NEBULA_PEAK_MAG_ARCSEC2 = 18.5  # K surface brightness of the nebula's envelope peak
NEBULA_PATCHINESS = 0.7         # sigma of the lognormal nebula and extinction fields
PEAK_EXTINCTION_K = 0.8         # mean A_K (mag) at the envelope peak, nebulosity = 1
BRIGHTEST_STAR_K = 5.0
FAINTER_THAN_LIMIT = 1.5       # sources are drawn this far below the catalogue limit
BEHIND_SCREEN_FRACTION = 0.7
DEFAULT_RADIUS_RANGE_ARCSEC = (80.0, 130.0)
DEFAULT_MEMBERS_RANGE = (50, 130)
_STREAM = {"cluster": 0, "field": 1, "nebula": 2, "noise": 3, "catalogue": 4}


def field_star_density(galactic_l_deg, galactic_b_deg, k_faint):
    """Field stars per arcmin^2 brighter than ``k_faint`` at Galactic (l, b) (deg).

    About 3 per arcmin^2 to K = 14.3 towards the anticentre in the plane, rising to ~20
    towards the Galactic centre, falling with |b| (scale height 6 deg) to ~0.1 at high
    latitude: a rough fit to 2MASS star counts.
    """
    in_plane = np.exp(1.0 * (1.0 + np.cos(np.radians(galactic_l_deg))))
    return 3.0 * in_plane * (0.03 + np.exp(-abs(galactic_b_deg) / 6.0)) \
        * 10.0 ** (FIELD_KLF_SLOPE * (k_faint - 14.3))


def _cluster_klf_cumulative(bright, faint):
    """Magnitude grid on [bright, faint] and the cumulative member count of ``CLUSTER_KLF``
    (arbitrary normalisation)."""
    grid = np.linspace(bright, faint, 4096)
    (_, slope_bright), (knee, slope_faint) = CLUSTER_KLF
    log_density = np.where(grid < knee, slope_bright * (grid - knee), slope_faint * (grid - knee))
    density = 10.0 ** log_density
    return grid, np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1])
                                                  * np.diff(grid))])


def cluster_klf_mags(rng, n, bright, faint):
    """``n`` member K magnitudes in [bright, faint] from the broken power law ``CLUSTER_KLF``."""
    grid, cumulative = _cluster_klf_cumulative(bright, faint)
    return np.interp(rng.uniform(0.0, cumulative[-1], n), cumulative, grid)


def cluster_klf_count_ratio(bright, mid, faint):
    """Members with K in [mid, faint] over members with K in [bright, mid]."""
    grid, cumulative = _cluster_klf_cumulative(bright, faint)
    below = np.interp(mid, grid, cumulative)
    return (cumulative[-1] - below) / below


def profile_radii(rng, n, profile, radius, concentration):
    """``n`` projected radii (same unit as ``radius``) from a truncated cluster profile.

    King (1962): Sigma ~ [(1 + r^2/r_c^2)^-1/2 - (1 + r_t^2/r_c^2)^-1/2]^2 with
    r_t = ``radius`` and r_c = radius / concentration. Plummer: Sigma ~ (1 + r^2/a^2)^-2 with
    a = radius / concentration, cut at ``radius``.
    """
    r, cumulative = _profile_cumulative(profile, radius, concentration)
    return np.interp(rng.uniform(0.0, cumulative[-1], n), cumulative, r)


def _profile_cumulative(profile, radius, concentration):
    """Radius grid on [0, ``radius``] and the projected number within each radius (arbitrary
    normalisation) of the truncated profile of :func:`profile_radii`."""
    r = np.linspace(0.0, radius, 4096)
    scale = radius / concentration
    if profile == "king":
        sigma = (1.0 / np.sqrt(1.0 + (r / scale) ** 2)
                 - 1.0 / np.sqrt(1.0 + concentration ** 2)) ** 2
    else:
        sigma = (1.0 + (r / scale) ** 2) ** -2
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (sigma[1:] * r[1:] + sigma[:-1] * r[:-1])
                                                  * np.diff(r))])
    return r, cumulative


def half_number_radius(profile, radius, concentration):
    """Projected radius holding half the members of a truncated King or Plummer profile
    (:func:`profile_radii`), in the unit of ``radius``. It is proportional to ``radius``:
    ``radius_for_half_number(r_half) = r_half * radius / half_number_radius(radius)``."""
    r, cumulative = _profile_cumulative(profile, radius, concentration)
    return float(np.interp(0.5 * cumulative[-1], cumulative, r))


def radius_for_half_number(profile, r_half, concentration):
    """The truncation (Plummer) or tidal (King) radius that gives a half-number radius of
    ``r_half`` (same unit)."""
    return float(r_half / half_number_radius(profile, 1.0, concentration))


@dataclass
class KBandScene:
    """Everything in one simulated K-band field, before rendering.

    Attributes
    ----------
    survey : data_prep.sim.kband_surveys.KBandSurvey
    wcs : astropy.wcs.WCS
    size_px : int
    fwhm_arcsec : float
        PSF FWHM of this field (survey FWHM x seeing knob).
    x, y, kmag : numpy.ndarray
        Point sources: pixel position (0-based) and observed K (extinction included).
    member : numpy.ndarray of bool
        True for cluster members.
    galaxy_x, galaxy_y, galaxy_kmag, galaxy_hlr : numpy.ndarray
        Galaxies: position, K, half-light radius (arcsec).
    nebula : numpy.ndarray
        Nebular surface brightness (image units per pixel).
    truth : astropy.table.Table
    """

    survey: object
    wcs: object
    size_px: int
    fwhm_arcsec: float
    x: np.ndarray
    y: np.ndarray
    kmag: np.ndarray
    member: np.ndarray
    galaxy_x: np.ndarray
    galaxy_y: np.ndarray
    galaxy_kmag: np.ndarray
    galaxy_hlr: np.ndarray
    nebula: np.ndarray
    truth: Table


def _field_key(ra_deg, dec_deg, size_arcmin, survey):
    """Integers that identify a field in the random streams."""
    return (int(round((ra_deg % 360.0) * 1e6)), int(round((dec_deg + 90.0) * 1e6)),
            int(round(size_arcmin * 1e3)), list(SURVEYS).index(survey))


def _cluster(rng, survey, difficulty, size_px, centre_px):
    """Member positions (pixels), observed K, and the truth row values of the cluster."""
    scale = survey.scale_arcsec
    radius = (difficulty.radius_arcsec if difficulty.radius_arcsec is not None
              else rng.uniform(*DEFAULT_RADIUS_RANGE_ARCSEC))
    if difficulty.offset_arcsec is not None:
        east, north = difficulty.offset_arcsec
    else:
        east, north = rng.uniform(-0.1, 0.1, 2) * size_px * scale / 2.0
    x0, y0 = centre_px - east / scale, centre_px + north / scale
    limit = survey.catalogue_limit
    bright = CLUSTER_KLF[0][0]
    if difficulty.n_members is not None:
        n_above = difficulty.n_members
    else:  # drawn at 2MASS depth, then counted to this survey's limit
        n_2mass = rng.integers(DEFAULT_MEMBERS_RANGE[0], DEFAULT_MEMBERS_RANGE[1] + 1)
        reference = SURVEYS["2mass"].catalogue_limit
        deeper = cluster_klf_count_ratio(bright, reference, limit) if limit > reference else 0.0
        n_above = int(round(n_2mass * (1.0 + deeper)))
    n_below = int(round(n_above * cluster_klf_count_ratio(bright, limit,
                                                          limit + FAINTER_THAN_LIMIT)))
    kmag = np.concatenate([cluster_klf_mags(rng, n_above, bright, limit),
                           cluster_klf_mags(rng, n_below, limit, limit + FAINTER_THAN_LIMIT)])
    r_px = profile_radii(rng, len(kmag), difficulty.profile, radius, difficulty.concentration)
    r_px /= scale
    angle = rng.uniform(0.0, 2.0 * np.pi, len(kmag))
    truth = dict(x=x0, y=y0, radius_arcsec=float(radius), n_members=n_above,
                 core_radius_arcsec=float(radius / difficulty.concentration),
                 profile=difficulty.profile,
                 half_number_radius_arcsec=half_number_radius(difficulty.profile, float(radius),
                                                              difficulty.concentration))
    return x0 + r_px * np.cos(angle), y0 + r_px * np.sin(angle), kmag, truth


def kband_scene(ra_deg, dec_deg, size_arcmin, survey="2mass", seed=0,
                difficulty=StarClusterDifficulty()):
    """The sources, nebula and truth of a K-band field (see ``simulate_kband_field``)."""
    if survey not in SURVEYS:
        raise InputError(f"unknown K-band survey {survey!r}: use one of {', '.join(SURVEYS)}")
    if not 0.5 <= size_arcmin <= 60.0:
        raise InputError(f"K-band field of {size_arcmin} arcmin: use 0.5 to 60 arcmin")
    if not -90.0 <= dec_deg <= 90.0:
        raise InputError(f"K-band field at Dec {dec_deg}: Dec must be within -90..90 deg")
    if difficulty.profile not in ("king", "plummer") or difficulty.concentration <= 1.0:
        raise InputError(f"StarClusterDifficulty profile={difficulty.profile!r}, concentration="
                         f"{difficulty.concentration}: use 'king' or 'plummer' and > 1")
    if int(seed) < 0:
        raise InputError(f"simulator seed {seed} is negative: give a seed >= 0")
    cam = SURVEYS[survey]
    key = _field_key(ra_deg, dec_deg, size_arcmin, survey)

    def rng(stream):
        # The cluster's stream leaves out the survey: both surveys see the same cluster.
        return np.random.default_rng([int(seed), _STREAM[stream],
                                      *(key[:3] if stream == "cluster" else key)])

    size_px = int(round(size_arcmin * 60.0 / cam.scale_arcsec))
    wcs = tan_wcs(ra_deg, dec_deg, size_px, cam.scale_arcsec)
    if difficulty.cluster_free:
        x_m = y_m = k_m = np.zeros(0)
        row = None
        nebula_x, nebula_y = rng("cluster").uniform(0.2, 0.8, 2) * size_px
        nebula_width = DEFAULT_RADIUS_RANGE_ARCSEC[1] / cam.scale_arcsec
    else:
        x_m, y_m, k_m, row = _cluster(rng("cluster"), cam, difficulty, size_px,
                                      (size_px - 1) / 2.0)
        nebula_x, nebula_y = row["x"], row["y"]
        nebula_width = 0.8 * row["radius_arcsec"] / cam.scale_arcsec
    nebula, extinction = _nebula_and_extinction(rng("nebula"), cam, size_px, nebula_x, nebula_y,
                                                nebula_width, difficulty.nebulosity)
    galactic = SkyCoord(ra_deg, dec_deg, unit="deg").galactic
    field_rng = rng("field")
    x_f, y_f, k_f = _field_stars(field_rng, cam, size_px, galactic.l.deg, galactic.b.deg,
                                 difficulty.field_density_scale, extinction)
    galaxy_x, galaxy_y, galaxy_k, galaxy_hlr = _field_galaxies(field_rng, cam, size_px)
    member = np.concatenate([np.ones(len(k_m), bool), np.zeros(len(k_f), bool)])
    return KBandScene(cam, wcs, size_px, cam.fwhm_arcsec * difficulty.seeing_scale,
                      np.concatenate([x_m, x_f]), np.concatenate([y_m, y_f]),
                      np.concatenate([k_m, k_f]), member, galaxy_x, galaxy_y, galaxy_k,
                      galaxy_hlr, nebula, _truth_table(wcs, row))


def _nebula_and_extinction(rng, cam, size_px, x0, y0, width_px, strength):
    """Nebular emission (image units per pixel) and K extinction (mag) maps of a field.

    Both are patchy lognormal fields under a Gaussian envelope of ``width_px`` around
    (x0, y0); the extinction keeps 30 % of its envelope peak all over the field.
    """
    shape = (size_px, size_px)
    smallest = 10.0 / cam.scale_arcsec
    envelope = radial_envelope(shape, x0, y0, width_px)
    peak = 10.0 ** (-0.4 * (NEBULA_PEAK_MAG_ARCSEC2 - cam.zero_point)) * cam.scale_arcsec ** 2
    nebula = (strength * peak * envelope
              * lognormal_field(rng, shape, smallest, sigma=NEBULA_PATCHINESS))
    extinction = (strength * PEAK_EXTINCTION_K * (0.3 + envelope)
                  * lognormal_field(rng, shape, 2.0 * smallest, sigma=NEBULA_PATCHINESS))
    return nebula, extinction


def _field_stars(rng, cam, size_px, galactic_l, galactic_b, density_scale, extinction):
    """Positions (pixels) and observed K of the field stars; those behind the screen are
    dimmed by the extinction map (mag) at their position."""
    faint = cam.catalogue_limit + FAINTER_THAN_LIMIT
    area_arcmin2 = (size_px * cam.scale_arcsec / 60.0) ** 2
    density = density_scale * (field_star_density(galactic_l, galactic_b, faint)
                               - field_star_density(galactic_l, galactic_b, BRIGHTEST_STAR_K))
    n = rng.poisson(density * area_arcmin2)
    x, y = rng.uniform(-0.5, size_px - 0.5, (2, n))
    kmag = power_law_mags(rng, n, FIELD_KLF_SLOPE, BRIGHTEST_STAR_K, faint)
    behind = rng.uniform(0.0, 1.0, n) < BEHIND_SCREEN_FRACTION
    ix = np.clip(np.rint(x).astype(int), 0, size_px - 1)
    iy = np.clip(np.rint(y).astype(int), 0, size_px - 1)
    return x, y, kmag + np.where(behind, extinction[iy, ix], 0.0)


def _field_galaxies(rng, cam, size_px):
    """Positions (pixels), K and half-light radii (arcsec) of background galaxies.

    K-band counts ~0.8 x 10^(0.3 (K - 16)) per arcmin^2, 30 % of them seen through the plane.
    """
    faint = cam.catalogue_limit + FAINTER_THAN_LIMIT
    area_arcmin2 = (size_px * cam.scale_arcsec / 60.0) ** 2
    n = rng.poisson(0.3 * 0.8 * 10 ** (0.3 * (faint - 16.0)) * area_arcmin2)
    x, y = rng.uniform(-0.5, size_px - 0.5, (2, n))
    return x, y, power_law_mags(rng, n, 0.3, 12.0, faint), rng.uniform(0.3, 1.5, n)


def _truth_table(wcs, row):
    """The truth table: one row for the cluster ``row`` (pixel centre), none when None."""
    rows = [row] if row is not None else []
    ra, dec = wcs.wcs_pix2world([r["x"] for r in rows], [r["y"] for r in rows], 0)
    truth = Table(dict(ra=np.asarray(ra, float), dec=np.asarray(dec, float),
                       radius_arcsec=np.array([r["radius_arcsec"] for r in rows], float),
                       n_members=np.array([r["n_members"] for r in rows], int),
                       core_radius_arcsec=np.array([r["core_radius_arcsec"] for r in rows], float),
                       profile=np.array([r["profile"] for r in rows], str),
                       half_number_radius_arcsec=np.array(
                           [r["half_number_radius_arcsec"] for r in rows], float)))
    for column, unit in (("ra", "deg"), ("dec", "deg"), ("radius_arcsec", "arcsec"),
                         ("core_radius_arcsec", "arcsec"), ("half_number_radius_arcsec", "arcsec")):
        truth[column].unit = unit
    return truth


def _peak_fraction(bank):
    """Fraction of a point source's flux in its brightest pixel (centred source)."""
    return float(bank.stamps[len(bank.stamps) // 2].max())


def render_kband(scene, rng, noise_scale, header_cards=()):
    """The K-band image of ``scene``: a float32 PrimaryHDU in the survey's units."""
    cam = scene.survey
    psf = psf_profile(scene.fwhm_arcsec)
    fwhm_px = scene.fwhm_arcsec / cam.scale_arcsec
    faint_bank = StampBank.point_sources(psf, cam.scale_arcsec, odd_stamp_size(3.0 * fwhm_px))
    bright_bank = StampBank.point_sources(psf, cam.scale_arcsec, odd_stamp_size(15.0 * fwhm_px),
                                          n_sub=3)
    canvas = scene.nebula.copy()
    flux = 10.0 ** (-0.4 * (scene.kmag - cam.zero_point))
    bright = scene.kmag < cam.saturation_mag + 3.0
    faint_bank.add([canvas], scene.x[~bright], scene.y[~bright], flux[~bright])
    bright_bank.add([canvas], scene.x[bright], scene.y[bright], flux[bright])
    if len(scene.galaxy_x):
        hlrs = (0.4, 0.7, 1.2)
        keys = [(h, q, a) for h in hlrs for q in (0.5, 0.9) for a in (0.0, 60.0, 120.0)]
        bank = StampBank.shapes([galaxy_profile(1, h, q, a) for h, q, a in keys], psf,
                                cam.scale_arcsec,
                                [odd_stamp_size((3.0 * scene.fwhm_arcsec + 4.0 * h)
                                                / cam.scale_arcsec) for h, _, _ in keys])
        size_index = np.abs(scene.galaxy_hlr[:, None] - np.array(hlrs)).argmin(axis=1)
        template = size_index * 6 + rng.integers(0, 6, len(scene.galaxy_x))
        bank.add([canvas], scene.galaxy_x, scene.galaxy_y,
                 10.0 ** (-0.4 * (scene.galaxy_kmag - cam.zero_point)), template=template)
    add_noise(canvas, noise_scale * cam.sky_sigma, cam.gain / noise_scale ** 2, rng)
    canvas += np.float32(cam.sky_level)
    level = cam.sky_level + 10.0 ** (-0.4 * (cam.saturation_mag - cam.zero_point)) \
        * _peak_fraction(faint_bank)
    saturate(canvas, level)
    cards = list(cam.header_cards) + [("SEEING", scene.fwhm_arcsec, "PSF FWHM (arcsec)"),
                                      ("SKYLEVEL", cam.sky_level, "sky pedestal (image units)"),
                                      ("SATURATE", level, "saturation level (image units)")]
    return image_hdu(canvas, scene.wcs, cards + list(header_cards))


def _point_source_snr(cam, fwhm_arcsec, flux, noise_scale):
    """Signal-to-noise ratio of PSF photometry of ``flux`` (image units)."""
    sigma_px = fwhm_arcsec / 2.3548 / cam.scale_arcsec
    background = 4.0 * np.pi * sigma_px ** 2 * (noise_scale * cam.sky_sigma) ** 2
    return flux / np.sqrt(background + flux * noise_scale ** 2 / cam.gain)


def raw_catalogue(scene, rng, noise_scale):
    """The raw survey catalogue of ``scene`` (2MASS PSC or UKIDSS GPS columns).

    Detection probability falls from 1 to 0 around 0.25 mag below the catalogue limit;
    of two detections closer than one FWHM only the brighter is kept (blending). Measured
    magnitudes and positions scatter with the photometric signal-to-noise ratio. Artefacts
    (3 % of the rows) and, for UKIDSS, galaxies are added with the flags readers drop.
    """
    cam = scene.survey
    limit = cam.catalogue_limit
    flux = 10.0 ** (-0.4 * (scene.kmag - cam.zero_point))
    snr = _point_source_snr(cam, scene.fwhm_arcsec, flux, noise_scale)
    inside = ((scene.x >= -0.5) & (scene.x < scene.size_px - 0.5)
              & (scene.y >= -0.5) & (scene.y < scene.size_px - 0.5))
    detected = inside & (rng.uniform(0, 1, len(flux))
                         < 1.0 / (1.0 + np.exp((scene.kmag - limit - 0.25) / 0.12)))
    index = np.nonzero(detected)[0]
    fwhm_px = scene.fwhm_arcsec / cam.scale_arcsec
    pairs = cKDTree(np.column_stack([scene.x[index], scene.y[index]])).query_pairs(
        fwhm_px, output_type="ndarray")
    fainter = np.where(scene.kmag[index[pairs[:, 0]]] > scene.kmag[index[pairs[:, 1]]],
                       pairs[:, 0], pairs[:, 1])
    index = np.delete(index, np.unique(fainter))
    kind = np.full(len(index), "star", dtype="<U8")
    x, y, kmag, snr = scene.x[index], scene.y[index], scene.kmag[index], snr[index]
    saturated = kmag < cam.saturation_mag
    if cam.name == "ukidss":
        g_flux = 10.0 ** (-0.4 * (scene.galaxy_kmag - cam.zero_point))
        g_snr = _point_source_snr(cam, scene.fwhm_arcsec, g_flux, noise_scale)
        seen = scene.galaxy_kmag < limit
        x = np.concatenate([x, scene.galaxy_x[seen]])
        y = np.concatenate([y, scene.galaxy_y[seen]])
        kmag = np.concatenate([kmag, scene.galaxy_kmag[seen]])
        snr = np.concatenate([snr, g_snr[seen]])
        kind = np.concatenate([kind, np.full(int(seen.sum()), "galaxy")])
        saturated = np.concatenate([saturated, np.zeros(int(seen.sum()), bool)])
    n_artefacts = rng.binomial(len(x), 0.03)
    x = np.concatenate([x, rng.uniform(-0.5, scene.size_px - 0.5, n_artefacts)])
    y = np.concatenate([y, rng.uniform(-0.5, scene.size_px - 0.5, n_artefacts)])
    kmag = np.concatenate([kmag, rng.uniform(limit - 1.0, limit + 0.5, n_artefacts)])
    snr = np.concatenate([snr, rng.uniform(3.0, 8.0, n_artefacts)])
    kind = np.concatenate([kind, np.full(n_artefacts, "artefact")])
    saturated = np.concatenate([saturated, np.zeros(n_artefacts, bool)])
    position_sigma = 0.5 * fwhm_px / np.maximum(snr, 1.0)
    x = x + rng.normal(0.0, 1.0, len(x)) * position_sigma
    y = y + rng.normal(0.0, 1.0, len(y)) * position_sigma
    kmag = kmag + rng.normal(0.0, 1.0, len(kmag)) * 1.0857 / np.maximum(snr, 1.0)
    ra, dec = scene.wcs.wcs_pix2world(x, y, 0)
    if cam.name == "2mass":
        return twomass_psc(rng, ra, dec, kmag, snr, kind)
    return ukidss_gps(rng, ra, dec, kmag, snr, kind, saturated)


def simulate_kband_field(ra_deg, dec_deg, size_arcmin, survey="2mass", seed=0,
                         difficulty=StarClusterDifficulty()):
    """A simulated K-band field centred on (ra, dec), as the survey readers return one.

    Parameters
    ----------
    ra_deg, dec_deg : float
        Field centre (deg, ICRS), e.g. one of the eight IRAS sources of StellarVAE Table I.
    size_arcmin : float
        Field side (arcmin); 10 arcmin is 600 x 600 px for 2MASS, 3000 x 3000 for UKIDSS.
    survey : {"2mass", "ukidss"}
        Camera and catalogue to imitate.
    seed : int
        The same seed, position, size, survey and difficulty give identical bytes.
    difficulty : StarClusterDifficulty
        Cluster size, richness, placement and profile; crowding, seeing, noise, nebulosity;
        cluster-free fields.

    Returns
    -------
    hdu : astropy.io.fits.PrimaryHDU
        float32 K image with a TAN WCS (north up, east left), sky pedestal included.
    catalogue : astropy.table.Table
        Raw 2MASS PSC or UKIDSS GPS rows (see ``kband_surveys``), including rows the readers
        must drop.
    truth : astropy.table.Table
        ``ra, dec`` (deg), ``radius_arcsec``, ``n_members`` (members brighter than the
        catalogue limit), ``core_radius_arcsec``, ``profile``, ``half_number_radius_arcsec``;
        zero rows when cluster-free.
    """
    scene = kband_scene(ra_deg, dec_deg, size_arcmin, survey, seed, difficulty)
    key = _field_key(ra_deg, dec_deg, size_arcmin, survey)
    cards = [("SIMSEED", int(seed), "data_prep.sim seed"),
             ("ORIGIN", "data_prep.sim", "simulated, not observed")]
    hdu = render_kband(scene, np.random.default_rng([int(seed), _STREAM["noise"], *key]),
                       difficulty.noise_scale, cards)
    catalogue = raw_catalogue(scene, np.random.default_rng([int(seed), _STREAM["catalogue"],
                                                            *key]), difficulty.noise_scale)
    return hdu, catalogue, scene.truth
