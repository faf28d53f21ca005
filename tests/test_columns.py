"""Table columns as plain arrays (data_prep/base/columns.py)."""
import numpy as np
import pytest
from astropy.table import Column, MaskedColumn

from data_prep.base.columns import floats


def test_masked_entries_become_nan_whatever_they_hold():
    np.testing.assert_array_equal(floats(MaskedColumn([1, 2, 3], mask=[0, 1, 0])),
                                  [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(floats(np.ma.masked_array([12.5, 1e20], mask=[0, 1])),
                                  [12.5, np.nan])
    # blanks in a text column: the data under the mask is not a number
    np.testing.assert_array_equal(floats(MaskedColumn(["14.2", ""], mask=[0, 1])),
                                  [14.2, np.nan])


def test_plain_and_text_numbers_become_float64():
    out = floats(Column(["1.5", "2"]))
    assert out.dtype == np.float64 and out.tolist() == [1.5, 2.0]
    assert floats([3, 4]).tolist() == [3.0, 4.0]


def test_text_that_is_not_a_number_is_a_value_error():
    with pytest.raises(ValueError):
        floats(Column(["14.2", "bright"]))
