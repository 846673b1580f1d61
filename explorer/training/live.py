"""The live panel while a run plays: HTML the browser polls from one small route (serve.py), not Streamlit reruns.

Measured with MLP + Adam in Chromium on 2 cores: a fragment rerun costs the renderer about 64 ms however little it
draws (Streamlit re-renders the app around it), so five a second took a third of a core away from training. A
fetch of this panel and one innerHTML costs a few milliseconds. When the run stops, the board asks for one rerun
(a fragment that reran every second to notice the stop cost Chromium a third of the panel's CPU). Without the route
(AppTest, `streamlit run app.py`) the page draws the same HTML from a fragment.
"""
from __future__ import annotations

import html
import secrets
import weakref
from pathlib import Path
from typing import NamedTuple

from explorer import svgplot
from explorer.training.charts import MAX_POINTS, chance_accuracy, loss_svg, loss_unit, norms_svg, prediction_svg
from explorer.training.worker import Snapshot, TrainingWorker

ROUTE = "/api/live/{token}"  # what serve.py mounts
POLL_MS = 180  # at least five updates a second (200 ms measured 4.9: timer and frame jitter)
SLOW_EVERY = 6  # predictions and norms move slowly: every sixth poll (about once a second)
PANEL_S = 0.2  # without the route, the page's fragment redraws the panel 5 times a second while training
SLOW_S = 1.0  # and the prediction and norm charts once a second
served = False  # serve.py sets it when it mounts ROUTE in this process

# While a run plays every element on the page costs the browser time at each redraw, time training would lose.
STOPPED_ONLY = ("The downloads, the window into a step, the compared runs and the code show when training stops: "
                "press Pause.")

_RUNS: weakref.WeakValueDictionary[str, TrainingWorker] = weakref.WeakValueDictionary()
_TOKENS: weakref.WeakKeyDictionary[TrainingWorker, str] = weakref.WeakKeyDictionary()
SCRIPT = Path(__file__).with_name("live.js").read_text()  # the board component's JavaScript


def publish(worker: TrainingWorker) -> str:
    """The unguessable token under which the route serves this run (the same one for the run's whole life)."""
    token = _TOKENS.get(worker)
    if token is None:
        token = _TOKENS[worker] = secrets.token_urlsafe(16)
        _RUNS[token] = worker
    return token


def status_text(snap: Snapshot) -> str:
    """The progress line, e.g. "**running** · epoch 3/20 · step 39/260 · 1,234 steps/s" (markdown bold)."""
    rate = f" · {snap.steps_per_second:,.0f} steps/s" if snap.status == "running" else ""  # none once stopped
    return f"**{snap.status}** · epoch {snap.epoch}/{snap.epochs} · step {snap.step}/{snap.total_steps}{rate}"


class PanelNumber(NamedTuple):
    """One metric of the panel: its label, value and help; delta and gap (in points) compare accuracy with chance."""
    label: str
    value: str
    delta: str | None = None
    hint: str | None = None
    gap: float = 0.0


def panel_numbers(snap: Snapshot, data) -> list[PanelNumber]:
    """The metrics: last batch, epoch and validation loss; accuracy against chance."""
    last = snap.epochs_table[-1] if snap.epochs_table else {}
    out = [PanelNumber("Last batch loss", f"{snap.step_losses[-1]:.4g}" if snap.step_losses else "–"),
           PanelNumber("Epoch train loss", f"{last['train_loss']:.4g}" if last else "–"),
           PanelNumber("Validation loss", f"{snap.valid_loss:.4g}")]
    if data.spec.is_classification:
        chance, guess = chance_accuracy(data.y_valid.numpy())
        accuracy = last.get("valid_accuracy")
        gap = 0.0 if accuracy is None else round((accuracy - chance) * 100, 1)
        out.append(PanelNumber("Validation accuracy", "–" if accuracy is None else f"{accuracy:.0%}",
                               None if accuracy is None else f"{gap:+.1f} pts vs chance {chance:.0%}",
                               f"Chance: always guessing '{guess}' is right {chance:.0%} of the time on these rows.",
                               gap))
    return out


