"""Where the g, r, i images of a Deep-CEE scan's tiles come from (``deepcee scan --source``).

``sim`` (the offline default)
    The embedded simulator's mock SDSS sky (:class:`data_prep.sim.galaxy_clusters.MockSky`,
    seeded): its clusters are the truth of the survey-level completeness and purity.
``sdss``
    SDSS images from SkyView (:mod:`data_prep.surveys.skyview`, cached under ``--cache``).
``dir:PATH``
    The user's own FITS images: each ``NAME_g.fits``, ``NAME_r.fits``, ``NAME_i.fits`` triplet
    of PATH (``.fit`` and ``.fits.gz`` also) is one tile named NAME; its centre and size come
    from the r band's WCS. A REGION, if given, keeps the triplets whose centre lies in it.

For ``sim`` and ``sdss`` a tile's images are cut at the SDSS pixel scale (0.396"/px), as the
training cutouts were, centred on the tile and as large as the tile; the detector resamples
them to the model's training scale (:func:`deepcee.serving.detect.read_fits_triplet`), so every
source goes through one reading path. The simulator's images are written to a temporary
folder for that and removed with it.
"""
import contextlib
import math
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from astropy.io import fits

from data_prep.base.celestial import pixel_scale_arcsec
from data_prep.base.dask_scan import worker_cache
from data_prep.base.errors import InputError
from data_prep.base.fits_reader import celestial_wcs
from data_prep.base.sky_tiling import Tile
from data_prep.surveys import sdss

KINDS = "sim, sdss or dir:PATH"
SUFFIXES = (".fits", ".fit", ".fits.gz")
_TRIPLET = re.compile(r"^(?P<name>.+)_(?P<band>[gri])(?P<suffix>\.fits|\.fit|\.fits\.gz)$")


@dataclass(frozen=True)
class TileSource:
    """One of the three sources (see the module doc); build it with :func:`tile_source`.

    Attributes
    ----------
    kind : {"sim", "sdss", "dir"}
    folder : str
        The images' folder (``dir``; absolute).
    seed : int
        Seed of the mock sky (``sim``).
    cache : str
        Download cache root (``sdss``; absolute).
    """

    kind: str
    folder: str = ""
    seed: int = 0
    cache: str = ""

    def describe(self):
        """What identifies the images (for the scan's settings)."""
        return {"sim": f"sim (seed {self.seed})", "sdss": "sdss (SkyView)",
                "dir": f"dir:{self.folder}"}[self.kind]

    def folder_tiles(self, region=None):
        """``dir`` sources: one :class:`Tile` per triplet name in the folder, in name order,
        centred on its r image (NaN when that image cannot be read; such a tile fails when
        processed, with the reason); those whose centre lies outside ``region`` are left out."""
        names = {}
        for path in sorted(Path(self.folder).iterdir()):
            match = _TRIPLET.match(path.name)
            if match:
                names.setdefault(match["name"], {})[match["band"]] = path
        tiles = []
        for name, bands in names.items():
            ra, dec, side = _image_geometry(bands.get("r"))
            tile = Tile(name, ra, dec, side)
            if region is None or math.isnan(ra) or bool(region.contains(ra, dec)):
                tiles.append(tile)
        if not tiles:
            where = f" with a centre in {region.text}" if region is not None else ""
            raise InputError(f"--source dir:{self.folder}: no NAME_g/_r/_i.fits triplet{where}; "
                             "name the files like field1_g.fits, field1_r.fits, field1_i.fits")
        return tiles

    @contextlib.contextmanager
    def images(self, tile):
        """The g, r, i FITS files of ``tile``: a dict band -> path, valid inside the block."""
        if self.kind == "dir":
            yield {band: self._folder_file(tile.id, band) for band in sdss.BANDS}
            return
        source = self.survey()
        size_px = int(round(tile.side_deg * 3600.0 / sdss.PIXEL_SCALE_ARCSEC))
        hdus = source.cutout(tile.ra, tile.dec, size_px=size_px,
                             scale_arcsec=sdss.PIXEL_SCALE_ARCSEC)
        with tempfile.TemporaryDirectory(prefix=f"scan-{tile.id}-") as folder:
            paths = {}
            for band in sdss.BANDS:
                paths[band] = Path(folder) / f"{tile.id}_{band}.fits"
                hdus[band].writeto(paths[band])
            yield paths

    def survey(self):
        """``sim`` and ``sdss``: the cluster source whose ``cutout`` gives the images
        (:mod:`data_prep.deepcee_data.cluster_sources`), built once per worker process."""
        from data_prep.deepcee_data.cluster_sources import cluster_source
        return worker_cache(("cluster-source", self.kind, self.seed, self.cache),
                            lambda: cluster_source(self.kind, self.cache, self.seed))

    def _folder_file(self, name, band):
        """The FITS file of band ``band`` of triplet ``name`` (InputError if there is none)."""
        for suffix in SUFFIXES:
            path = Path(self.folder) / f"{name}_{band}{suffix}"
            if path.is_file():
                return path
        raise InputError(f"{Path(self.folder) / name}_{band}.fits: missing; the triplet needs "
                         "its g, r and i images")


def _image_geometry(path):
    """``(ra, dec, side_deg)`` of a FITS image's centre and longer side; NaNs if unreadable."""
    nan = float("nan")
    if path is None:
        return nan, nan, nan
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = fits.getheader(path)
    except (OSError, ValueError, IndexError):
        return nan, nan, nan
    wcs = celestial_wcs(header)
    width, height = header.get("NAXIS1"), header.get("NAXIS2")
    if wcs is None or not width or not height:
        return nan, nan, nan
    centre = wcs.pixel_to_world((width - 1) / 2.0, (height - 1) / 2.0)
    return (float(centre.ra.deg), float(centre.dec.deg),
            max(width, height) * pixel_scale_arcsec(wcs) / 3600.0)


def tile_source(text, seed=0, cache="data/cache"):
    """The source named by ``--source`` text: ``sim``, ``sdss`` or ``dir:PATH``."""
    kind, _, folder = str(text).partition(":")
    if kind in ("sim", "sdss") and not folder:
        return TileSource(kind, seed=int(seed), cache=str(Path(cache).resolve()))
    if kind == "dir":
        path = Path(folder)
        if not folder or not path.is_dir():
            raise InputError(f"--source {text}: no such folder; give dir:PATH, a folder of "
                             "NAME_g.fits, NAME_r.fits, NAME_i.fits images")
        return TileSource("dir", folder=str(path.resolve()))
    raise InputError(f"--source {text}: unknown; use {KINDS}")
