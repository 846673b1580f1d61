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


def test_stop_picker_state():
    """The radio resumes at the last stop; previous / next stay within the path; the thread's link goes there."""
    from explorer.teaching import tour
    last = len(tour.STOPS)
    state: dict = {tour.TOUR_KEY: 3}
    tour.resume(state)
    assert state[tour.STOP_KEY] == 3
    tour.move(state, -1)
    assert state[tour.STOP_KEY] == 2
    state[tour.STOP_KEY] = last
    tour.move(state, 1)
    assert state[tour.STOP_KEY] == last
    assert [tour.can_move(n, -1) for n in (1, 2, last)] == [False, True, True]
    assert [tour.can_move(n, 1) for n in (1, last - 1, last)] == [True, True, False]
    tour.go_to(state, 4)
    assert state[tour.STOP_KEY] == state[tour.TOUR_KEY] == 4
    fresh: dict = {}
    tour.resume(fresh)
    assert fresh[tour.STOP_KEY] == 1


def test_the_radio_and_its_link():
    from explorer.teaching import tour
    from explorer.teaching.shareable import Shared, decode
    radio, = tour.STOP_PICKER.controls(tour.STOP_KEY)
    assert radio.args == (tuple(range(1, len(tour.STOPS) + 1)),) and radio.more["format_func"](3) == tour.STOPS[2].title
    assert tour.HOME_LINK == (Shared("home_stop", "int", 1, len(tour.STOPS)),)
    assert decode({"home_stop": "5"}, tour.HOME_LINK) == ({"home_stop": 5}, [])
    assert tour.STOPS[2].name == "Gradient accumulation"
