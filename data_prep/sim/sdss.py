"""An SDSS-like imaging camera and its high-latitude star field, rendering g, r, i images in
nanomaggies as SkyView serves SDSS DR9 (Deep-CEE §2.2).

Per band: flux zero point 22.5 mag for 1 nanomaggy; sky brightness (mag / arcsec^2) of dark
SDSS imaging; gain in electrons per nanomaggy from the frames' nMgyPerCount and the CCD gains;
saturation at about 55,000 counts (bright stars saturate near r = 14). Images are
sky-subtracted, as the SDSS corrected frames are. One PSF (a Moffat profile) serves the three
bands of a field.
"""
import galsim
import numpy as np

from data_prep.sim.fits_image import image_hdu
from data_prep.sim.galaxies import SourceList, galaxy_profile, power_law_mags
from data_prep.sim.render import (StampBank, add_noise, add_stamp, bleed, diffraction_spikes,
                                  draw_stamp, odd_stamp_size, psf_profile, saturate)

BANDS = ("g", "r", "i")
ZERO_POINT = 22.5
SKY_MAG_ARCSEC2 = {"g": 22.0, "r": 20.9, "i": 20.2}
ELECTRONS_PER_NMGY = {"g": 890.0, "r": 940.0, "i": 750.0}
SATURATION_NMGY = {"g": 200.0, "r": 275.0, "i": 370.0}
INDIVIDUAL_GALAXY_RMAG = 19.0    # brighter galaxies get their own GalSim drawing
INDIVIDUAL_STAR_RMAG = 17.0      # brighter stars get a large stamp (wings, saturation)
SPIKE_FRACTION = 0.01            # flux of a bright star in its diffraction spikes
BANK_HLR_ARCSEC = np.geomspace(0.15, 2.0, 8)
BANK_AXIS_RATIO = (0.35, 0.65, 0.95)
BANK_ANGLE_DEG = (0.0, 45.0, 90.0, 135.0)


def flux_nmgy(mag):
    """Flux (nanomaggies) of an AB magnitude: 10^(-0.4 (mag - 22.5))."""
    return 10.0 ** (-0.4 * (np.asarray(mag, float) - ZERO_POINT))


def sky_sigma_nmgy(band, scale_arcsec):
    """Per-pixel standard deviation (nanomaggies) of the sky-subtracted background in ``band``.

    The sky's electrons per pixel set the Poisson variance; read noise is negligible.
    """
    sky_nmgy = flux_nmgy(SKY_MAG_ARCSEC2[band]) * scale_arcsec ** 2
    return np.sqrt(sky_nmgy * ELECTRONS_PER_NMGY[band]) / ELECTRONS_PER_NMGY[band]


def star_density_per_deg2(galactic_b_deg, m_bright, m_faint):
    """Stars per deg^2 with r in [m_bright, m_faint] at Galactic latitude b (deg).

    dN/dm = 400 x 10^(0.15 (r - 20)) per deg^2 per mag at |b| = 60 deg, scaling as
    1 / sin|b| (|b| >= 15 deg): the SDSS high-latitude star counts to ~20 %.
    """
    norm = 400.0 / (0.15 * np.log(10.0))
    counts = norm * (10.0 ** (0.15 * (m_faint - 20.0)) - 10.0 ** (0.15 * (m_bright - 20.0)))
    return counts * np.sin(np.radians(60.0)) / np.sin(np.radians(max(abs(galactic_b_deg), 15.0)))


def star_sources(rng, ra, dec, m_bright, m_faint):
    """Stars at (ra, dec): r from the counts' slope, colours of halo turn-off stars (60 %)
    and disc K/M dwarfs (40 %)."""
    n = len(ra)
    rmag = power_law_mags(rng, n, 0.15, m_bright, m_faint)
    dwarf = rng.uniform(0.0, 1.0, n) < 0.4
    g_r = np.where(dwarf, rng.uniform(0.6, 1.5, n), rng.normal(0.35, 0.1, n))
    r_i = np.where(g_r > 1.3, 0.5 + 2.0 * (g_r - 1.3), 0.4 * g_r - 0.05) + rng.normal(0, 0.03, n)
    zeros = np.zeros(n)
    return SourceList(ra=ra, dec=dec, rmag=rmag, g_r=g_r, r_i=r_i, sersic_n=zeros.astype(int),
                      hlr_arcsec=zeros, axis_ratio=np.ones(n), angle_deg=zeros)


