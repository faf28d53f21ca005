"""Ground-truth boxes of the clusters in a cutout (Deep-CEE §2.2).

The paper takes the BCG's pixel position as the centre of the ground-truth box but gives no
box size. Here the box is a square centred on the BCG whose half-side is a physical radius at
the cluster's redshift, by default 250 kpc (the optical mean core radius of §2.2 and §3, the
paper's largest distance for a true positive), converted to arcsec with the papers' flat
LambdaCDM cosmology (H0 = 71 km/s/Mpc, Om0 = 0.27; ``data_prep.base.cosmology``) and to pixels with
the cutout's WCS pixel scale. Boxes are clipped to the image. At z = 0.1 a 250 kpc half-side is
137 arcsec (173 px at 0.792 arcsec/px, the 1000 px image); at z = 0.2 it is 77 arcsec (97 px).

Every cluster of the catalogue given whose BCG falls inside the image is labelled, not only
the one the cutout was made for. Pixel coordinates are astropy's 0-based pixel centres; pixel
``i`` covers ``[i - 0.5, i + 0.5)``, so the normalised coordinate of a pixel position ``p`` in
an image of ``n`` pixels is ``(p + 0.5) / n``.
"""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord

from data_prep.base.celestial import pixel_scale_arcsec
from data_prep.base.cosmology import arcsec_for_kpc

BOX_KPC = 250.0


def clusters_in_image(wcs, size_px, ra_deg, dec_deg):
    """Which positions fall inside a square image, and their pixel positions.

    Returns
    -------
    inside : (K,) bool
    x, y : (K,) float
        0-based pixel positions (NaN far from the image, where the projection is undefined).
    """
    ra_deg = np.atleast_1d(np.asarray(ra_deg, dtype=float))
    dec_deg = np.atleast_1d(np.asarray(dec_deg, dtype=float))
    centre = wcs.pixel_to_world((size_px - 1) / 2.0, (size_px - 1) / 2.0)
    radius = pixel_scale_arcsec(wcs) * size_px  # generous: more than the half-diagonal
    near = centre.separation(SkyCoord(ra_deg * u.deg, dec_deg * u.deg)).arcsec < radius
    x = np.full(ra_deg.shape, np.nan)
    y = np.full(ra_deg.shape, np.nan)
    if near.any():
        x[near], y[near] = wcs.world_to_pixel(SkyCoord(ra_deg[near] * u.deg,
                                                       dec_deg[near] * u.deg))
    with np.errstate(invalid="ignore"):
        inside = near & (x >= -0.5) & (x < size_px - 0.5) & (y >= -0.5) & (y < size_px - 0.5)
    return inside, x, y


def bcg_boxes(x, y, z, wcs, size_px, box_kpc=BOX_KPC):
    """Square boxes centred on BCG pixels, half-side ``box_kpc`` at each redshift.

    Parameters
    ----------
    x, y : (M,) float
        BCG pixel positions (0-based) inside the image.
    z : (M,) float
        Cluster redshifts.
    wcs : astropy.wcs.WCS
        The image's WCS (for the pixel scale).
    size_px : int
        Image side (pixels).
    box_kpc : float
        Half-side of the box (projected kpc).

    Returns
    -------
    boxes : (M, 4) float32
        Normalised ``ymin, xmin, ymax, xmax``, clipped to [0, 1].
    centers : (M, 2) float32
        Normalised BCG positions ``(center_x, center_y)``.
    """
    x, y, z = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, y, z))
    half = np.asarray(arcsec_for_kpc(box_kpc, z), dtype=float) / pixel_scale_arcsec(wcs)
    cx, cy = (x + 0.5) / size_px, (y + 0.5) / size_px
    half_n = half / size_px
    boxes = np.stack([cy - half_n, cx - half_n, cy + half_n, cx + half_n], axis=-1)
    return (np.clip(boxes, 0.0, 1.0).astype(np.float32).reshape(-1, 4),
            np.stack([cx, cy], axis=-1).astype(np.float32).reshape(-1, 2))
