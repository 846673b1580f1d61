"""The layout CSS every page gets, and the presenter mode's larger type (pages/_common.presenter_mode)."""
from pathlib import Path

from explorer.svgplot import TABLE_CSS

HERE = Path(__file__).parent
LAYOUT_CSS = f"<style>{(HERE / '_layout.css').read_text()}{TABLE_CSS}</style>"
PRESENTER_CSS = f"<style>{(HERE / '_presenter.css').read_text()}</style>"
