"""Square image patches with 50 % overlap, scaled to [0, 1] (StellarVAE §IV).

The paper cuts each K-band image into 8, 16, 32 and 64 px patches with 50 % overlap (stride =
size / 2) and trains one VAE per size with a Bernoulli decoder, whose targets must lie in
[0, 1]. The paper does not say how pixels were scaled; this module does it in up to three
steps:

* :func:`subtract_diffuse_background` (an option beyond the paper, off by default in
  ``stellarvae``; ``--background-px 9`` turns it on) -- subtracts a running median of
  ``width_px`` pixels, which removes the sky and nebular emission on scales larger than a few
  PSF widths and keeps the point sources. Without it, patchy nebulosity, brighter than the
  cluster's stars, can decide the VAE's latent space so that the GMM labels nebula, not
  cluster (seen on the simulator's default fields).
* :func:`resample_to_scale` (an option beyond the paper, off by default; ``--preset robust``
  uses 2 arcsec) -- block-averages the image by the integer factor nearest to
  ``scale_arcsec / native scale`` and rescales its WCS, so the patch sizes (and every width
  given in pixels) mean the same angle on the sky whatever the survey: 2MASS (1"/px) is
  averaged 2 x 2, UKIDSS (0.2"/px) 10 x 10. A block more than half blank is blank.
* :func:`scale_to_unit` -- per-image robust scaling. Pixels are clipped to the
  ``[low_percentile, high_percentile]`` percentiles of the finite pixels (default 1 and 99.5)
  and mapped linearly onto [0, 1]. Blank pixels (NaN, inf) become 0 (the low clip level)
  and are reported in a mask, so a patch that is mostly blank can be dropped.
* :func:`extract_patches` -- every ``size`` x ``size`` window on a grid of stride
  ``size * (1 - OVERLAP)``, starting at pixel (0, 0); windows that would cross the far edge are
  not made (the last row/column of pixels may be uncovered). Patches whose blank fraction
  exceeds ``MAX_BLANK_FRACTION`` (0.5) are dropped.
"""
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

PATCH_SIZES = (8, 16, 32, 64)
OVERLAP = 0.5
"""Fraction of a patch shared with its neighbour (paper: 50 %, stride = size / 2)."""
MAX_BLANK_FRACTION = 0.5
"""Largest fraction of blank pixels a kept patch may have."""


@dataclass(frozen=True)
class Patches:
    """Patches of one size cut from one image.

    Attributes
    ----------
    pixels : ndarray, float32, shape (N, size, size)
        Scaled pixel values in [0, 1].
    rows, cols : ndarray, int, shape (N,)
        Pixel row (y) and column (x) of each patch's first pixel in the image.
    size, stride : int
        Patch side and grid step in pixels.
    image_shape : tuple of int
        (ny, nx) of the image the patches come from.
    """

    pixels: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    size: int
    stride: int
    image_shape: tuple

    def __len__(self):
        return len(self.rows)

    def flat(self):
        """Pixels as a (N, size * size) float32 matrix, the VAE's input."""
        return self.pixels.reshape(len(self), self.size * self.size)


def subtract_diffuse_background(image, width_px=9):
    """The image minus its running median over ``width_px`` x ``width_px`` pixels.

    Blank (non-finite) pixels take the image median for the filter and stay blank in the
    result.

    Parameters
    ----------
    image : array_like, 2-D
    width_px : int
        Median window; a few PSF widths (9 px = 9" for 2MASS), much smaller than a cluster.

    Returns
    -------
    ndarray, float32
    """
    image = np.asarray(image, dtype=np.float32)
    blank = ~np.isfinite(image)
    filled = np.where(blank, np.median(image[~blank]) if (~blank).any() else 0.0, image)
    residual = filled - ndimage.median_filter(filled, size=int(width_px), mode="nearest")
    return np.where(blank, np.nan, residual).astype(np.float32)


def resample_factor(native_scale_arcsec, scale_arcsec):
    """Integer block size that takes pixels of ``native_scale_arcsec`` closest to
    ``scale_arcsec`` (at least 1: an image is never upsampled)."""
    return max(1, int(round(float(scale_arcsec) / float(native_scale_arcsec))))


