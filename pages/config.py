"""Config (seed Part D): the YAML config shown, edited, validated, applied and downloaded."""
from __future__ import annotations

import streamlit as st

from explorer.data import forms
from explorer.data.config import parse_config, read_config, read_csv_arguments, training_note
from pages._common import current_candles, load_from_config, set_candles, show_code
from pages._components import light_html

st.title("Config: YAML drives the loader")
st.caption(forms.CONFIG_INTRO)

upload = st.file_uploader("Upload a config (YAML)", type=["yaml", "yml"], key="config_upload")
forms.start_config_editor(st.session_state, upload)  # an upload goes into the editor once, then it is edited
text = st.text_area("configs/configs.yaml", key="config_yaml", height=420, help=forms.CONFIG_HELP)
apply, reset, download = st.columns(3)
applied = apply.button("Validate and apply", key="config_apply", type="primary")
reset.button("Back to the bundled config", key="config_reset", on_click=forms.reset_editor, args=(st.session_state,))
download.download_button("Download YAML", text, file_name="configs.yaml", mime="application/x-yaml",
                         key="config_download")

if applied:
    try:
        config = parse_config(text)
        data = load_from_config(config)  # the file must be inside data/ (resolve_data_path)
    except forms.LOAD_ERRORS as exc:
        st.error(forms.config_refusal(exc))
    else:
        set_candles(data, *forms.applied(data, config))
        st.session_state["config_applied"] = config.model_dump()
        st.caption(training_note(config))

if "config_applied" in st.session_state:
    st.markdown('`print(config)` — the dictionary the seed printed after `yaml.safe_load`:')
    st.code(repr(st.session_state["config_applied"]), language="python")
    st.markdown("`data.head()` of the loaded candles:")
    light_html(forms.candles_table(current_candles().frame.head()), key="config_head")

show_code(read_config, read_csv_arguments)  # the seed's Part D; parse_config checks the text before it
