"""Autograd Explorer's library: pure Python, PyTorch and pandas. Never imports streamlit."""
from __future__ import annotations

from explorer.data.loader import CandleData, CandleFormatError, LoadReport, load_candles

__all__ = ["CandleData", "CandleFormatError", "LoadReport", "load_candles"]
