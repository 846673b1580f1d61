"""Data (seed Part A): candles from the bundled sample or an upload → DataFrame → float32 tensor."""
from __future__ import annotations

import streamlit as st
from plotly.graph_objects import Figure

from explorer.data import forms
from explorer.data.charts import candlestick_figure, chart_frame
from explorer.data.sources import literal
from explorer.teaching.takehome import data_takehome
from explorer.tensors import candles_to_tensor, float32_rounding, summarize
from pages._common import (LINK_KEY, current_candles, current_device, load_from_config, load_upload, publish_state,
                           set_candles, show_code)
from pages._components import light_html, take_home
from pages._state import enter_state, widgets

st.title("Data: candles → DataFrame → tensor")
st.caption(forms.DATA_INTRO)


@st.cache_data(max_entries=8, show_spinner=False)
def cached_figure(drawn) -> Figure:
    """The candlestick figure, built once per loaded data (building it costs more than the rest of a rerun)."""
    return candlestick_figure(drawn, title="Candles and volume")


def load_sample_section() -> None:
    current_candles()  # a shared link's data setting is applied first; its row count shows in the widget too
    forms.start_sample_rows(st.session_state, st.session_state[LINK_KEY])
    rows, = widgets([st], forms.LOADERS, "data_rows")
    if st.button("Load the bundled sample", key="data_load_sample", type="primary", help=forms.LOAD_SAMPLE_HELP):
        try:
            set_candles(*forms.load_sample(rows, load_from_config))
        except forms.LOAD_ERRORS as exc:
            st.error(forms.sample_failure(exc))


def load_upload_section() -> None:
    upload = st.file_uploader("Upload candles (CSV, TXT, TSV)", type=["csv", "txt", "tsv"], key="data_upload",
                              help="Binance klines, exchange and website exports, the seed's pipe format, …")
    options = widgets([st.container(key="secondary_data_upload_options")] * 3, forms.UPLOAD, *forms.UPLOAD_KEYS)
    if upload is None or (read_as := forms.upload_options(st.session_state, upload.file_id, *options)) is None:
        return
    try:
        data, capped = load_upload(upload.getvalue(), *read_as)
    except forms.LOAD_ERRORS as exc:
        st.error(forms.upload_failure(upload.name, exc))
        return
    set_candles(data, *forms.uploaded(data, upload.name))
    if capped:
        st.warning(capped)


def load_archive_section() -> None:
    """Fetch a range of days with a progress bar per file; on failure say which day and keep the data loaded before."""
    today = forms.utc_today()  # the archive's days are UTC days
    forms.start_archive_form(st.session_state, st.session_state[LINK_KEY], today)
    symbol_col, interval_col, days_col = st.columns([1, 1, 2])
    symbol, interval = widgets((symbol_col, interval_col), forms.LOADERS, *forms.ARCHIVE_KEYS[:2])
    days, = widgets([days_col], forms.LOADERS, forms.ARCHIVE_KEYS[2], max_value=today)
    if not st.button("Fetch from the archive", key="data_archive_fetch", type="primary", help=forms.FETCH_HELP):
        return
    if not forms.is_range(days):
        st.error(forms.PICK_DAYS)
        return
    progress = forms.FileProgress(symbol, interval, lambda: st.progress(0.0))
    try:
        request, data = forms.fetch_range(symbol, interval, days, progress)
    except forms.LOAD_ERRORS as exc:
        st.error(forms.fetch_failure(exc))
        return
    set_candles(data, *forms.fetched(data, request))


enter_state(forms.UPLOAD)
left, right = st.columns(2)
with left:
    st.subheader("Bundled sample")
    load_sample_section()
with right:
    st.subheader("Your file")
    load_upload_section()
st.subheader("Real candles: Binance's public archive")
st.caption(forms.ARCHIVE_INTRO)
load_archive_section()

data = current_candles()
frame = data.frame
st.divider()
st.subheader(f"Loaded: {literal(st.session_state['candles_source'])}")
for note in data.report.notes:
    st.info(literal(note))
with st.expander("Load report: what was detected and cleaned", expanded=True):
    st.table({"item": [k for k, _ in data.report.as_table()], "value": [v for _, v in data.report.as_table()]})

for name, rows in (("head", frame.head()), ("tail", frame.tail())):  # light tables, one above the other: their
    st.markdown(f"`data.{name}()`")  # type follows presenter mode (a data grid's stays at 13 px), every column shows
    light_html(forms.candles_table(rows), key=f"data_{name}")

drawn, rule = chart_frame(frame)
if rule:
    st.caption(f"{len(frame):,} candles are too many to draw one by one: shown as one candle per {rule}.")
st.plotly_chart(cached_figure(drawn), key="data_chart")

st.subheader("As a tensor")
summary = summarize(candles_to_tensor(frame, current_device()))  # on the device picked in the sidebar
for column, (label, value) in zip(st.columns(3), summary.metrics.items()):
    column.metric(label, value)
st.code(summary.printout, language="text")
st.code(summary.text, language="text", height=260)
st.markdown(forms.FLOAT32_NOTE)
light_html(forms.rounding_table(frame), key="data_rounding")
st.caption(forms.ROUNDING_NOTE)
take_home(data_takehome(frame, st.session_state["candles_source"], current_device()))
show_code(candles_to_tensor, float32_rounding, key="secondary_data_code")  # the conversion, not the loader's guards
publish_state(*forms.UPLOAD.spec)
