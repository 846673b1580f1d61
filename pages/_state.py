"""The pages' one state layer: the session keys they share, and what a copied link carries.

A link carries widget values (declared with `Shared`, parsed and range-checked before they reach a widget) and
click histories (kind "clicks": letters a lab replays once). Each page declares what its link carries as a tuple of
`Shared` and calls `share_state` before its widgets and `publish_state` after them; `APP_LINK` is what every page's
link carries (the sidebar's switches and which candles are loaded). Only this module touches the URL. Widgets get
their first value through session state (`init_widgets`, or a link's value), never a default argument as well, so
Streamlit's widget-state duplication warning is left on and has nothing to warn about.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from explorer.data.sources import literal
from explorer.teaching.controls import PageState
from explorer.teaching.shareable import Shared, decode, encode

CANDLES_KEY = "candles"  # the session's CandleData
SOURCE_KEY = "candles_source"  # where they came from, in words
LINK_KEY = "data"  # how they are written in a link (?data=): sample:N, a config, binance:…, upload
DEVICE_KEY = "device"  # the sidebar's device picker (?device=)
PRESENT_KEY = "present"  # presenter mode (?present=1)
QUIZ_KEY = "quiz"  # predict-then-reveal (?quiz=1)
APPLIED_KEY = "_shared_applied"  # the pages whose link values this session has taken already
CLICKS_KEY = "_link_clicks"  # click histories a link brought, by parameter, until the page replays them
DEFAULTS_KEY = "_widget_defaults"  # the default each widget was last given, by widget key


# What every page's link carries; a default stays out of the link. The device is checked against this machine's
# devices by the picker, so it is any short name here.
CANDLES_LINK = Shared(LINK_KEY, "str", max_len=100_000)  # config_from_link judges it
APP_LINK = (Shared(PRESENT_KEY, "bool", default=False), Shared(QUIZ_KEY, "bool", default=False),
            Shared(DEVICE_KEY, "str", max_len=20, default="cpu"), CANDLES_LINK)


def _set_url(key: str, value: str | None) -> None:
    """Write one URL parameter; None or '' removes it, so defaults stay out of a copied link."""
    if not value:
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != value:  # every write sends the browser a URL change (a pushState)
        st.query_params[key] = value


def init_widgets(defaults: dict[str, Any]) -> None:
    """Give widgets their first value through session state (their calls pass no default of their own).

    As a default argument would, a default that changes (new candles, another row, a new config) puts its widget
    back to the new default; a link's value, taken before, wins the first time.
    """
    before = st.session_state.setdefault(DEFAULTS_KEY, {})
    for key, value in defaults.items():
        if key in before and before[key] != value:
            st.session_state[key] = value
        before[key] = value
        st.session_state.setdefault(key, value)


def share_state(*spec: Shared) -> None:
    """Call before a page's widgets: the first time a session shows the page, take their values from the URL."""
    applied = st.session_state.setdefault(APPLIED_KEY, set())
    page = tuple(item.key for item in spec)
    if page in applied:
        return
    applied.add(page)
    values, problems = decode(st.query_params.to_dict(), spec)
    clicks = {item.key for item in spec if item.kind == "clicks"}
    st.session_state.update({k: v for k, v in values.items() if k not in clicks})
    st.session_state.setdefault(CLICKS_KEY, {}).update({k: v for k, v in values.items() if k in clicks})
    for problem in problems:
        st.warning(literal(problem, keep_code=True))  # the value quoted is whatever the link said


def link_clicks(key: str) -> str | None:
    """The click history a link brought under `key`, handed out once (a rerun does not replay it again)."""
    return st.session_state.get(CLICKS_KEY, {}).pop(key, None)


def publish_state(*spec: Shared, **clicks: str) -> None:
    """Call after a page's widgets and buttons: the URL mirrors their values and the click histories given."""
    values = encode(st.session_state, spec)
    if any(st.query_params.get(k) != v for k, v in values.items()):  # unchanged: no URL change to send
        st.query_params.update(values)
    for item in spec:
        if item.default is not None and item.key not in values:  # back at its default: out of the link
            _set_url(item.key, None)
    for key, code in clicks.items():
        _set_url(key, code)


def enter_state(state: PageState) -> None:
    """Before a page's widgets: a link's values (share_state), else each widget's first value (init_widgets)."""
    share_state(*state.spec)
    init_widgets(state.firsts())


def widgets(places, state: PageState, *keys: str, **more) -> list:
    """The widgets `keys` of a page, each in its place (a column, a container or st); the values they show. `more`:
    arguments that change from run to run (disabled=…), for each of them."""
    return [getattr(place, c.widget)(c.label, *c.args, key=c.key, help=c.help, **c.more, **more)
            for place, c in zip(places, state.controls(*keys))]
