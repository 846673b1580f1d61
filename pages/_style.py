"""The pages' CSS and scripts, read from their files: the layout every page gets, the presenter mode's larger type
(pages/_common.presenter_mode), the small script that keeps a widget's help icon from pressing its label
(pages/_controls.js), and the watcher that reloads a page on the replica that took over (pages/_replica.js)."""
from pathlib import Path

from explorer.svgplot import TABLE_CSS

HERE = Path(__file__).parent
LAYOUT_CSS = f"<style>{(HERE / '_layout.css').read_text()}{TABLE_CSS}{(HERE / '_controls.css').read_text()}</style>"
PRESENTER_CSS = f"<style>{(HERE / '_presenter.css').read_text()}</style>"
CONTROLS_JS = f"<script>{(HERE / '_controls.js').read_text()}</script>"
CHECK_EVERY_MS = 3000  # the replica watcher asks nginx this often which replica answers
REPLICA_JS = f"<script>{(HERE / '_replica.js').read_text().replace('__CHECK_EVERY_MS__', str(CHECK_EVERY_MS))}</script>"
