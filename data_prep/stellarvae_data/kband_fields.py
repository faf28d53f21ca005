"""K-band fields for StellarVAE: image, WCS and catalogue stars, from 2MASS, UKIDSS or the simulator.

StellarVAE §II: 2MASS Ks images and Point Source Catalog (read flag 1 to 6), UKIDSS GPS K
images and source catalogue (mergedClass -1 or -2). ``source="sim"`` writes a simulated field
to ``<cache_dir>/sim/kband/<key>/`` (``image.fits``, ``catalog.ecsv``, ``truth.ecsv``) and reads
it back through the same readers as survey data, so the rest of the pipeline cannot tell them
apart. The pixel scale always comes from the image's WCS (:func:`pixel_scale_arcsec`).

:func:`read_kband_image` and :func:`read_star_catalog` also read the files a user gives to
``stellarvae detect IMAGE.fits --catalog TABLE``.
"""
import dataclasses
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from data_prep.surveys import catalogues
from data_prep.base.columns import floats
from data_prep.base.errors import InputError
from data_prep.base.files import write_fits, write_table
from data_prep.base.celestial import pixel_scale_arcsec
from data_prep.base.errors import CorruptFileError
from data_prep.base.fits_reader import celestial_wcs, read_fits_image
from data_prep.surveys.service import CachedImage

SOURCES = ("2mass", "ukidss", "sim")

_RA_NAMES = ("ra", "RA", "RAJ2000", "_RAJ2000", "RA_ICRS", "RAdeg", "ra_deg")
_DEC_NAMES = ("dec", "DEC", "Dec", "DEJ2000", "_DEJ2000", "DE_ICRS", "DEdeg", "dec_deg")
_KMAG_NAMES = ("kmag", "Kmag", "kAperMag3", "K_1AperMag3", "k_m")


@dataclasses.dataclass
class KBandField:
    """One K-band field.

    Attributes
    ----------
    image : numpy.ndarray
        float32, 2-D, as the survey gives it (NaN where there is no data).
    wcs : astropy.wcs.WCS
        Celestial WCS of ``image``.
    stars : astropy.table.Table
        Catalogue stars inside the image: ``ra, dec`` (deg), ``kmag`` (mag).
    truth : astropy.table.Table or None
        Simulated clusters (``ra, dec, radius_arcsec, n_members``); None for survey data.
    image_path : pathlib.Path
        The FITS file the image was read from.
    """

    image: np.ndarray
    wcs: WCS
    stars: Table
    truth: Table | None
    image_path: Path

    @property
    def pixel_scale_arcsec(self):
        """Mean pixel side, arcsec, from the WCS."""
        return pixel_scale_arcsec(self.wcs)


def read_kband_image(path):
    """The 2-D image and celestial WCS of a FITS file (the image may sit in any HDU).

    Raises
    ------
    InputError
        No such file, unreadable or truncated FITS, no 2-D image, no celestial WCS, or an
        image with no data (all NaN or zero).
    """
    data, header = read_fits_image(path)
    return data, celestial_wcs(header)


def _column(table, names):
    """The first of ``names`` that ``table`` has, or None."""
    return next((name for name in names if name in table.colnames), None)