class SdssCamera:
    """Renders source lists into SDSS-like g, r, i cutouts.

    Parameters
    ----------
    scale_arcsec : float
        Pixel scale (arcsec / pixel); SDSS 0.396.
    seeing_fwhm_arcsec : float
        PSF FWHM (arcsec).
    noise_scale : float
        Multiplies the per-pixel noise standard deviation.
    psf_beta : float
        Moffat index of the PSF (``render.psf_profile``).

    Faint galaxies (r >= 19, half-light radius <= 2 arcsec) are drawn from a bank of shapes
    made once per camera (8 sizes x 3 axis ratios x 4 angles x 2 profiles) and placed at the
    nearest pixel; faint stars from a point-source bank at 5 x 5 sub-pixel offsets; bright or
    large galaxies and bright stars one by one with GalSim.
    """

    def __init__(self, scale_arcsec, seeing_fwhm_arcsec, noise_scale=1.0, psf_beta=3.5):
        self.scale = scale_arcsec
        self.noise_scale = noise_scale
        self.psf = psf_profile(seeing_fwhm_arcsec, psf_beta)
        psf_radius_px = 3.0 * seeing_fwhm_arcsec / scale_arcsec
        self.stars = StampBank.point_sources(self.psf, scale_arcsec, odd_stamp_size(psf_radius_px))
        self._bank_keys = [(n, h, q, a) for n in (1, 4) for h in BANK_HLR_ARCSEC
                           for q in BANK_AXIS_RATIO for a in BANK_ANGLE_DEG]
        self.galaxies = StampBank.shapes(
            [galaxy_profile(*key) for key in self._bank_keys], self.psf, scale_arcsec,
            [odd_stamp_size(psf_radius_px + 4.0 * hlr / scale_arcsec)
             for _, hlr, _, _ in self._bank_keys])

    def _bank_template(self, sources):
        """Index of the bank shape nearest each galaxy (log size, axis ratio, angle)."""
        i_n = (sources.sersic_n == 4).astype(int)
        i_h = np.abs(np.log(sources.hlr_arcsec[:, None] / BANK_HLR_ARCSEC)).argmin(axis=1)
        i_q = np.abs(sources.axis_ratio[:, None] - np.array(BANK_AXIS_RATIO)).argmin(axis=1)
        i_a = np.rint((sources.angle_deg % 180.0) / 45.0).astype(int) % 4
        n_q, n_a = len(BANK_AXIS_RATIO), len(BANK_ANGLE_DEG)
        return ((i_n * len(BANK_HLR_ARCSEC) + i_h) * n_q + i_q) * n_a + i_a

    def _draw_one(self, canvases, source, x, y, fluxes):
        """Draw one bright source with GalSim at its exact sub-pixel position; a star gets
        diffraction spikes (``SPIKE_FRACTION`` of its flux)."""
        ix, iy = int(np.rint(x)), int(np.rint(y))
        if source.sersic_n[0] == 0:
            profile, extent = self.psf, 0.0
        else:
            profile = galsim.Convolve(galaxy_profile(source.sersic_n[0], source.hlr_arcsec[0],
                                                     source.axis_ratio[0], source.angle_deg[0]),
                                      self.psf)
            extent = (8.0 if source.sersic_n[0] == 4 else 5.0) * source.hlr_arcsec[0]
        # A star's stamp grows with sqrt(flux) so that bright stars keep their wings and spikes.
        wing = 0.6 * np.sqrt(fluxes.max()) if source.sersic_n[0] == 0 else 0.0
        radius_px = (extent + 3.0 * self.psf.fwhm) / self.scale + wing
        size = odd_stamp_size(radius_px, 15, 401)
        stamp = draw_stamp(profile, self.scale, size, (x - ix, y - iy))
        if source.sersic_n[0] == 0:
            fwhm_px = self.psf.fwhm / self.scale
            stamp = ((1.0 - SPIKE_FRACTION) * stamp
                     + SPIKE_FRACTION * diffraction_spikes(size, 0.25 * fwhm_px, 3.0 * fwhm_px))
        add_stamp(canvases, stamp, ix, iy, fluxes)

    def render(self, sources, wcs, size_px, rng, header_cards, noise_scale=None):
        """Images of ``sources`` on the grid of ``wcs``.

        Parameters
        ----------
        sources : SourceList
        wcs : astropy.wcs.WCS
            TAN WCS of the cutout (see ``fits_image.tan_wcs``).
        size_px : int
            Cutout width and height (pixels).
        rng : numpy.random.Generator
            Seeded generator for the noise.
        header_cards : list of tuple
            Extra (keyword, value, comment) cards for every band.
        noise_scale : float, optional
            This image's noise scale (default: the camera's).

        Returns
        -------
        dict
            band -> astropy.io.fits.PrimaryHDU, float32 nanomaggies.
        """
        x, y = wcs.wcs_world2pix(sources.ra, sources.dec, 0)
        mags = sources.band_mags()
        fluxes = np.stack([flux_nmgy(mags[band]) for band in BANDS])
        canvases = [np.zeros((size_px, size_px), np.float32) for _ in BANDS]
        star = sources.sersic_n == 0
        one_by_one = np.where(star, sources.rmag < INDIVIDUAL_STAR_RMAG,
                              (sources.rmag < INDIVIDUAL_GALAXY_RMAG)
                              | (sources.hlr_arcsec > BANK_HLR_ARCSEC[-1]))
        for k in np.nonzero(one_by_one)[0]:
            self._draw_one(canvases, sources.select([k]), x[k], y[k], fluxes[:, k])
        faint_star = star & ~one_by_one
        self.stars.add(canvases, x[faint_star], y[faint_star], fluxes[:, faint_star])
        faint_galaxy = ~star & ~one_by_one
        self.galaxies.add(canvases, x[faint_galaxy], y[faint_galaxy], fluxes[:, faint_galaxy],
                          template=self._bank_template(sources.select(faint_galaxy)))
        hdus = {}
        noise_scale = self.noise_scale if noise_scale is None else noise_scale
        for band, canvas in zip(BANDS, canvases):
            bleed(canvas, SATURATION_NMGY[band])
            add_noise(canvas, noise_scale * sky_sigma_nmgy(band, self.scale),
                      ELECTRONS_PER_NMGY[band] / noise_scale ** 2, rng)
            saturate(canvas, SATURATION_NMGY[band])
            cards = [("SURVEY", f"SDSS{band}", "simulated SDSS DR9-like image"),
                     ("FILTER", band, "SDSS filter"),
                     ("BUNIT", "nanomaggy", "flux unit: 1 nmgy = 22.5 AB mag"),
                     ("MAGZP", ZERO_POINT, "AB magnitude of 1 image unit"),
                     ("SEEING", self.psf.fwhm, "PSF FWHM (arcsec)"),
                     ("SATURATE", SATURATION_NMGY[band], "saturation level (nmgy)")]
            hdus[band] = image_hdu(canvas, wcs, cards + list(header_cards))
        return hdus
