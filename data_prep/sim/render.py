"""Rendering on numpy canvases: GalSim stamps, stamp banks, noise and saturation.

GalSim draws each profile, convolved with the PSF, into a small odd-sized stamp (no photon
shooting); stamps are added onto float32 canvases at their pixel positions. Many sources share
a stamp: a point source is a PSF image drawn at the nearest of a grid of sub-pixel offsets, a
faint galaxy one of a bank of templates. One stamp serves all bands of a multi-band image
(the bands differ in flux only). Pixel indices are 0-based with pixel centres on integers; a
stamp is centred on the pixel nearest the source.
"""
import galsim
import numpy as np


def psf_profile(fwhm_arcsec, beta=3.5):
    """Ground-based seeing PSF: a Moffat profile (beta = 3.5) of unit flux.

    Parameters
    ----------
    fwhm_arcsec : float
        Full width at half maximum (arcsec).
    beta : float
        Moffat index (Racine 1996: 3 to 4.5 for atmospheric seeing).
    """
    return galsim.Moffat(beta=beta, fwhm=fwhm_arcsec)


def odd_stamp_size(radius_px, smallest=9, largest=255):
    """An odd stamp width (pixels) that holds a source out to ``radius_px`` from its centre."""
    half = int(np.clip(np.ceil(radius_px), (smallest - 1) // 2, (largest - 1) // 2))
    return 2 * half + 1


def draw_stamp(profile, scale_arcsec, size_px, offset_px=(0.0, 0.0)):
    """Draw a unit-flux GalSim profile (already PSF-convolved) into a float32 stamp.

    Parameters
    ----------
    profile : galsim.GSObject
        Profile in arcsec, flux 1.
    scale_arcsec : float
        Pixel scale (arcsec / pixel).
    size_px : int
        Odd stamp width and height (pixels).
    offset_px : tuple of float
        (dx, dy) of the profile centre from the central pixel (pixels, within +-0.5).

    Returns
    -------
    numpy.ndarray
        float32 [size_px, size_px]; it holds the flux that falls inside the stamp.
    """
    image = profile.drawImage(nx=size_px, ny=size_px, scale=scale_arcsec,
                              offset=offset_px, method="auto")
    return image.array.astype(np.float32)


def diffraction_spikes(size_px, width_px, length_px):
    """Unit-flux '+' of four diffraction spikes along the pixel axes, in an odd stamp.

    Each arm is a Lorentzian of scale ``length_px`` along the axis and a Gaussian of sigma
    ``width_px`` across it, the pattern a telescope's secondary-mirror supports make around
    bright stars (SDSS images show them along the rows and columns).
    """
    offset = np.arange(size_px) - size_px // 2
    along = 1.0 / (1.0 + (offset / length_px) ** 2)
    across = np.exp(-0.5 * (offset / width_px) ** 2)
    cross = np.outer(across, along) + np.outer(along, across)
    return (cross / cross.sum()).astype(np.float32)


def add_stamp(canvases, stamp, ix, iy, fluxes):
    """Add ``flux * stamp`` to each canvas with the stamp centred on pixel (ix, iy).

    Parameters
    ----------
    canvases : sequence of numpy.ndarray
        float32 images of one shape (one per band).
    stamp : numpy.ndarray
        Odd-sized unit-flux stamp.
    ix, iy : int
        Column and row of the stamp centre; the part outside the canvas is dropped.
    fluxes : sequence of float
        Flux of the source in each canvas (image units).
    """
    half_y, half_x = stamp.shape[0] // 2, stamp.shape[1] // 2
    height, width = canvases[0].shape
    x0, x1 = ix - half_x, ix + half_x + 1
    y0, y1 = iy - half_y, iy + half_y + 1
    cx0, cx1, cy0, cy1 = max(x0, 0), min(x1, width), max(y0, 0), min(y1, height)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    piece = stamp[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    for canvas, flux in zip(canvases, fluxes):
        canvas[cy0:cy1, cx0:cx1] += np.float32(flux) * piece


class StampBank:
    """Stamps drawn once and added many times, scaled by each source's flux.

    Parameters
    ----------
    stamps : sequence of numpy.ndarray
        float32 unit-flux stamps of odd size (sizes may differ between templates).
    n_sub : int
        For a point-source bank, the number of sub-pixel offsets per axis: template
        ``j * n_sub + i`` is centred at offset ((i + 0.5) / n_sub - 0.5, (j + 0.5) / n_sub - 0.5)
        pixels; 1 for a bank of shapes drawn at the pixel centre.
    """

    def __init__(self, stamps, n_sub=1):
        self.stamps = stamps
        self.n_sub = n_sub

    @classmethod
    def point_sources(cls, psf, scale_arcsec, size_px, n_sub=5):
        """PSF stamps at ``n_sub x n_sub`` sub-pixel offsets (a point-source bank)."""
        offsets = (np.arange(n_sub) + 0.5) / n_sub - 0.5
        return cls([draw_stamp(psf, scale_arcsec, size_px, (dx, dy))
                    for dy in offsets for dx in offsets], n_sub)

    @classmethod
    def shapes(cls, profiles, psf, scale_arcsec, sizes_px):
        """Stamps of ``profiles`` (unit flux) convolved with ``psf`` at the pixel centre,
        each ``sizes_px[k]`` pixels wide."""
        return cls([draw_stamp(galsim.Convolve(p, psf), scale_arcsec, size)
                    for p, size in zip(profiles, sizes_px)], 1)

    def add(self, canvases, x, y, fluxes, template=None):
        """Add sources at pixel positions (x, y) with ``fluxes`` [n_canvases, n_sources].

        ``template`` picks each source's shape in a shape bank; in a point-source bank the
        sub-pixel offset picks it. Sources are placed at the nearest pixel (shape bank) or
        the nearest of the sub-pixel offsets (point-source bank).
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        ix, iy = np.rint(x).astype(int), np.rint(y).astype(int)
        if template is None:
            sub_x = np.clip(((x - ix + 0.5) * self.n_sub).astype(int), 0, self.n_sub - 1)
            sub_y = np.clip(((y - iy + 0.5) * self.n_sub).astype(int), 0, self.n_sub - 1)
            template = sub_y * self.n_sub + sub_x
        fluxes = np.atleast_2d(fluxes)
        for k in range(len(x)):
            add_stamp(canvases, self.stamps[template[k]], ix[k], iy[k], fluxes[:, k])


def add_noise(image, sky_sigma, gain, rng):
    """Add sky and source shot noise in place (Gaussian approximation of Poisson noise).

    Parameters
    ----------
    image : numpy.ndarray
        float32 sky-subtracted signal (image units).
    sky_sigma : float
        Standard deviation of the background per pixel (image units).
    gain : float
        Detected electrons per image unit; source shot noise variance = signal / gain.
    rng : numpy.random.Generator
        Seeded generator.
    """
    sigma = np.maximum(image, 0.0)
    sigma *= np.float32(1.0 / gain)
    sigma += np.float32(sky_sigma ** 2)
    np.sqrt(sigma, out=sigma)
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    noise *= sigma
    image += noise


def bleed(image, level):
    """Spread charge above the full-well ``level`` along the columns of a CCD, in place.

    The excess charge of each saturated column fills the pixels next to its saturated run
    (half up, half down), which gives the vertical bleed trails of bright SDSS stars.
    """
    for column in np.nonzero((image > level).any(axis=0))[0]:
        values = image[:, column]
        over = np.nonzero(values > level)[0]
        extra = int((values[over] - level).sum() / level)
        low = max(over[0] - extra // 2, 0)
        high = min(over[-1] + 1 + extra - extra // 2, len(values))
        values[low:high] = np.maximum(values[low:high], level)


def saturate(image, level):
    """Clip the image at the saturation ``level`` (flat-topped bright stars), in place."""
    np.minimum(image, np.float32(level), out=image)
