"""Config (seed Part D): the YAML config shown, edited, validated, applied and downloaded."""
from __future__ import annotations

import streamlit as st

from explorer import CandleFormatError, svgplot
from explorer.data.config import (DEFAULT_CONFIG, ConfigError, parse_config, read_config, read_csv_arguments,
                                  training_note)
from explorer.data.sources import config_link, config_source_label, literal
from pages._common import current_candles, load_from_config, set_candles, show_code
from pages._components import light_html

st.title("Config: YAML drives the loader")
st.caption("Seed notebook Part D. Edit the config or upload one, then apply it: it is validated, the file it names "
           "(only files inside `data/`) is read with its separator, row count and column names.")

if "config_yaml" not in st.session_state:
    st.session_state["config_yaml"] = DEFAULT_CONFIG.read_text()

upload = st.file_uploader("Upload a config (YAML)", type=["yaml", "yml"], key="config_upload")
if upload is not None and st.session_state.get("config_upload_seen") != upload.file_id:
    st.session_state["config_upload_seen"] = upload.file_id  # put an upload in the editor once, then let it be edited
    st.session_state["config_yaml"] = upload.getvalue().decode("utf-8", errors="replace")

text = st.text_area("configs/configs.yaml", key="config_yaml", height=420,
                    help="Unknown keys, wrong types and paths outside data/ are refused with a message.")
apply, reset, download = st.columns(3)
applied = apply.button("Validate and apply", key="config_apply", type="primary")
if reset.button("Back to the bundled config", key="config_reset"):
    del st.session_state["config_yaml"]
    st.rerun()
download.download_button("Download YAML", text, file_name="configs.yaml", mime="application/x-yaml",
                         key="config_download")

if applied:
    try:
        config = parse_config(text)
        data = load_from_config(config)  # the file must be inside data/ (resolve_data_path)
    except (ConfigError, CandleFormatError) as exc:
        st.error(f"{literal(exc, keep_code=True)}\n\nNothing was changed: the data loaded before is still loaded.")
    else:
        set_candles(data, config_source_label(config), config_link(config))
        st.session_state["config_applied"] = config.model_dump()
        st.success(f"Applied: {len(data.frame):,} candles loaded from {literal(config.data.file_path)}.")
        st.caption(training_note(config))

if "config_applied" in st.session_state:
    st.markdown('`print(config)` — the dictionary the seed printed after `yaml.safe_load`:')
    st.code(repr(st.session_state["config_applied"]), language="python")
    st.markdown("`data.head()` of the loaded candles:")
    light_html(svgplot.table(current_candles().frame.head().reset_index(), "candles", digits=None),
               key="config_head")

show_code(read_config, read_csv_arguments)  # the seed's Part D; parse_config checks the text before it
