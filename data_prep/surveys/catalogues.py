"""Catalogue selections of both papers, from raw survey tables to standardised tables.

- Deep-CEE §2.2: the Wen, Han & Liu (2012) clusters (VizieR J/ApJS/199/34/table1) with an
  Abell counterpart, 0.1 < z_phot < 0.2, N200 >= 20 and Dec > 0 (the paper keeps 497), with a
  report of the rows each cut leaves (:func:`paper_sample`).
- Deep-CEE §3.2: redMaPPer (Rykoff et al. 2014, VizieR J/ApJ/785/104/table1) clusters with
  0.1 < z_lambda < 0.2 in a region of 105 deg^2 that holds no training or test cluster
  (:func:`redmapper_unseen`).
- StellarVAE §II-C: catalogue stars only, 2MASS PSC read flag 1 to 6 in K
  (:func:`twomass_stars`) and UKIDSS GPS mergedClass -1 or -2 (:func:`ukidss_stars`).

Raw tables come from VizieR / the WFAU archive or from the simulator, which writes the same
column names. :func:`raw_columns` accepts the few spellings a column has in practice.

Standardised tables (CONTRACTS): clusters ``name, ra, dec, z, bcg_rmag, richness, n200``
(deg, deg, -, mag, -, count) and stars ``ra, dec, kmag`` (deg, deg, mag).
"""
import re

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Column, MaskedColumn, Table

from data_prep.base.columns import floats
from data_prep.base.errors import InputError

# Raw column -> accepted spellings (first: the VizieR / CONTRACTS name).
WEN_COLUMNS = {
    "WHL": ("WHL", "Name"),
    "RAJ2000": ("RAJ2000", "_RAJ2000", "RAdeg", "RA"),
    "DEJ2000": ("DEJ2000", "_DEJ2000", "DEdeg", "DE", "Dec"),
    "zph": ("zph", "zphot"),
    "zsp": ("zsp", "zspec"),
    "rmag": ("rmag", "rmagBCG", "rBCG"),
    "RL*": ("RL*", "RL_", "RL"),
    "N200": ("N200",),
    "Other": ("Other", "Others"),
}
REDMAPPER_COLUMNS = {
    "Name": ("Name",),
    "RAJ2000": ("RAJ2000", "_RAJ2000", "RAdeg"),
    "DEJ2000": ("DEJ2000", "_DEJ2000", "DEdeg"),
    "zlambda": ("zlambda",),
    "lambda": ("lambda",),
}
TWOMASS_COLUMNS = {
    "RAJ2000": ("RAJ2000", "_RAJ2000", "RAdeg", "ra"),
    "DEJ2000": ("DEJ2000", "_DEJ2000", "DEdeg", "dec"),
    "Kmag": ("Kmag", "k_m"),
    "Rflg": ("Rflg", "rd_flg"),
}
UKIDSS_COLUMNS = {
    "ra": ("ra", "RA"),
    "dec": ("dec", "Dec", "DEC"),
    "kAperMag3": ("kAperMag3", "K_1AperMag3", "k_1AperMag3", "KAPERMAG3"),
    "mergedClass": ("mergedClass", "MERGEDCLASS", "mergedclass"),
}

# Paper cuts (Deep-CEE §2.2 and §3.2).
Z_MIN, Z_MAX = 0.1, 0.2
N200_MIN = 20
UNSEEN_AREA_DEG2 = 105.0

# An Abell (ACO) name among Wen's other-catalogue names: "A1234", "A 1234", "Abell 1234",
# "ACO 1234", "ABCG 1234", supplementary southern "AS1063" / "ACO S1063".
_ABELL = re.compile(r"(?<![A-Za-z0-9])(?:Abell|ACO|ABCG|A)\s*(S\s*)?0*(\d{1,4})(?![0-9])")
# WSA default for a missing magnitude.
_WSA_NULL = -9.0e8


