"""Data preparation for both cluster finders (Deep-CEE §2.2, StellarVAE §II).

- ``base``: what every stage shares: errors, atomic files, the command-line dispatcher,
  the papers' cosmology, FITS and WCS reading, ds9 regions, TensorFlow's environment.
- ``surveys``: the real surveys through astroquery (VizieR, SkyView, UKIDSS) and the
  catalogue selections of both papers.
- ``deepcee_data``: the Deep-CEE data set: cutouts, boxes, offsets, stretch, TFRecords.
- ``stellarvae_data``: StellarVAE's inputs: K-band fields and image patches.
- ``sim``: the embedded sky simulator, which writes the same files as the surveys.
"""
