"""The layout CSS every page gets, and the presenter mode's larger type (pages/_common.presenter_mode)."""
from explorer.svgplot import TABLE_CSS

LAYOUT_CSS = """<style>
/* the graphviz charts' redraw watchers (pages._components.graphviz_chart) take no room */
[class*="_gvredraw"] { display: none; }
/* a button label wraps instead of being cut to "Pre…" when its column is narrow (shortcut hints take room) */
[data-testid^=stBaseButton] [data-testid=stMarkdownContainer] { white-space: normal; overflow: visible;
  text-overflow: clip; height: auto; }
[data-testid^=stBaseButton] p { white-space: normal; overflow-wrap: anywhere; }
[data-testid^=stBaseButton] > div, [data-testid^=stBaseButton] > div > span { height: auto; }
/* printouts wrap inside their box: a tensor's last values or requires_grad=True are never cut off */
[data-testid=stCode] pre, [data-testid=stCode] code { white-space: pre-wrap !important; overflow-wrap: anywhere; }
/* a tooltip never takes a click meant for the control under it */
[role=tooltip], [role=tooltip] *, [data-baseweb=popover]:has([role=tooltip]) { pointer-events: none !important; }
""" + TABLE_CSS + "</style>"

PRESENTER_CSS = """<style>
html { font-size: 20px; }
[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl], [data-testid=stToolbar] { display: none; }
[class*="st-key-secondary"] { display: none; }
[data-testid=stMainBlockContainer] { max-width: 100%; padding: 2rem 1.5rem 4rem; }
button[kind=primary], button[kind=secondary] { font-size: 1.1rem; padding: 0.6rem 1.2rem; }
/* on a projector a button's tooltip would sit over the controls above it: the label and its key hint say enough */
body:has(.stButton [data-testid=stTooltipHoverTarget]:hover) [role=tooltip] { display: none; }
</style>"""
