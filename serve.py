"""The server: app.py's pages plus one route, the live training panel the browser polls (explorer.training.live).

`streamlit run serve.py` (what `make run` does) serves the app; `streamlit run app.py` serves it too, with the live
panel redrawn by Streamlit reruns instead (slower: see explorer/training/live.py).
"""
import streamlit as st
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from explorer.training import live


def live_panel(request: Request) -> Response:
    """One poll of a playing run's panel (a plain function: Starlette runs it in a thread, off the event loop)."""
    panel = live.payload(request.path_params["token"], request.query_params.get("log_y") == "1",
                         request.query_params.get("slow") == "1")
    if panel is None:
        return Response(status_code=404)
    return JSONResponse(panel, headers={"Cache-Control": "no-store"})


live.served = True
app = st.App("app.py", routes=[Route(live.ROUTE, live_panel)])
