"""The mock universe of galaxy clusters and its Wen et al. (2012) and redMaPPer catalogues.

Clusters with 0.05 <= z < 0.3 fill an SDSS DR8-like footprint (a northern cap and a southern
stripe, ~13,500 deg^2) uniformly on the sphere, with redshifts following the comoving volume
and N200 >= 8 from a power law (N(>N200) ~ N200^-2). Exactly ``PAPER_SAMPLE_SIZE`` of the
clusters that pass Deep-CEE's cuts (0.1 < z < 0.2, N200 >= 20, Dec > 0) carry an Abell name,
chosen with probability ~ N200, so the cuts leave the paper's 497 (Deep-CEE §2.2); other
Abell names go to clusters that fail one of the other cuts. A redMaPPer catalogue (lambda >= 20)
fills ``UNSEEN_REGION`` (105 deg^2), where no Wen cluster passes the paper cuts, with
``REDMAPPER_SAMPLE_SIZE`` clusters at 0.1 < z < 0.2 (Deep-CEE §3.2).

Richness and size: R_L* = 1.45 N200 (0.06 dex scatter, >= 12); M200 = 1.07e14 (R_L*/20)^1.17
M_sun (Wen et al. 2012 eq. 9 form); r200 from M200 = 200 rho_crit(z) 4/3 pi r200^3. BCG:
M_r = -22.9 - 1.2 log10(N200 / 20) (0.3 mag scatter).
"""
import numpy as np
from astropy.table import Table

from data_prep.base.cosmology import COSMOLOGY, arcsec_for_kpc
from data_prep.sim.galaxies import apparent_r

Z_RANGE = (0.05, 0.3)
FOOTPRINT = ((110.0, 260.0, -5.0, 70.0), (310.0, 420.0, -10.0, 35.0))  # RA0, RA1, Dec0, Dec1
WEN_DENSITY_PER_DEG2 = 2.4
UNSEEN_REGION = (200.0, 210.55, 0.0, 10.0)  # 105 deg^2
PAPER_SAMPLE_SIZE = 497
REDMAPPER_SAMPLE_SIZE = 31
N_ABELL = 4076
SPECTROSCOPIC_LIMIT_RMAG = 17.77  # SDSS main-sample limit: brighter BCGs have a spectrum


def box_area_deg2(ra0, ra1, dec0, dec1):
    """Solid angle (deg^2) of an RA / Dec box."""
    return np.degrees(np.radians(ra1 - ra0) * (np.sin(np.radians(dec1))
                                               - np.sin(np.radians(dec0)))) * np.degrees(1.0)


def uniform_in_box(rng, n, ra0, ra1, dec0, dec1):
    """``n`` positions (deg) uniform on the sphere inside an RA / Dec box; RA wrapped to
    [0, 360)."""
    ra = rng.uniform(ra0, ra1, n) % 360.0
    sin_dec = rng.uniform(np.sin(np.radians(dec0)), np.sin(np.radians(dec1)), n)
    return ra, np.degrees(np.arcsin(sin_dec))


def in_box(ra, dec, box):
    """True where (ra, dec) lies inside the RA / Dec ``box``."""
    ra0, ra1, dec0, dec1 = box
    return ((np.asarray(ra) - ra0) % 360.0 <= ra1 - ra0) & (dec >= dec0) & (dec <= dec1)


def volume_redshifts(rng, n, z_low, z_high):
    """``n`` redshifts with density proportional to the comoving volume element dV/dz."""
    grid = np.linspace(z_low, z_high, 256)
    cumulative = np.cumsum(COSMOLOGY.differential_comoving_volume(grid).value)
    cumulative = (cumulative - cumulative[0]) / (cumulative[-1] - cumulative[0])
    return np.interp(rng.uniform(0.0, 1.0, n), cumulative, grid)


def richness_from_n200(rng, n200):
    """R_L* (L200 / L*) for member counts ``n200``, >= 12 as in Wen et al. (2012)."""
    return np.maximum(1.45 * n200 * 10.0 ** rng.normal(0.0, 0.06, len(n200)), 12.0)


def r200_mpc(richness, z):
    """r200 (Mpc) from the mass-richness relation at redshift ``z``."""
    m200 = 1.07e14 * (np.asarray(richness) / 20.0) ** 1.17
    rho_crit = COSMOLOGY.critical_density(z).to("solMass / Mpc3").value
    return (3.0 * m200 / (800.0 * np.pi * rho_crit)) ** (1.0 / 3.0)


