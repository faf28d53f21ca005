"""Difficulty knobs of the simulator: what makes a field easy or hard for a detector.

Both dataclasses are frozen, so a difficulty can be a dictionary key and a default argument.
Defaults reproduce survey-like fields; ``easy()`` and ``hard()`` give the two ends used by
tests and benchmarks.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class ClusterDifficulty:
    """Knobs for SDSS-like galaxy-cluster fields (``galaxy_clusters.MockSky``).

    Parameters
    ----------
    seeing_fwhm_arcsec : float
        PSF full width at half maximum (arcsec) in all three bands; SDSS median about 1.4.
    noise_scale : float
        Multiplies the per-pixel noise standard deviation of every band (1 = SDSS-like).
    field_density_scale : float
        Crowding: multiplies the surface density of field galaxies and stars.
    richness_scale : float
        Multiplies every cluster's N200 and R_L* (the catalogue shows the scaled values).
    redshift : float or None
        Put every cluster at this redshift (0.05 to 0.3); ``None`` keeps the mock's own.
    cluster_free : bool
        Render no cluster at all (negative fields); the catalogues are unchanged.
    """

    seeing_fwhm_arcsec: float = 1.4
    noise_scale: float = 1.0
    field_density_scale: float = 1.0
    richness_scale: float = 1.0
    redshift: float | None = None
    cluster_free: bool = False

    @classmethod
    def easy(cls):
        """Rich, nearby clusters in good seeing with little noise and few field objects."""
        return cls(seeing_fwhm_arcsec=1.0, noise_scale=0.5, field_density_scale=0.5,
                   richness_scale=2.0, redshift=0.1)

    @classmethod
    def hard(cls):
        """Poor, distant clusters in bad seeing, noisy, in a crowded field."""
        return cls(seeing_fwhm_arcsec=2.0, noise_scale=2.0, field_density_scale=2.0,
                   richness_scale=0.6, redshift=0.28)


@dataclass(frozen=True)
class StarClusterDifficulty:
    """Knobs for K-band star-cluster fields (``star_clusters.simulate_kband_field``).

    Parameters
    ----------
    n_members : int or None
        Cluster members brighter than the catalogue limit; ``None`` draws 50 to 130 from the
        seed (StellarVAE Table I: 48 to 132).
    radius_arcsec : float or None
        Cluster radius (arcsec): the King tidal radius, or the Plummer truncation radius;
        ``None`` draws 80 to 130 from the seed (Table I: 77 to 145).
    offset_arcsec : tuple of float or None
        (east, north) offset of the cluster centre from the field centre (arcsec); ``None``
        draws it uniformly within 10 % of the field half-width.
    profile : {"king", "plummer"}
        Radial profile of the members (King 1962 or Plummer 1911).
    concentration : float
        King: tidal over core radius r_t / r_c. Plummer: radius over Plummer scale a.
    field_density_scale : float
        Crowding: multiplies the surface density of field stars.
    seeing_scale : float
        Multiplies the survey's PSF FWHM.
    noise_scale : float
        Multiplies the per-pixel noise standard deviation.
    nebulosity : float
        Multiplies the amplitude of the nebular emission and of the extinction (0 = none).
    cluster_free : bool
        No cluster: the truth table then has zero rows.
    """

    n_members: int | None = None
    radius_arcsec: float | None = None
    offset_arcsec: tuple[float, float] | None = None
    profile: str = "king"
    concentration: float = 2.5
    field_density_scale: float = 1.0
    seeing_scale: float = 1.0
    noise_scale: float = 1.0
    nebulosity: float = 1.0
    cluster_free: bool = False

    @classmethod
    def easy(cls):
        """A rich, compact cluster in a sparse, clean field."""
        return cls(n_members=130, radius_arcsec=90.0, field_density_scale=0.5,
                   noise_scale=0.5, nebulosity=0.3)

    @classmethod
    def hard(cls):
        """A poor, loose cluster in a crowded, nebulous, noisy field with worse seeing."""
        return cls(n_members=40, radius_arcsec=140.0, concentration=2.0,
                   field_density_scale=2.0, seeing_scale=1.3, noise_scale=1.5, nebulosity=2.0)
