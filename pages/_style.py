"""The layout CSS every page gets, the presenter mode's larger type (pages/_common.presenter_mode), and the small
script that keeps a widget's help icon from pressing its label (pages/_controls.js)."""
from pathlib import Path

from explorer.svgplot import TABLE_CSS

HERE = Path(__file__).parent
LAYOUT_CSS = f"<style>{(HERE / '_layout.css').read_text()}{TABLE_CSS}{(HERE / '_controls.css').read_text()}</style>"
PRESENTER_CSS = f"<style>{(HERE / '_presenter.css').read_text()}</style>"
CONTROLS_JS = f"<script>{(HERE / '_controls.js').read_text()}</script>"