def raw_columns(table, columns, catalogue, optional=()):
    """A copy of ``table`` with its columns renamed to the first spelling in ``columns``.

    Parameters
    ----------
    table : astropy.table.Table
        Raw table as a service or the simulator gives it.
    columns : dict
        Wanted name -> accepted spellings (e.g. :data:`WEN_COLUMNS`).
    catalogue : str
        Catalogue name for messages.
    optional : iterable of str
        Wanted names that may be absent.

    Raises
    ------
    InputError
        A required column is missing under every spelling.
    """
    out = table.copy(copy_data=False)  # renaming must not touch the caller's table
    renames = {}
    for wanted, spellings in columns.items():
        found = next((name for name in spellings if name in out.colnames), None)
        if found is None:
            if wanted in optional:
                continue
            raise InputError(f"{catalogue}: no column {wanted!r} (looked for "
                             f"{', '.join(spellings)}; have {', '.join(out.colnames)}); "
                             "the service's table format changed or the file is not this catalogue")
        if found != wanted:
            renames[found] = wanted
    for found, wanted in renames.items():
        out.rename_column(found, wanted)
    return out


def _filled(column, fill):
    """``column`` as a plain numpy array with masked entries set to ``fill``."""
    if isinstance(column, MaskedColumn) or hasattr(column, "mask"):
        return np.ma.asarray(column).filled(fill)
    return np.asarray(column)


def _degrees(ra, dec):
    """RA, Dec in degrees from numeric (deg) or sexagesimal (``"hh mm ss"``, ``"dd mm ss"``) columns."""
    if np.asarray(ra).dtype.kind in "US":
        coords = SkyCoord(np.asarray(ra, str), np.asarray(dec, str), unit=(u.hourangle, u.deg))
        return coords.ra.deg, coords.dec.deg
    return floats(ra), floats(dec)


def abell_name(other):
    """The Abell name ("A1234", or "AS1063" for a supplementary one) in Wen's ``Other`` text.

    Returns ``""`` when the text names no Abell cluster.
    """
    match = _ABELL.search(str(other))
    if match is None:
        return ""
    return f"A{'S' if match.group(1) else ''}{int(match.group(2))}"


def _cluster_table(names, ra, dec, z, bcg_rmag, richness, n200):
    """The standardised cluster table with units and descriptions."""
    return Table([
        Column(np.asarray(names, str), name="name"),
        Column(np.asarray(ra, float), name="ra", unit=u.deg, description="BCG / centre RA (ICRS)"),
        Column(np.asarray(dec, float), name="dec", unit=u.deg, description="BCG / centre Dec"),
        Column(np.asarray(z, float), name="z", description="photometric redshift"),
        Column(np.asarray(bcg_rmag, float), name="bcg_rmag", unit=u.mag,
               description="BCG r-band magnitude"),
        Column(np.asarray(richness, float), name="richness",
               description="richness (Wen: R_L* = L200/L*; redMaPPer: lambda)"),
        Column(np.asarray(n200, float), name="n200",
               description="member galaxies inside r200 (count)"),
    ])


def paper_sample(raw_wen):
    """The Deep-CEE training / test sample from the Wen et al. (2012) table (Deep-CEE §2.2).

    Cuts, in order: Abell counterpart named in ``Other``; 0.1 < zph < 0.2; N200 >= 20;
    Dec > 0. The paper's cut is on the photometric redshift, so ``z`` is ``zph`` even where a
    spectroscopic ``zsp`` exists (``zsp`` is not used).

    Parameters
    ----------
    raw_wen : astropy.table.Table
        Raw J/ApJS/199/34/table1 columns (``WHL, RAJ2000, DEJ2000, zph, rmag, RL*, N200,
        Other``).

    Returns
    -------
    sample : astropy.table.Table
        Standardised clusters, with an extra ``abell`` column (e.g. ``"A1234"``); ``name`` is
        the WHL identifier. Sorted as in the input.
    cut_report : list of (str, int)
        Each cut and the rows left after it, starting with ``("all rows", N)``.
    """
    wen = raw_columns(raw_wen, WEN_COLUMNS, "Wen et al. (2012) J/ApJS/199/34",
                      optional=("zsp",))
    ra, dec = _degrees(wen["RAJ2000"], wen["DEJ2000"])
    zph = floats(wen["zph"])
    n200 = floats(wen["N200"])
    abell = np.array([abell_name(text) for text in _filled(wen["Other"], "")], dtype=object)

    keep = np.ones(len(wen), bool)
    report = [("all rows", int(keep.sum()))]
    for description, passes in (
            ("Abell counterpart in Other", abell != ""),
            (f"{Z_MIN} < zph < {Z_MAX}", (zph > Z_MIN) & (zph < Z_MAX)),
            (f"N200 >= {N200_MIN}", n200 >= N200_MIN),
            ("Dec > 0 deg", dec > 0)):
        keep &= passes  # comparisons with NaN are False: a missing value fails its cut
        report.append((description, int(keep.sum())))

    names = [n if str(n).startswith("WHL") else f"WHL {str(n).strip()}"
             for n in _filled(wen["WHL"], "")[keep]]
    sample = _cluster_table(names, ra[keep], dec[keep], zph[keep], floats(wen["rmag"])[keep],
                            floats(wen["RL*"])[keep], n200[keep])
    sample["abell"] = Column(abell[keep].astype(str), description="Abell counterpart")
    return sample, report