def bcg_absolute_r(rng, n200):
    """Absolute r magnitude of the brightest cluster galaxy, never fainter than -21.1 (the
    BCG is always one of the N200 members)."""
    absolute = -22.9 - 1.2 * np.log10(np.asarray(n200) / 20.0) + rng.normal(0.0, 0.3, len(n200))
    return np.minimum(absolute, -21.1)


def iau_name(prefix, ra, dec, ra_decimals, dec_decimals):
    """IAU-style names 'PREFIX Jhhmmss.s+ddmmss' from positions (deg)."""
    names = []
    for r, d in zip(ra, dec):
        hours = r / 15.0
        h, m = int(hours), int((hours * 60) % 60)
        s = (hours * 3600) % 60
        sign = "+" if d >= 0 else "-"
        deg = abs(d)
        dd, dm = int(deg), int((deg * 60) % 60)
        ds = (deg * 3600) % 60
        ra_s = f"{s:0{3 + ra_decimals}.{ra_decimals}f}" if ra_decimals else f"{int(s):02d}"
        dec_s = f"{ds:0{3 + dec_decimals}.{dec_decimals}f}" if dec_decimals else f"{int(ds):02d}"
        names.append(f"{prefix}J{h:02d}{m:02d}{ra_s}{sign}{dd:02d}{dm:02d}{dec_s}")
    return names


def _abell_flags(rng, ra, dec, z, n200):
    """Which clusters carry an Abell name: exactly PAPER_SAMPLE_SIZE that pass the paper
    cuts, plus some that fail one other cut (z, N200 or Dec), none of the latter inside the
    unseen region."""
    passes = (z > 0.1) & (z < 0.2) & (n200 >= 20) & (dec > 0)
    unseen = in_box(ra, dec, UNSEEN_REGION)
    eligible = np.nonzero(passes & ~unseen)[0]
    weights = n200[eligible] / n200[eligible].sum()
    abell = np.zeros(len(z), bool)
    abell[rng.choice(eligible, PAPER_SAMPLE_SIZE, replace=False, p=weights)] = True
    near = (z <= 0.1) & (n200 >= 15)
    poor = (z > 0.1) & (z < 0.2) & (n200 < 20) & (n200 >= 14)
    south = (z > 0.1) & (z < 0.2) & (n200 >= 20) & (dec <= 0)
    far = (z >= 0.2) & (n200 >= 25)
    chance = np.select([near, poor, south, far], [0.5, 0.08, 0.45, 0.3], 0.0)
    abell |= (rng.uniform(0.0, 1.0, len(z)) < chance) & ~unseen
    return abell


def _wen_clusters(rng):
    """Columns of the mock Wen et al. (2012) clusters (truth values); redshifts are rounded to
    1e-4, as the catalogue prints them, so the paper cuts select the same rows on both."""
    positions = []
    for box in FOOTPRINT:
        n = rng.poisson(WEN_DENSITY_PER_DEG2 * box_area_deg2(*box))
        positions.append(uniform_in_box(rng, n, *box))
    ra = np.concatenate([p[0] for p in positions])
    dec = np.concatenate([p[1] for p in positions])
    n = len(ra)
    z = np.round(volume_redshifts(rng, n, *Z_RANGE), 4)
    n200 = np.minimum(np.floor(8.0 * rng.uniform(0.0, 1.0, n) ** -0.5), 300).astype(int)
    abell = _abell_flags(rng, ra, dec, z, n200)
    abell_numbers = np.zeros(n, int)
    by_ra = np.nonzero(abell)[0][np.argsort(ra[abell])]
    abell_numbers[by_ra] = np.sort(rng.choice(np.arange(1, N_ABELL + 1), len(by_ra),
                                              replace=False))
    other = np.where(abell_numbers > 0, np.char.add("A", abell_numbers.astype(str)), "")
    return dict(ra=ra, dec=dec, z=z, n200=n200, other=other)


def _redmapper_clusters(rng):
    """Columns of the mock redMaPPer clusters in the unseen region (truth values); redshifts
    are rounded to 1e-4, as the catalogue prints them, and kept inside their bin."""
    def volume(z_low, z_high):
        return np.diff(COSMOLOGY.comoving_volume(np.array([z_low, z_high])).value)[0]

    parts = []
    for z_low, z_high in ((0.05, 0.1), (0.1, 0.2), (0.2, 0.3)):
        # Exactly the sample size at 0.1 < z < 0.2; the same density per volume around it.
        n = (REDMAPPER_SAMPLE_SIZE if z_low == 0.1 else
             rng.poisson(REDMAPPER_SAMPLE_SIZE * volume(z_low, z_high) / volume(0.1, 0.2)))
        z = np.clip(np.round(volume_redshifts(rng, n, z_low, z_high), 4),
                    z_low + 1e-4, z_high - 1e-4)
        parts.append((*uniform_in_box(rng, n, *UNSEEN_REGION), z))
    ra, dec, z = (np.concatenate([p[i] for p in parts]) for i in range(3))
    lam = 20.0 * rng.uniform(0.0, 1.0, len(z)) ** -0.5
    return dict(ra=ra, dec=dec, z=z, n200=np.rint(lam).astype(int), other=np.full(len(z), ""),
                lam=lam)


