"""Autograd Explorer's library: pure Python, PyTorch and pandas. Never imports streamlit."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.data.loader import CandleData, CandleFormatError, LoadReport, load_candles

__all__ = ["CandleData", "CandleFormatError", "LoadReport", "load_candles"]


def __getattr__(name: str):
    """The loader (and pandas) load on first use, not with every explorer module: the first page paints sooner."""
    if name in __all__:
        from explorer.data import loader
        return getattr(loader, name)
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
