"""retain_graph page — being built."""
import streamlit as st
st.title("retain_graph")