def read_star_catalog(path):
    """Stars from a user's table (ECSV, FITS, VOTable, CSV) with RA/Dec columns in degrees.

    A raw 2MASS PSC table (with ``Rflg``) or UKIDSS source table (with ``mergedClass``) is
    filtered to stars as in StellarVAE §II-C; any other table is taken as a star list.

    Returns
    -------
    astropy.table.Table
        ``ra, dec`` (deg), ``kmag`` (mag, NaN when the table has none).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file; give a star table (ECSV, FITS or VOTable)")
    try:
        table = Table.read(path)  # astropy guesses the format from the suffix or content
    except Exception as error:  # astropy's readers raise many types for a bad file
        raise InputError(f"{path}: not a readable table ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''}); "
                         "give ECSV, FITS or VOTable") from None
    if "Rflg" in table.colnames:
        stars = catalogues.twomass_stars(table)
    elif "mergedClass" in table.colnames:
        stars = catalogues.ukidss_stars(table)
    else:
        ra, dec = _column(table, _RA_NAMES), _column(table, _DEC_NAMES)
        if ra is None or dec is None:
            raise InputError(f"{path}: no RA/Dec columns (have {', '.join(table.colnames)}); "
                             "name them ra and dec, in degrees")
        kmag = _column(table, _KMAG_NAMES)
        try:
            stars = Table({"ra": floats(table[ra]) * u.deg,
                           "dec": floats(table[dec]) * u.deg,
                           "kmag": (floats(table[kmag]) if kmag
                                    else np.full(len(table), np.nan)) * u.mag})
        except ValueError:
            raise InputError(f"{path}: columns {ra}, {dec}{', ' + kmag if kmag else ''} must be "
                             "numbers (RA, Dec in degrees)") from None
    if len(stars) == 0:
        raise InputError(f"{path}: no stars in the table; give a catalogue with at least one star")
    return stars


def _stars_inside(stars, wcs, shape):
    """The rows of ``stars`` that fall on the image."""
    x, y = wcs.world_to_pixel_values(np.asarray(stars["ra"], float),
                                     np.asarray(stars["dec"], float))
    inside = (x >= -0.5) & (x < shape[1] - 0.5) & (y >= -0.5) & (y < shape[0] - 0.5)
    return stars[inside]


def _sim_field_dir(ra_deg, dec_deg, size_arcmin, seed, cache_dir):
    """Cache folder of one simulated field."""
    key = f"{ra_deg:010.6f}{dec_deg:+010.6f}_{size_arcmin:g}arcmin_seed{seed}"
    return Path(cache_dir) / "sim" / "kband" / key


def _simulated_files(ra_deg, dec_deg, size_arcmin, seed, cache_dir):
    """Write (once) and return the image, catalogue and truth files of a simulated field."""
    folder = _sim_field_dir(ra_deg, dec_deg, size_arcmin, seed, cache_dir)
    paths = folder / "image.fits", folder / "catalog.ecsv", folder / "truth.ecsv"
    if all(p.exists() for p in paths):
        try:
            read_fits_image(paths[0])
            return paths
        except CorruptFileError:
            pass  # a damaged cache file is made again below
    from data_prep.sim.star_clusters import simulate_kband_field
    hdu, catalog, truth = simulate_kband_field(ra_deg, dec_deg, size_arcmin, survey="2mass",
                                               seed=seed)
    write_fits(paths[0], fits.HDUList([hdu]))
    write_table(paths[1], catalog)
    write_table(paths[2], truth)
    return paths


def load_kband_field(source, ra_deg, dec_deg, size_arcmin, cache_dir, seed=0, retry=None):
    """A K-band field centred on (ra, dec) from ``source`` (StellarVAE §II).

    Parameters
    ----------
    source : str
        ``"2mass"`` (SkyView 2MASS-K + VizieR II/246/out), ``"ukidss"`` (WSA GPS K image +
        gpsSource) or ``"sim"`` (``data_prep.sim.star_clusters``, 2MASS-like).
    ra_deg, dec_deg : float
        Field centre, ICRS deg.
    size_arcmin : float
        Field side, arcmin.
    cache_dir : path
        Cache root (``data/cache``).
    seed : int
        Simulator seed (``"sim"`` only).
    retry : data_prep.surveys.service.RetryPolicy, optional

    Returns
    -------
    KBandField
    """
    if size_arcmin <= 0:
        raise InputError(f"field size {size_arcmin} arcmin: give a positive size")
    truth = None
    if source == "2mass":
        from data_prep.surveys import skyview, vizier
        image = skyview.twomass_k_image(ra_deg, dec_deg, size_arcmin, cache_dir, retry)
        stars = catalogues.twomass_stars(
            vizier.twomass_sources(ra_deg, dec_deg, size_arcmin, cache_dir, retry))
    elif source == "ukidss":
        from data_prep.surveys import ukidss
        image = ukidss.k_image(ra_deg, dec_deg, size_arcmin, cache_dir, retry)
        stars = catalogues.ukidss_stars(
            ukidss.gps_sources(ra_deg, dec_deg, size_arcmin, cache_dir, retry))
    elif source == "sim":
        image_path, catalog_path, truth_path = _simulated_files(ra_deg, dec_deg, size_arcmin,
                                                                seed, cache_dir)
        image = CachedImage(image_path, *read_fits_image(image_path))
        stars = read_star_catalog(catalog_path)
        truth = Table.read(truth_path, format="ascii.ecsv")
    else:
        raise InputError(f"unknown K-band source {source!r}: use one of {', '.join(SOURCES)}")
    wcs = celestial_wcs(image.header)
    return KBandField(image.data, wcs, _stars_inside(stars, wcs, image.data.shape), truth,
                      Path(image.path))
