"""Centre, radius, members and IoU of a detected region (StellarVAE §V).

* centre: the heat-weighted mean pixel position of the region ("a weighted average of pixel
  position and intensity" of the detection map), converted to ICRS with the image's WCS;
* radius: the region's area (pixels x pixel area, the pixel scale read from the WCS) modelled as
  a circle, r = sqrt(area / pi), in arcsec;
* members: catalogue stars inside the detected circle (centre, radius) -- the circle the paper
  reports and draws in Fig. 6, so the numbers can be recomputed from the detection table;
* IoU over catalogue stars: stars in the intersection of the detected and the reference circle
  divided by stars in their union (the paper's IoU "calculated on source count").
"""
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord

from data_prep.base.celestial import pixel_scale_arcsec


@dataclass
class Detection:
    """One detected cluster.

    Attributes
    ----------
    method : str
        ``vae``, ``star_counts`` or ``knn_density``.
    ra_deg, dec_deg : float
        ICRS centre (deg); NaN when nothing was detected.
    x_pix, y_pix : float
        The centre in 0-based pixel coordinates.
    radius_arcsec : float
        Radius of the circle of the same area (arcsec).
    area_arcsec2 : float
        Region area (arcsec^2).
    n_pixels : int
        Pixels in the region.
    members : int
        Catalogue stars inside the detected circle.
    """

    method: str
    ra_deg: float
    dec_deg: float
    x_pix: float
    y_pix: float
    radius_arcsec: float
    area_arcsec2: float
    n_pixels: int
    members: int = 0

    def centre(self):
        """The centre as an ICRS SkyCoord."""
        return SkyCoord(self.ra_deg * u.deg, self.dec_deg * u.deg, frame="icrs")


def star_coords(stars):
    """ICRS SkyCoord of a stars table (columns ``ra``, ``dec`` in deg)."""
    return SkyCoord(np.asarray(stars["ra"], float) * u.deg,
                    np.asarray(stars["dec"], float) * u.deg, frame="icrs")


def measure_region(heat, region, wcs, method):
    """Centre, radius and area of a boolean region of a heat map (module docstring).

    Parameters
    ----------
    heat : ndarray, 2-D
        Weights of the centre (the detection map).
    region : ndarray of bool
        The detected pixels.
    wcs : astropy.wcs.WCS
        Celestial WCS of the image.
    method : str
        Name stored in the :class:`Detection`.

    Returns
    -------
    Detection
        With ``members`` 0 (see :func:`count_members`); NaN centre if ``region`` is empty.
    """
    scale = pixel_scale_arcsec(wcs)
    n_pixels = int(region.sum())
    if n_pixels == 0:
        return Detection(method, np.nan, np.nan, np.nan, np.nan, 0.0, 0.0, 0)
    ys, xs = np.nonzero(region)
    weights = np.asarray(heat, dtype=np.float64)[ys, xs]
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    x_c, y_c = float(np.average(xs, weights=weights)), float(np.average(ys, weights=weights))
    centre = wcs.celestial.pixel_to_world(x_c, y_c).icrs
    area = n_pixels * scale ** 2
    return Detection(method, float(centre.ra.deg), float(centre.dec.deg), x_c, y_c,
                     float(np.sqrt(area / np.pi)), float(area), n_pixels)


def in_circle(coords, centre, radius_arcsec):
    """Boolean mask of the ``coords`` within ``radius_arcsec`` of ``centre``."""
    if len(coords) == 0 or not np.isfinite(radius_arcsec):
        return np.zeros(len(coords), dtype=bool)
    return coords.separation(centre).arcsec <= radius_arcsec


def count_members(stars, detection):
    """Catalogue stars inside the detected circle."""
    return int(in_circle(star_coords(stars), detection.centre(), detection.radius_arcsec).sum())


def iou_over_stars(stars, centre_a, radius_a, centre_b, radius_b):
    """Stars in both circles / stars in either circle (NaN when no star is in either).

    Parameters
    ----------
    stars : Table
        Catalogue with ``ra``, ``dec`` in deg.
    centre_a, centre_b : SkyCoord
    radius_a, radius_b : float
        Radii in arcsec.
    """
    coords = star_coords(stars)
    a = in_circle(coords, centre_a, radius_a)
    b = in_circle(coords, centre_b, radius_b)
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else float("nan")


@dataclass
class Footprint:
    """The sky an image covers, as a coarse grid of cells for area integrals.

    Attributes
    ----------
    x, y : ndarray
        Cell centres in the image's 0-based pixel coordinates.
    area : ndarray
        Covered area of each cell in pixels (the cell's finite pixels).
    scale_arcsec : float
        Pixel side of the image (arcsec).
    step : int
        Cell side in pixels.
    """

    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    scale_arcsec: float
    step: int = 1

    @classmethod
    def of_image(cls, image, wcs, max_cells=200):
        """The finite pixels of ``image`` on cells of ``step`` x ``step`` pixels, ``step``
        chosen so that at most ``max_cells`` lie along a side."""
        finite = np.isfinite(np.asarray(image))
        step = max(1, int(np.ceil(max(finite.shape) / max_cells)))
        ny, nx = -(-finite.shape[0] // step), -(-finite.shape[1] // step)
        padded = np.zeros((ny * step, nx * step), dtype=bool)
        padded[:finite.shape[0], :finite.shape[1]] = finite
        area = padded.reshape(ny, step, nx, step).sum(axis=(1, 3)).astype(np.float64)
        gy, gx = np.mgrid[0:ny, 0:nx] * step + (step - 1) / 2.0
        keep = area > 0
        return cls(gx[keep], gy[keep], area[keep], pixel_scale_arcsec(wcs), step)

    def area_within(self, x0, y0, radius_px):
        """Covered area (pixels) within ``radius_px`` of (x0, y0): the cells whose centres lie
        in the circle; for a circle of less than two cells, pi r^2 times the covered fraction
        of the nearest cell."""
        distance = np.hypot(self.x - x0, self.y - y0)
        if radius_px < 2 * self.step:
            nearest = int(np.argmin(distance))
            if distance[nearest] > self.step:
                return 0.0
            return float(np.pi * radius_px ** 2 * self.area[nearest] / self.step ** 2)
        return float(self.area[distance <= radius_px].sum())
