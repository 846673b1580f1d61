"""The guided path's words for numbers: an order-of-magnitude phrase that follows the value."""
from __future__ import annotations

import pytest

from explorer.teaching.tour import magnitude_phrase


@pytest.mark.parametrize("value, words", [
    (2.4529e8, "in the hundreds of millions"),  # the seed notebook's loss
    (3.0642e7, "in the tens of millions"),  # the bundled sample's loss, which the old fixed words got wrong
    (1e6, "in the millions"), (999_999.0, "in the hundreds of thousands"), (12_345.0, "in the tens of thousands"),
    (1000.0, "in the thousands"), (245.3, "in the hundreds"), (-57.0, "in the tens"), (5.03, "in single digits"),
    (1.0, "in single digits"), (0.5, "below one"), (0.0, "below one"), (4.2e9, "in the billions"),
    (7.7e13, "in the tens of trillions"), (3e15, "around 3e+15"),
])
def test_magnitude_phrase(value, words):
    assert magnitude_phrase(value) == words


def test_magnitude_phrase_names_nan_and_inf():
    assert magnitude_phrase(float("nan")) == "of nan" and magnitude_phrase(float("inf")) == "of inf"
