"""The cosmology of both papers: flat LambdaCDM, H0 = 71 km/s/Mpc, Omega_m = 0.27
(Deep-CEE §2.2; Wen et al. 2012)."""
import astropy.units as u
from astropy.cosmology import FlatLambdaCDM

COSMOLOGY = FlatLambdaCDM(H0=71 * u.km / u.s / u.Mpc, Om0=0.27)


def kpc_per_arcsec(z):
    """Projected physical scale (kpc / arcsec) at redshift ``z``."""
    return (COSMOLOGY.angular_diameter_distance(z).to(u.kpc) / u.radian.to(u.arcsec)).value


def arcsec_for_kpc(kpc, z):
    """Angular size (arcsec) that ``kpc`` projected physical kiloparsecs subtend at ``z``."""
    return kpc / kpc_per_arcsec(z)