def mock_universe(rng, richness_scale=1.0, redshift=None):
    """Every mock cluster (Wen et al. and redMaPPer) with its true properties.

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeded generator (the universe is a function of it alone, before the overrides).
    richness_scale : float
        Multiplies N200 (and so R_L*, r200, the BCG magnitude); at least 1 member.
    redshift : float or None
        Put every cluster at this redshift.

    Returns
    -------
    astropy.table.Table
        One row per cluster: name, catalogue ('wen' or 'redmapper'), ra, dec (BCG = centre,
        deg), z, bcg_rmag (mag), richness (R_L* for Wen, lambda for redMaPPer), n200, r200_mpc,
        r200_arcsec, zsp (NaN if the BCG has no spectrum), other (Abell name or '').
    """
    wen, redmapper = _wen_clusters(rng), _redmapper_clusters(rng)
    catalogue = np.concatenate([np.full(len(wen["z"]), "wen"),
                                np.full(len(redmapper["z"]), "redmapper")])
    ra, dec, z, n200, other = (np.concatenate([wen[k], redmapper[k]])
                               for k in ("ra", "dec", "z", "n200", "other"))
    if redshift is not None:
        z = np.full(len(z), float(redshift))
    n200 = np.maximum(np.rint(n200 * richness_scale).astype(int), 1)
    richness = richness_from_n200(rng, n200)
    is_redmapper = catalogue == "redmapper"
    richness[is_redmapper] = redmapper["lam"] * richness_scale
    r200 = r200_mpc(richness, z)
    bcg_rmag = apparent_r(bcg_absolute_r(rng, n200), z)
    has_spectrum = (bcg_rmag < SPECTROSCOPIC_LIMIT_RMAG) & (rng.uniform(0, 1, len(z)) < 0.9)
    zsp = np.where(has_spectrum, z + rng.normal(0.0, 0.0003, len(z)), np.nan)
    names = np.where(is_redmapper, iau_name("RM", ra, dec, 1, 1), iau_name("WHL ", ra, dec, 1, 0))
    return Table(dict(name=names, catalogue=catalogue, ra=ra, dec=dec, z=z, bcg_rmag=bcg_rmag,
                      richness=richness, n200=n200, r200_mpc=r200,
                      r200_arcsec=arcsec_for_kpc(1000.0 * r200, z), zsp=zsp, other=other))


def wen_table(universe):
    """The raw Wen et al. (2012) catalogue (VizieR J/ApJS/199/34 columns), sorted by RA."""
    rows = universe[universe["catalogue"] == "wen"]
    rows = rows[np.argsort(rows["ra"], kind="stable")]
    table = Table()
    table["WHL"] = [name.replace("WHL ", "") for name in rows["name"]]
    table["RAJ2000"] = rows["ra"]
    table["DEJ2000"] = rows["dec"]
    table["zph"] = np.round(rows["z"], 4)
    table["zsp"] = np.round(rows["zsp"], 5)
    table["rmag"] = np.round(rows["bcg_rmag"], 2)
    table["r200"] = np.round(rows["r200_mpc"], 2)
    table["RL*"] = np.round(rows["richness"], 2)
    table["N200"] = rows["n200"].astype(np.int32)
    table["Other"] = rows["other"].astype(str)
    for column, unit in (("RAJ2000", "deg"), ("DEJ2000", "deg"), ("rmag", "mag"),
                         ("r200", "Mpc")):
        table[column].unit = unit
    return table


def redmapper_table(universe):
    """The raw redMaPPer catalogue (VizieR J/ApJ/785/104 cat_dr8 columns), sorted by RA."""
    rows = universe[universe["catalogue"] == "redmapper"]
    rows = rows[np.argsort(rows["ra"], kind="stable")]
    table = Table()
    table["Name"] = rows["name"].astype(str)
    table["RAJ2000"] = rows["ra"]
    table["DEJ2000"] = rows["dec"]
    table["zlambda"] = np.round(rows["z"], 4)
    table["lambda"] = np.round(rows["richness"], 2)
    table["RAJ2000"].unit = "deg"
    table["DEJ2000"].unit = "deg"
    return table