def _box_area_deg2(ra_width_deg, dec_min, dec_max):
    """Solid angle of an RA/Dec box, deg^2."""
    return ra_width_deg * (np.sin(np.radians(dec_max)) - np.sin(np.radians(dec_min))) \
        * 180.0 / np.pi


def _ra_offsets(ra, start):
    """RA measured eastward from ``start``, in [0, 360) deg."""
    return np.mod(np.asarray(ra, float) - start, 360.0)


def choose_unseen_region(candidates_ra, candidates_dec, avoid_ra, avoid_dec,
                         area_deg2=UNSEEN_AREA_DEG2, step_deg=1.0):
    """An RA/Dec box of ``area_deg2`` with no ``avoid`` position and the most candidates.

    The box is about square: ``sqrt(area)`` degrees in Dec, and as wide in RA as the area
    needs at its declination. Boxes are tried on a grid of ``step_deg`` in RA start and Dec
    centre; among boxes that contain no avoided position the one with the most candidates
    wins, ties going to the lowest Dec centre, then the lowest RA start: the choice is
    deterministic. Deep-CEE §3.2 chose its 105 deg^2 region by eye (31 clusters).

    Returns
    -------
    dict
        ``ra_min, ra_max`` (deg; ``ra_max`` may exceed 360 when the box wraps),
        ``dec_min, dec_max`` (deg), ``area_deg2`` and ``n_inside`` (candidates inside).

    Raises
    ------
    InputError
        No box of that area avoids every avoided position.
    """
    height = float(np.sqrt(area_deg2))
    best = None
    cand_ra, cand_dec = np.asarray(candidates_ra, float), np.asarray(candidates_dec, float)
    avoid_ra, avoid_dec = np.asarray(avoid_ra, float), np.asarray(avoid_dec, float)
    starts = np.arange(0.0, 360.0, step_deg)
    for centre in np.arange(-90.0 + height / 2, 90.0 - height / 2 + 1e-9, step_deg):
        dec_min, dec_max = centre - height / 2, centre + height / 2
        width = area_deg2 / _box_area_deg2(1.0, dec_min, dec_max)
        if width >= 360.0:
            continue
        counts = _counts_in_ra_windows(cand_ra[(cand_dec >= dec_min) & (cand_dec < dec_max)],
                                       starts, width)
        blocked = _counts_in_ra_windows(avoid_ra[(avoid_dec >= dec_min) & (avoid_dec < dec_max)],
                                        starts, width)
        counts = np.where(blocked > 0, -1, counts)
        k = int(np.argmax(counts))  # first maximum: lowest RA start at this Dec
        if counts[k] >= 0 and (best is None or counts[k] > best["n_inside"]):
            best = dict(ra_min=float(starts[k]), ra_max=round(float(starts[k] + width), 9),
                        dec_min=round(float(dec_min), 9), dec_max=round(float(dec_max), 9),
                        area_deg2=float(area_deg2), n_inside=int(counts[k]))
    if best is None:
        raise InputError(f"no {area_deg2} deg^2 RA/Dec box avoids every training/test cluster; "
                         "give a smaller area")
    return best


def _counts_in_ra_windows(ra, starts, width):
    """How many of ``ra`` fall in [start, start + width) for each start (wrapping at 360)."""
    ra = np.sort(np.mod(ra, 360.0))
    doubled = np.concatenate([ra, ra + 360.0])
    return np.searchsorted(doubled, starts + width, side="left") - \
        np.searchsorted(doubled, starts, side="left")


