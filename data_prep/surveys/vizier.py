"""VizieR tables through astroquery: Wen et al. (2012), redMaPPer, the 2MASS Point Source Catalog.

The VOTable VizieR sends is stored as it came, under ``<cache_dir>/vizier/``, and parsed the way
astroquery parses it (``astropy.io.votable``, field names over IDs, so ``RL*`` stays ``RL*``).
A stored answer is reused; a corrupt one is fetched again. Requests are retried with back-off
and fail with one line naming VizieR (``data_prep.surveys.service``).
"""
import hashlib
import json
import logging

import astropy.units as u
from astropy.coordinates import SkyCoord

from data_prep.base.errors import InputError
from data_prep.surveys.service import SurveyService

log = logging.getLogger(__name__)

WEN_TABLE = "J/ApJS/199/34/table1"      # Wen, Han & Liu (2012), 132,684 clusters
REDMAPPER_TABLE = "J/ApJ/785/104/table1"  # Rykoff et al. (2014), redMaPPer SDSS DR8 v5.10
TWOMASS_PSC = "II/246/out"               # 2MASS All-Sky Point Source Catalog

# Every column of Wen's table (it has about a dozen): the reader picks the ones it needs by
# name (WHL, RAJ2000, DEJ2000, zph, zsp, rmag, r200, RL*, N200, Other), so a column label
# spelled differently at VizieR cannot make the query itself fail.
WEN_FIELDS = ("**",)
REDMAPPER_FIELDS = ("Name", "RAJ2000", "DEJ2000", "zlambda", "lambda")
TWOMASS_FIELDS = ("RAJ2000", "DEJ2000", "Kmag", "Rflg", "Qflg")


def _cache_name(catalogue, **query):
    """A file name for one query: the catalogue id and a short hash of the query."""
    key = json.dumps(query, sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{catalogue.replace('/', '_')}-{digest}.vot"


def query_table(catalogue, fields, cache_dir, retry=None, center=None, width=None,
                vizier_class=None):
    """A VizieR table (whole, or a box around ``center``), cached.

    Parameters
    ----------
    catalogue : str
        VizieR table id, e.g. ``"J/ApJS/199/34/table1"``.
    fields : sequence of str
        Columns to ask for (VizieR names).
    cache_dir : path
        Cache root (``data/cache``); the VOTable goes to ``cache_dir/vizier/``.
    retry : data_prep.surveys.service.RetryPolicy, optional
    center : astropy.coordinates.SkyCoord, optional
        Box centre; with ``width`` (an angle) only the sources in that box are asked for.
    width : astropy.units.Quantity, optional
    vizier_class : type, optional
        The astroquery class to use (``astroquery.vizier.VizierClass``).

    Returns
    -------
    astropy.table.Table
        All rows (``row_limit=-1``), VizieR column names.
    """
    if vizier_class is None:
        from astroquery.vizier import VizierClass as vizier_class
    service = SurveyService("VizieR", cache_dir, "vizier", retry)
    box = None if center is None else dict(ra=round(float(center.icrs.ra.deg), 6),
                                           dec=round(float(center.icrs.dec.deg), 6),
                                           width_arcmin=round(float(width.to_value(u.arcmin)), 4))
    path = service.path(_cache_name(catalogue, fields=list(fields), box=box))
    what = catalogue if box is None else f"{catalogue} around {box['ra']}, {box['dec']}"

    def request():
        vizier = vizier_class(columns=list(fields), row_limit=-1,
                              timeout=service.retry.timeout_s)
        if center is None:
            response = vizier.get_catalogs_async(catalogue)
        else:
            response = vizier.query_region_async(center, width=width, catalog=catalogue,
                                                 cache=False)
        response.raise_for_status()
        return response.content

    return service.cached_votable(path, request, what)


def wen_clusters(cache_dir, retry=None):
    """The whole Wen et al. (2012) cluster table (raw columns, Deep-CEE §2.2)."""
    return query_table(WEN_TABLE, WEN_FIELDS, cache_dir, retry)


def redmapper_clusters(cache_dir, retry=None):
    """The whole redMaPPer SDSS DR8 cluster table (raw columns, Deep-CEE §3.2)."""
    return query_table(REDMAPPER_TABLE, REDMAPPER_FIELDS, cache_dir, retry)


def twomass_sources(ra_deg, dec_deg, size_arcmin, cache_dir, retry=None):
    """2MASS PSC sources in a ``size_arcmin`` box around (ra, dec) (raw columns, StellarVAE §II-B)."""
    if size_arcmin <= 0:
        raise InputError(f"field size {size_arcmin} arcmin: give a positive size")
    return query_table(TWOMASS_PSC, TWOMASS_FIELDS, cache_dir, retry,
                       center=SkyCoord(ra_deg * u.deg, dec_deg * u.deg),
                       width=size_arcmin * u.arcmin)
