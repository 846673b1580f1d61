"""Autograd Explorer: the router. Page config, navigation, the shared sidebar; each page is a script in pages/."""
import streamlit as st

from explorer.runtime import configure_torch
from pages._common import device_picker, next_stop_link, presenter_mode, sidebar_data_summary, watch_replica
from pages._quiz import quiz_mode, quiz_score
from pages._state import APP_LINK, publish_state, share_state

st.set_page_config(page_title="Autograd Explorer", page_icon="🔥", layout="wide")
configure_torch()

PAGES = {
    "Start": [st.Page("pages/home.py", title="Guided path", icon=":material/route:", default=True)],
    "Data": [
        st.Page("pages/data.py", title="Data", icon=":material/candlestick_chart:"),
        st.Page("pages/config.py", title="Config", icon=":material/tune:"),
    ],
    "Autograd": [
        st.Page("pages/graph.py", title="Graph", icon=":material/account_tree:"),
        st.Page("pages/accumulation.py", title="Gradient accumulation", icon=":material/stacked_line_chart:"),
        st.Page("pages/retain_graph.py", title="retain_graph", icon=":material/replay:"),
        st.Page("pages/modules.py", title="Modules and shapes", icon=":material/view_in_ar:"),
        st.Page("pages/errors.py", title="Autograd errors", icon=":material/error:"),
        st.Page("pages/autograd_tools.py", title="Hooks and higher order", icon=":material/webhook:"),
        st.Page("pages/gradient_flow.py", title="Gradient flow", icon=":material/bar_chart:"),
        st.Page("pages/scratchpad.py", title="Scratchpad", icon=":material/edit_note:"),
    ],
    "Training": [
        st.Page("pages/training.py", title="Training", icon=":material/model_training:"),
    ],
}

page = st.navigation(PAGES)
share_state(*APP_LINK)  # a shared link's presenter mode, quiz, device and candles, checked
presenter_mode()
quiz_box = quiz_mode()
device_picker()
summary = st.sidebar.container()
try:
    page.run()
    next_stop_link(page.url_path)  # a lesson page ends with the guided path's next stop
finally:  # after the page, so a load on this run shows at once (and even when a page stops early)
    sidebar_data_summary(summary)
    quiz_score(quiz_box)
    publish_state(*APP_LINK)
    watch_replica()  # behind deploy/'s nginx: reload on the replica that took over when this one dies
