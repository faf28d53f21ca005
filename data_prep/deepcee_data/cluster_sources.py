"""Where Deep-CEE's clusters and images come from: the real surveys or the embedded simulator.

``cluster_source("sdss", ...)`` reads Wen et al. (2012) and redMaPPer from VizieR and SDSS
g, r, i images from SkyView; ``cluster_source("sim", ...)`` takes the same raw tables and the
images from ``data_prep.sim.galaxy_clusters.MockSky``. Both go through the same selections
(``data_prep.surveys.catalogues``), so everything downstream runs identically on either.
"""
from data_prep.surveys import catalogues
from data_prep.base.errors import InputError

SOURCES = ("sdss", "sim")


class SdssClusterSource:
    """Wen et al. (2012) and redMaPPer from VizieR, SDSS images from SkyView (Deep-CEE §2.2).

    Parameters
    ----------
    cache_dir : path
        Cache root (``data/cache``): VOTables in ``vizier/``, FITS in ``skyview/``.
    retry : data_prep.surveys.service.RetryPolicy, optional
    """

    name = "sdss"

    def __init__(self, cache_dir, retry=None):
        self.cache_dir = cache_dir
        self.retry = retry

    def paper_sample(self):
        """The Abell clusters of Wen et al. with the paper's cuts, and the per-cut row report."""
        from data_prep.surveys import vizier
        return catalogues.paper_sample(vizier.wen_clusters(self.cache_dir, self.retry))

    def redmapper_sample(self, exclude):
        """redMaPPer clusters, 0.1 < z < 0.2, in a 105 deg^2 region free of ``exclude`` clusters."""
        from data_prep.surveys import vizier
        clusters, _ = catalogues.redmapper_unseen(
            vizier.redmapper_clusters(self.cache_dir, self.retry), exclude)
        return clusters

    def cutout(self, ra, dec, size_px=2000, scale_arcsec=0.396, bands=("g", "r", "i")):
        """SDSS cutouts (band -> PrimaryHDU, TAN WCS) centred on (ra, dec) deg."""
        from data_prep.surveys import skyview
        return skyview.sdss_cutout(ra, dec, self.cache_dir, size_px, scale_arcsec, bands,
                                   self.retry)


class SimClusterSource:
    """The embedded simulator's mock sky, read through the same selections as the surveys.

    Parameters
    ----------
    cache_dir : path
        Unused: the simulator renders each cutout on demand.
    seed : int
        Seed of the mock sky; the same seed gives the same catalogues and images.
    look : data_prep.sim.looks.Look, optional
        Ranges of the per-image look (default: the fixed, paper-like look).
    """

    name = "sim"
    #: Rendering a cutout takes about as long as reading it back, and a paper-sized cutout
    #: (3 bands x 2000 x 2000 float32) is 48 MB, so the data set builder deletes each
    #: simulated cutout once it is encoded (250 clusters would otherwise leave 49 GB).
    keep_cutouts = False

    def __init__(self, cache_dir=None, seed=0, look=None):
        from data_prep.sim.galaxy_clusters import MockSky
        self.cache_dir = cache_dir
        self.sky = MockSky(seed=seed, look=look)

    def paper_sample(self):
        """The mock Wen table through the paper's cuts, and the per-cut row report."""
        return catalogues.paper_sample(self.sky.wen_table())

    def redmapper_sample(self, exclude):
        """The mock redMaPPer table through the same unseen-region selection as the real one."""
        clusters, _ = catalogues.redmapper_unseen(self.sky.redmapper_table(), exclude)
        return clusters

    def cutout(self, ra, dec, size_px=2000, scale_arcsec=0.396, bands=("g", "r", "i")):
        """Simulated cutouts (band -> PrimaryHDU, TAN WCS) centred on (ra, dec) deg."""
        return self.sky.cutout(ra, dec, size_px=size_px, scale_arcsec=scale_arcsec, bands=bands)


def cluster_source(name, cache_dir, seed=0, retry=None, look=None):
    """The cluster source called ``name`` (``"sdss"`` or ``"sim"``).

    Parameters
    ----------
    name : str
    cache_dir : path
        Cache root (``data/cache``).
    seed : int
        Simulator seed (``"sim"`` only).
    retry : data_prep.surveys.service.RetryPolicy, optional
        Retry policy of the survey services (``"sdss"`` only).
    look : data_prep.sim.looks.Look, optional
        The simulator's per-image look (``"sim"`` only; ``deepcee tfrecords`` refuses it with
        another source).
    """
    if name == "sdss":
        return SdssClusterSource(cache_dir, retry)
    if name == "sim":
        return SimClusterSource(cache_dir, seed, look)
    raise InputError(f"unknown cluster source {name!r}: use one of {', '.join(SOURCES)}")
