"""A trained model in use: export to a SavedModel with the OD API's detection signature, and
detection on FITS g, r, i triplets or colour images."""