def in_region(ra, dec, region):
    """True where (ra, dec) (deg) lies inside ``region`` (as :func:`choose_unseen_region` gives)."""
    width = region["ra_max"] - region["ra_min"]
    return (_ra_offsets(ra, region["ra_min"]) < width) & \
        (np.asarray(dec) >= region["dec_min"]) & (np.asarray(dec) < region["dec_max"])


def redmapper_unseen(raw_redmapper, sample, area_deg2=UNSEEN_AREA_DEG2, zmin=Z_MIN, zmax=Z_MAX):
    """The unseen redMaPPer test set (Deep-CEE §3.2).

    redMaPPer clusters with ``zmin < zlambda < zmax`` inside the region of ``area_deg2`` that
    holds none of ``sample`` (the training + test clusters) and the most redMaPPer clusters
    (:func:`choose_unseen_region`). No richness cut: redMaPPer lists only lambda >= 20.

    Parameters
    ----------
    raw_redmapper : astropy.table.Table
        Raw J/ApJ/785/104/table1 columns (``Name, RAJ2000, DEJ2000, zlambda, lambda``).
    sample : astropy.table.Table
        Standardised clusters to keep out (``ra``, ``dec`` in deg).

    Returns
    -------
    clusters : astropy.table.Table
        Standardised clusters; ``z`` = zlambda, ``richness`` = lambda, ``bcg_rmag`` and
        ``n200`` NaN. ``meta["region"]`` holds the region and ``meta["cut_report"]`` the rows
        each step leaves.
    region : dict
    """
    rm = raw_columns(raw_redmapper, REDMAPPER_COLUMNS, "redMaPPer J/ApJ/785/104")
    ra, dec = _degrees(rm["RAJ2000"], rm["DEJ2000"])
    z = floats(rm["zlambda"])
    in_z = (z > zmin) & (z < zmax)
    region = choose_unseen_region(ra[in_z], dec[in_z], floats(sample["ra"]),
                                  floats(sample["dec"]), area_deg2)
    keep = in_z & in_region(ra, dec, region)
    nan = np.full(int(keep.sum()), np.nan)
    clusters = _cluster_table(_filled(rm["Name"], "")[keep], ra[keep], dec[keep], z[keep], nan,
                              floats(rm["lambda"])[keep], nan)
    clusters.meta["region"] = region
    clusters.meta["cut_report"] = [("all rows", len(rm)), (f"{zmin} < zlambda < {zmax}",
                                                           int(in_z.sum())),
                                   (f"inside the {area_deg2} deg^2 unseen region", len(clusters))]
    return clusters, region


def _star_table(ra, dec, kmag):
    """The standardised star table."""
    return Table([Column(np.asarray(ra, float), name="ra", unit=u.deg),
                  Column(np.asarray(dec, float), name="dec", unit=u.deg),
                  Column(np.asarray(kmag, float), name="kmag", unit=u.mag,
                         description="K (2MASS Ks / UKIDSS K aperture 3) magnitude")])


def twomass_stars(raw):
    """2MASS PSC sources with a K read flag of 1 to 6 (StellarVAE §II-C).

    ``Rflg`` holds three read-flag digits for J, H, K; the third is K. Flag 0 (not detected)
    and 9 (nominal, no detection) go out.
    """
    psc = raw_columns(raw, TWOMASS_COLUMNS, "2MASS PSC II/246/out")
    flags = [str(f).strip() for f in _filled(psc["Rflg"], "")]
    k_flag = np.array([f[2] if len(f) == 3 else "" for f in flags])
    keep = np.isin(k_flag, list("123456"))
    ra, dec = _degrees(psc["RAJ2000"], psc["DEJ2000"])
    return _star_table(ra[keep], dec[keep], floats(psc["Kmag"])[keep])


def ukidss_stars(raw):
    """UKIDSS GPS sources classified as stars, mergedClass -1 or -2 (StellarVAE §II-C).

    ``kAperMag3`` at the WSA default for "none" (-9.99999e8) becomes NaN.
    """
    gps = raw_columns(raw, UKIDSS_COLUMNS, "UKIDSS GPS source table")
    klass = floats(gps["mergedClass"])
    keep = np.isin(klass, (-1.0, -2.0))
    kmag = floats(gps["kAperMag3"])
    kmag = np.where(kmag < _WSA_NULL, np.nan, kmag)
    ra, dec = _degrees(gps["ra"], gps["dec"])
    return _star_table(ra[keep], dec[keep], kmag[keep])
