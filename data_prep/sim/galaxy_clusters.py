"""``MockSky``: a mock SDSS sky of galaxy clusters, its catalogues and its g, r, i cutouts
(Deep-CEE §2.2; ``SOURCE=sim``).

The sky is a function of the seed. Clusters come from ``cluster_catalogue.mock_universe``;
each cluster's galaxies are drawn from a generator seeded by (seed, cluster), and field
galaxies and stars from generators seeded by (seed, sky cell) on a fixed grid of 0.1 deg
cells, so overlapping cutouts show the same sky and the same position always gives the same
bytes. Members of a cluster: the BCG at the catalogue position; N200 - 1 further galaxies
with M_r <= -21 (the N200 definition of Wen et al. 2012) and the fainter members that a
Schechter function adds down to r = 22.5; 80 % red sequence; positions from an NFW profile
(concentration 4) truncated at r200 and projected.

With a :class:`~data_prep.sim.looks.Look`, each cutout draws its own seeing, PSF wings, depth,
residual sky, band calibration, red-sequence colours, galaxy sizes, member concentration (and
the builder its stretch) from the look's ranges, seeded by the cutout's centre and size; the
drawn values are written in its header (``LOOK*`` cards).
"""
from dataclasses import replace

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from data_prep.base.errors import InputError
from data_prep.sim.cluster_catalogue import (Z_RANGE, box_area_deg2, mock_universe,
                                             redmapper_table, uniform_in_box, wen_table)
from data_prep.sim.difficulty import ClusterDifficulty
from data_prep.sim.fits_image import tan_wcs
from data_prep.sim.galaxies import (N200_MAGNITUDE_LIMIT, SourceList, absolute_r,
                                    cluster_member_sources, field_galaxy_density,
                                    field_galaxy_sources, sample_schechter,
                                    schechter_count_ratio)
from data_prep.sim.sdss import (BANDS, SdssCamera, sky_sigma_nmgy, star_density_per_deg2,
                                star_sources)

CELL_DEG = 0.1
FAINTEST_RMAG = 22.5           # faintest galaxy drawn (SDSS r 5-sigma depth ~22.7)
FAINTEST_STAR_RMAG = 23.0
BRIGHTEST_FIELD_RMAG = 14.0
BRIGHTEST_STAR_RMAG = 12.0
FAINTEST_MEMBER_ABS_R = -17.0
NFW_CONCENTRATION = 4.0
RED_MEMBER_FRACTION = 0.8
_STREAM = {"universe": 0, "members": 1, "galaxies": 2, "stars": 3, "noise": 4, "look": 5}


def nfw_projected_radii(rng, n, concentration):
    """``n`` projected radii (units of r200) of points of a 3-D NFW profile cut at r200.

    The enclosed mass m(x) = ln(1 + x) - x / (1 + x) (x = r / r_s) is inverted on a grid;
    the projection takes a random direction (cos(theta) uniform).
    """
    x = np.linspace(0.0, concentration, 2048)
    mass = np.log1p(x) - x / (1.0 + x)
    radius = np.interp(rng.uniform(0.0, mass[-1], n), mass, x) / concentration
    return radius * np.sqrt(1.0 - rng.uniform(-1.0, 1.0, n) ** 2)


def offset_positions(ra0, dec0, dx_deg, dy_deg):
    """Positions (deg) at small tangent-plane offsets east ``dx_deg`` and north ``dy_deg``."""
    dec = dec0 + dy_deg
    return (ra0 + dx_deg / np.cos(np.radians(dec))) % 360.0, dec


