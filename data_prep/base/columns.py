"""Table columns as plain NumPy arrays."""
import numpy as np


def floats(column):
    """A numeric column (plain, masked, an ``astropy`` ``MaskedColumn``, or numbers written as
    text) as float64, masked entries NaN whatever they hold. ValueError when an unmasked value
    is not a number."""
    data = np.asarray(np.ma.getdata(column))
    mask = np.ma.getmaskarray(column)
    out = np.full(data.shape, np.nan)
    out[~mask] = data[~mask].astype(np.float64)
    return out
