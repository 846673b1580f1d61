"""Data page (seed Part A) — being built."""
import streamlit as st
st.title("Data")