def angular_separation_deg(ra0, dec0, ra, dec):
    """Great-circle separation (deg) of (ra, dec) arrays from one point (haversine)."""
    ra0, dec0, ra, dec = map(np.radians, (ra0, dec0, ra, dec))
    h = (np.sin((dec - dec0) / 2) ** 2
         + np.cos(dec0) * np.cos(dec) * np.sin((ra - ra0) / 2) ** 2)
    return np.degrees(2.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def sky_cells(ra_deg, dec_deg, radius_deg):
    """(i_dec, i_ra, n_ra) of the 0.1 deg sky cells within ``radius_deg`` of (ra, dec).

    Rows of constant Dec are ``CELL_DEG`` high; row ``i_dec`` is cut into ``n_ra`` equal RA
    cells about ``CELL_DEG`` wide at its centre.
    """
    cells = []
    n_rows = int(round(180.0 / CELL_DEG))
    low = int(np.floor((dec_deg - radius_deg + 90.0) / CELL_DEG))
    high = int(np.floor((dec_deg + radius_deg + 90.0) / CELL_DEG))
    for i_dec in range(max(low, 0), min(high, n_rows - 1) + 1):
        row_low, row_high = i_dec * CELL_DEG - 90.0, (i_dec + 1) * CELL_DEG - 90.0
        n_ra = max(int(360.0 * np.cos(np.radians(0.5 * (row_low + row_high))) / CELL_DEG), 1)
        width = 360.0 / n_ra
        widest = np.cos(np.radians(max(abs(row_low), abs(row_high))))
        half = radius_deg / widest if widest > radius_deg / 180.0 else 180.0
        if half >= 180.0:
            columns = range(n_ra)
        else:
            first = int(np.floor((ra_deg - half) / width))
            columns = sorted({i % n_ra for i in range(first, int(np.floor((ra_deg + half)
                                                                          / width)) + 1)})
        cells += [(i_dec, i_ra, n_ra) for i_ra in columns]
    return cells


class MockSky:
    """A deterministic mock SDSS sky with Wen et al. and redMaPPer clusters.

    Parameters
    ----------
    seed : int
        Seed of the whole sky (>= 0).
    difficulty : ClusterDifficulty
        Seeing, noise, crowding, richness, redshift and cluster-free knobs.
    look : data_prep.sim.looks.Look or None
        Ranges from which each cutout draws its look; None: the difficulty's fixed look.
    """

    def __init__(self, seed=0, difficulty=ClusterDifficulty(), look=None):
        if int(seed) < 0:
            raise InputError(f"simulator seed {seed} is negative: give a seed >= 0")
        if difficulty.redshift is not None and not Z_RANGE[0] <= difficulty.redshift <= Z_RANGE[1]:
            raise InputError(f"ClusterDifficulty.redshift={difficulty.redshift} is outside "
                             f"{Z_RANGE[0]}-{Z_RANGE[1]}: choose a redshift in that range")
        self.seed = int(seed)
        self.difficulty = difficulty
        self.look = look
        self._universe = mock_universe(self._rng("universe"), difficulty.richness_scale,
                                       difficulty.redshift)
        self._cameras = {}

    def _rng(self, stream, *key):
        """A generator for one named random stream and integer ``key`` of this sky."""
        return np.random.default_rng([self.seed, _STREAM[stream], *key])

    def wen_table(self):
        """The raw mock Wen et al. (2012) catalogue (VizieR J/ApJS/199/34 columns).

        Columns WHL, RAJ2000, DEJ2000 (deg), zph, zsp (NaN without a spectrum), rmag (BCG r,
        mag), r200 (Mpc), RL*, N200, Other ('A1234' for an Abell counterpart, else '').
        """
        return wen_table(self._universe)

    def redmapper_table(self):
        """The raw mock redMaPPer catalogue (Name, RAJ2000, DEJ2000, zlambda, lambda) in the
        unseen region ``cluster_catalogue.UNSEEN_REGION``."""
        return redmapper_table(self._universe)

    def truth_table(self):
        """Every mock cluster with its true properties (see ``mock_universe``)."""
        return self._universe.copy()

    def _cluster_index(self, name):
        """Row of mock cluster ``name`` in the truth table."""
        matches = np.nonzero(self._universe["name"] == name)[0]
        if len(matches) == 0:
            raise InputError(f"no mock cluster named '{name}': use a name from truth_table()")
        return int(matches[0])

    def _member_sources(self, index, concentration=NFW_CONCENTRATION):
        """SourceList of cluster ``index`` (BCG first) and the flags of N200 members."""
        row = self._universe[index]
        rng = self._rng("members", index)
        z, n200 = float(row["z"]), int(row["n200"])
        bcg_abs = float(absolute_r(row["bcg_rmag"], z))
        brightest = min(bcg_abs + 0.2, N200_MAGNITUDE_LIMIT - 0.05)
        faintest = min(absolute_r(FAINTEST_RMAG, z), FAINTEST_MEMBER_ABS_R)
        n_faint = int(round((n200 - 1) * schechter_count_ratio(brightest, N200_MAGNITUDE_LIMIT,
                                                               faintest)))
        absolute = np.concatenate([[bcg_abs],
                                   sample_schechter(rng, n200 - 1, brightest,
                                                    N200_MAGNITUDE_LIMIT),
                                   sample_schechter(rng, n_faint, N200_MAGNITUDE_LIMIT,
                                                    faintest)])
        n = len(absolute)
        radius_deg = nfw_projected_radii(rng, n, concentration) * row["r200_arcsec"] / 3600
        radius_deg[0] = 0.0
        angle = rng.uniform(0.0, 2.0 * np.pi, n)
        ra, dec = offset_positions(row["ra"], row["dec"], radius_deg * np.cos(angle),
                                   radius_deg * np.sin(angle))
        red = rng.uniform(0.0, 1.0, n) < RED_MEMBER_FRACTION
        red[0] = True
        sources = cluster_member_sources(rng, ra, dec, absolute, z, red)
        return sources, absolute <= N200_MAGNITUDE_LIMIT

    def members(self, name):
        """The galaxies of mock cluster ``name``.

        Returns
        -------
        astropy.table.Table
            ra, dec (deg), gmag, rmag, imag (AB), red (bool), in_n200 (bool: M_r <= -21,
            counted in N200), bcg (bool, the first row).
        """
        sources, in_n200 = self._member_sources(self._cluster_index(name))
        mags = sources.band_mags()
        bcg = np.zeros(len(sources), bool)
        bcg[0] = True
        return Table(dict(ra=sources.ra, dec=sources.dec, gmag=mags["g"], rmag=mags["r"],
                          imag=mags["i"], red=sources.sersic_n == 4, in_n200=in_n200, bcg=bcg))

    def _field_sources(self, ra_deg, dec_deg, radius_deg):
        """Field galaxies and stars of the sky cells within ``radius_deg`` of (ra, dec)."""
        cells = sky_cells(ra_deg, dec_deg, radius_deg)
        centres_dec = [(i_dec + 0.5) * CELL_DEG - 90.0 for i_dec, _, _ in cells]
        centres_ra = [(i_ra + 0.5) * 360.0 / n_ra for _, i_ra, n_ra in cells]
        galactic_b = SkyCoord(centres_ra, centres_dec, unit="deg").galactic.b.deg
        scale = self.difficulty.field_density_scale
        galaxy_density = scale * field_galaxy_density(BRIGHTEST_FIELD_RMAG, FAINTEST_RMAG)
        parts = []
        for (i_dec, i_ra, n_ra), b in zip(cells, galactic_b):
            dec0, dec1 = i_dec * CELL_DEG - 90.0, (i_dec + 1) * CELL_DEG - 90.0
            ra0, ra1 = i_ra * 360.0 / n_ra, (i_ra + 1) * 360.0 / n_ra
            area = box_area_deg2(ra0, ra1, dec0, dec1)
            for stream, density, make, bright, faint in (
                    ("galaxies", galaxy_density, field_galaxy_sources,
                     BRIGHTEST_FIELD_RMAG, FAINTEST_RMAG),
                    ("stars", scale * star_density_per_deg2(b, BRIGHTEST_STAR_RMAG,
                                                            FAINTEST_STAR_RMAG),
                     star_sources, BRIGHTEST_STAR_RMAG, FAINTEST_STAR_RMAG)):
                rng = self._rng(stream, i_dec, i_ra)
                n = rng.poisson(density * area)
                ra, dec = uniform_in_box(rng, n, ra0, ra1, dec0, dec1)
                parts.append(make(rng, ra, dec, bright, faint))
        return parts

    def _camera(self, scale_arcsec, seeing_fwhm_arcsec=None, psf_beta=3.5):
        """The SDSS camera (with its stamp banks) for a pixel scale, seeing and PSF (default:
        the difficulty's), built once."""
        key = (scale_arcsec, seeing_fwhm_arcsec or self.difficulty.seeing_fwhm_arcsec, psf_beta)
        if key not in self._cameras:
            self._cameras[key] = SdssCamera(key[0], key[1], self.difficulty.noise_scale, key[2])
        return self._cameras[key]

    def cutout(self, ra_deg, dec_deg, size_px=2000, scale_arcsec=0.396, bands=BANDS):
        """SDSS-like images of the mock sky centred on (ra, dec), like SkyView's SDSS cutouts.

        Parameters
        ----------
        ra_deg, dec_deg : float
            Cutout centre (deg).
        size_px : int
            Width and height (pixels), 16 to 8192.
        scale_arcsec : float
            Pixel scale (arcsec / pixel).
        bands : sequence of str
            Any of "g", "r", "i".

        Returns
        -------
        dict
            band -> astropy.io.fits.PrimaryHDU: float32 nanomaggies, TAN WCS with CRVAL at
            (ra, dec) and CRPIX at the centre, SURVEY / FILTER / BUNIT cards. Every cluster
            (unless ``cluster_free``) whose members fall in the field, field galaxies, stars.
        """
        unknown = sorted(set(bands) - set(BANDS))
        if unknown:
            raise InputError(f"mock SDSS cutout: unknown band(s) {unknown}: use g, r, i")
        if not 16 <= int(size_px) <= 8192 or not scale_arcsec > 0:
            raise InputError(f"mock SDSS cutout: size_px={size_px}, scale={scale_arcsec}: "
                             "use 16 to 8192 pixels and a positive scale")
        if not -90.0 <= dec_deg <= 90.0:
            raise InputError(f"mock SDSS cutout: Dec {dec_deg} is outside -90..90 deg")
        size_px = int(size_px)
        wcs = tan_wcs(ra_deg, dec_deg, size_px, scale_arcsec)
        half_diagonal_deg = size_px * scale_arcsec / 3600.0 / np.sqrt(2.0) + 30.0 / 3600.0
        parts = self._field_sources(ra_deg, dec_deg, half_diagonal_deg)
        key = (int(round((ra_deg % 360.0) * 1e6)), int(round((dec_deg + 90.0) * 1e6)), size_px,
               int(round(scale_arcsec * 1e6)))
        look = None if self.look is None else self.look.draw(self._rng("look", *key))
        concentration = NFW_CONCENTRATION if look is None else look["nfw_concentration"]
        if not self.difficulty.cluster_free:
            separation = angular_separation_deg(ra_deg, dec_deg, self._universe["ra"],
                                                self._universe["dec"])
            near = separation < half_diagonal_deg + self._universe["r200_arcsec"] / 3600.0
            parts += [self._member_sources(index, concentration)[0]
                      for index in np.nonzero(near)[0]]
        sources = SourceList.concatenate(parts)
        if look is not None:
            sources = with_look(sources, look)
        x, y = wcs.wcs_world2pix(sources.ra, sources.dec, 0)
        margin = 100  # pixels: sources just outside still shine in with their wings
        # The TAN projection also maps the far hemisphere onto the plane: keep the near one.
        inside = ((x > -margin) & (x < size_px + margin) & (y > -margin) & (y < size_px + margin)
                  & (angular_separation_deg(ra_deg, dec_deg, sources.ra, sources.dec) < 90.0))
        cards = [("SIMSEED", self.seed, "data_prep.sim MockSky seed"),
                 ("ORIGIN", "data_prep.sim", "simulated, not observed")]
        if look is None:
            camera, noise_scale = self._camera(scale_arcsec), None
        else:  # cameras on a grid of seeing and beta values, so that a few banks serve all
            camera = self._camera(scale_arcsec, round(look["seeing_fwhm_arcsec"] * 20) / 20,
                                  round(look["psf_beta"] * 4) / 4)
            noise_scale = look["noise_scale"]
        hdus = camera.render(sources.select(inside), wcs, size_px, self._rng("noise", *key),
                             cards, noise_scale)
        if look is not None:
            for k, band in enumerate(BANDS):
                apply_sky_and_gain(hdus[band], look, k,
                                   noise_scale * sky_sigma_nmgy(band, scale_arcsec),
                                   self._rng("look", *key, k))
        return {band: hdus[band] for band in bands}


def with_look(sources, look):
    """``sources`` with the look's galaxy sizes and red-sequence colours (early types)."""
    galaxy, early = sources.sersic_n > 0, sources.sersic_n == 4
    return replace(sources,
                   hlr_arcsec=np.where(galaxy, sources.hlr_arcsec * look["galaxy_size_scale"],
                                       sources.hlr_arcsec),
                   g_r=sources.g_r + early * look["red_sequence_g_r_offset"],
                   r_i=sources.r_i + early * look["red_sequence_r_i_offset"])


def apply_sky_and_gain(hdu, look, band_index, sky_sigma, rng):
    """Multiply one band by its calibration gain and add the residual sky (a level and a
    linear gradient in a random direction, in units of ``sky_sigma``); record the look in the
    header."""
    size = hdu.data.shape[0]
    angle = rng.uniform(0.0, 2.0 * np.pi)
    ramp = ((np.arange(size) / max(size - 1, 1) - 0.5)[None, :] * np.cos(angle)
            + (np.arange(size) / max(size - 1, 1) - 0.5)[:, None] * np.sin(angle))
    sky = sky_sigma * (look["sky_offset_sigma"] + look["sky_gradient_sigma"] * ramp)
    gain = look[f"{BANDS[band_index]}_gain"]
    hdu.data = (gain * (hdu.data + sky)).astype(np.float32)
    hdu.header["LOOKGAIN"] = (round(gain, 4), "calibration gain of this band (look)")
    hdu.header["LOOKSKY"] = (round(float(look["sky_offset_sigma"]), 3),
                             "residual sky level, sky sigma (look)")
    hdu.header["LOOKSIZE"] = (round(float(look["galaxy_size_scale"]), 3),
                              "galaxy size scale (look)")
    hdu.header["LOOKGR"] = (round(float(look["red_sequence_g_r_offset"]), 3),
                            "red-sequence g-r offset, mag (look)")
