"""The embedded sky simulator (``SOURCE=sim``): SDSS-like g, r, i galaxy-cluster fields and
2MASS / UKIDSS-like K-band star-cluster fields, with their raw catalogues and ground truth.

It writes exactly what the survey readers return (raw VizieR / WSA catalogue columns, FITS
images with a celestial TAN WCS), so every command runs offline, and because it knows the
truth it measures completeness and accuracy by injection and recovery.

Modules
-------
difficulty
    The knobs (``ClusterDifficulty``, ``StarClusterDifficulty``) that make fields easy or hard.
fits_image
    TAN WCS and FITS headers like SkyView / 2MASS / UKIDSS cutouts.
render
    GalSim stamps, point-source banks, noise and saturation on numpy canvases.
galaxies
    Galaxy photometry: red sequence, blue cloud, sizes, luminosity function, number counts.
sdss
    The SDSS-like camera (zero point, sky, gain, saturation) and high-latitude stars.
cluster_catalogue
    The mock universe: Wen et al. (2012) and redMaPPer catalogues.
galaxy_clusters
    ``MockSky``: SDSS g, r, i cutouts of that universe (Deep-CEE §2.2).
kband_surveys
    2MASS and UKIDSS GPS camera and catalogue conventions.
nebulosity
    Patchy nebular emission and extinction screens.
star_clusters
    ``simulate_kband_field``: K-band fields with an embedded cluster (StellarVAE §II).
gallery
    PNGs to look at, for both sim-gallery verbs (``deepcee sim-gallery`` and
    ``stellarvae sim-gallery``).
"""
