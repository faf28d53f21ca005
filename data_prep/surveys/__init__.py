"""The real surveys through astroquery (VizieR, SkyView, UKIDSS WSA), with a file cache,
retries and offline detection, and the catalogue selections of both papers."""