def panel_notes(snap: Snapshot, settings) -> list[tuple[str, str]]:
    """What a stopped panel says besides its numbers, as (kind, text): the divergence ("error"), then the worker's
    note or, when done, what Play, Step and Reset do now ("info")."""
    notes = [("error", snap.message)] if snap.status == "diverged" else []
    if snap.note:
        notes.append(("info", snap.note))
    elif snap.status == "done":
        notes.append(("info", f"Done: {snap.epochs} epochs. Play trains {settings.epochs} more epochs and Step one "
                              "more mini-batch; Reset starts a new run with the settings on the left."))
    return notes


def losses_line(unit: str) -> str:
    """What the losses are measured in, under the metrics."""
    return f"Losses are the {unit}."


def shapes_line(data) -> str:
    """The tensors' shapes as the seed printed them, on one line (markdown)."""
    return " · ".join(f"`{name}` {shape[11:-1]}" for name, shape in data.shapes().items())


def rows_html(data) -> str:
    """The first five rows of lagged features and target as light HTML, every digit as the candles had it."""
    return svgplot.table(data.table.head(5).reset_index(), "train-table", digits=None)


def fast_html(snap: Snapshot, data, settings, log_y: bool) -> str:
    """Progress, metrics and the loss curve: what changes at every poll."""
    text = html.escape(status_text(snap)).replace("**", "<b>", 1).replace("**", "</b>", 1)
    # a bar like st.progress's (its blue), which takes over once the run stops
    bar = (f'<div style="height:6px;border-radius:3px;background:#e6e6e6;margin:.2em 0 .8em">'
           f'<div style="height:100%;width:{100 * snap.progress:.2f}%;border-radius:3px;background:#1c83e1">'
           f'</div></div>')
    numbers = "".join(f'<div title="{html.escape(hint or "")}" style="flex:1"><div style="font-size:.85em">'
                      f'{html.escape(label)}</div><div style="font-size:1.8em;line-height:1.3">{html.escape(value)}'
                      f'</div>{"" if delta is None else f"<div style=font-size:.85em>{html.escape(delta)}</div>"}'
                      f'</div>' for label, value, delta, hint, _ in panel_numbers(snap, data))
    unit = loss_unit(data.spec, settings.loss)
    notes = "".join(f'<div style="background:#fff4e5;padding:.5em .8em;border-radius:.4em;margin:.4em 0">'
                    f'{html.escape(m)}</div>' for m in {snap.message, snap.note} if m)
    return (f'<div class="live-status">{text}</div>{bar}{notes}<div style="display:flex;gap:1em">{numbers}</div>'
            f'<div style="font-size:.8em;color:#555;margin:.3em 0 .8em">{html.escape(losses_line(unit))}</div>'
            + loss_svg(snap, log_y, unit))


def slow_html(snap: Snapshot, data) -> str:
    """Validation predictions and the norms, side by side."""
    return (f'<div style="display:flex;gap:1.5em"><div style="flex:1;min-width:0">{prediction_svg(snap, data)}</div>'
            f'<div style="flex:1;min-width:0">{norms_svg(snap)}</div></div>')


def payload(token: str, log_y: bool, slow: bool) -> dict | None:
    """What the route answers for one poll: the run's status and HTML; None for a token that is not (or no
    longer) a run."""
    worker = _RUNS.get(token)
    if worker is None:
        return None
    snap = worker.snapshot(max_points=MAX_POINTS)
    t = worker.trainer
    out = {"status": snap.status, "fast": fast_html(snap, t.data, t.settings, log_y)}
    if slow or snap.status != "running":  # the last poll of a run brings its final charts
        out["slow"] = slow_html(snap, t.data)
    return out


def board(worker: TrainingWorker, log_y: bool) -> dict:
    """The live board component's data (SCRIPT draws it): its route, poll timing and the panel as first drawn."""
    snap = worker.snapshot(max_points=MAX_POINTS)
    t = worker.trainer
    url = ROUTE.format(token=publish(worker)).lstrip("/") + ("?log_y=1" if log_y else "?log_y=0")  # page-relative
    return {"src": url, "poll_ms": POLL_MS, "slow_every": SLOW_EVERY,
            "first": {"fast": fast_html(snap, t.data, t.settings, log_y), "slow": slow_html(snap, t.data)}}