def resample_to_scale(image, wcs, scale_arcsec):
    """Block-average an image to about ``scale_arcsec`` per pixel, WCS included.

    The block is :func:`resample_factor` pixels on a side; trailing rows and columns that do
    not fill a block are dropped (less than one output pixel, at the far edges, so the
    reference pixel is unchanged). A block with more than half of its pixels blank (NaN) is
    blank; otherwise it is the mean of its finite pixels.

    Parameters
    ----------
    image : array_like, 2-D
    wcs : astropy.wcs.WCS
        Celestial WCS of ``image``.
    scale_arcsec : float
        Wanted pixel scale.

    Returns
    -------
    image : ndarray, float32
    wcs : astropy.wcs.WCS
        The block grid's WCS (``data_prep.deepcee_data.regrid.resized_wcs``).
    factor : int
        Block size (1: the image and WCS are returned as they are).
    """
    from data_prep.base.celestial import pixel_scale_arcsec
    from data_prep.deepcee_data.regrid import resized_wcs

    image = np.asarray(image, dtype=np.float32)
    factor = resample_factor(pixel_scale_arcsec(wcs), scale_arcsec)
    if factor == 1:
        return image, wcs, 1
    ny, nx = image.shape[0] // factor, image.shape[1] // factor
    blocks = image[:ny * factor, :nx * factor].reshape(ny, factor, nx, factor)
    finite = np.isfinite(blocks)
    count = finite.sum(axis=(1, 3))
    total = np.where(finite, blocks, 0.0).sum(axis=(1, 3), dtype=np.float64)
    mean = np.divide(total, count, out=np.zeros(count.shape), where=count > 0)
    mean[count * 2 < factor * factor] = np.nan
    return mean.astype(np.float32), resized_wcs(wcs, factor), factor


def scale_to_unit(image, low_percentile=1.0, high_percentile=99.5):
    """Clip an image to robust percentiles and map it linearly onto [0, 1].

    Parameters
    ----------
    image : array_like, 2-D
        Image in any flux unit; NaN or inf pixels are blank.
    low_percentile, high_percentile : float
        Percentiles (0-100) of the finite pixels mapped to 0 and 1.

    Returns
    -------
    scaled : ndarray, float32
        Values in [0, 1]; blank pixels are 0.
    blank : ndarray, bool
        True where the input was not finite.

    Raises
    ------
    ValueError
        If no pixel is finite.
    """
    image = np.asarray(image, dtype=np.float64)
    blank = ~np.isfinite(image)
    if blank.all():
        raise ValueError("the image has no finite pixel")
    low, high = np.percentile(image[~blank], [low_percentile, high_percentile])
    span = high - low if high > low else 1.0
    scaled = np.clip((np.where(blank, low, image) - low) / span, 0.0, 1.0)
    return scaled.astype(np.float32), blank


def patch_corners(length, size, stride):
    """First-pixel positions of the windows of ``size`` with step ``stride`` along one axis."""
    if length < size:
        return np.zeros(0, dtype=int)
    return np.arange(0, length - size + 1, stride)


def extract_patches(scaled, size, blank=None):
    """Cut a scaled image into overlapping square patches (paper §IV).

    Parameters
    ----------
    scaled : ndarray, 2-D
        Image already in [0, 1] (see :func:`scale_to_unit`).
    size : int
        Patch side in pixels (the paper uses 8, 16, 32, 64).
    blank : ndarray of bool, optional
        Blank-pixel mask of the image; patches with more than :data:`MAX_BLANK_FRACTION`
        blank pixels are dropped.

    Returns
    -------
    Patches
    """
    scaled = np.asarray(scaled, dtype=np.float32)
    stride = max(1, int(round(size * (1.0 - OVERLAP))))
    ys = patch_corners(scaled.shape[0], size, stride)
    xs = patch_corners(scaled.shape[1], size, stride)
    rows, cols = (grid.ravel() for grid in np.meshgrid(ys, xs, indexing="ij"))
    windows = np.lib.stride_tricks.sliding_window_view(scaled, (size, size))
    pixels = windows[rows, cols]
    if blank is not None and len(rows):
        blank_windows = np.lib.stride_tricks.sliding_window_view(blank, (size, size))
        keep = blank_windows[rows, cols].mean(axis=(1, 2)) <= MAX_BLANK_FRACTION
        rows, cols, pixels = rows[keep], cols[keep], pixels[keep]
    return Patches(pixels=np.ascontiguousarray(pixels, dtype=np.float32), rows=rows, cols=cols,
                   size=int(size), stride=stride, image_shape=tuple(scaled.shape))
