"""The mechanics pages' widget tables: each widget's link parameter is the one the page declared by hand before
(same kind, range, choices and order), and the Gradient flow run kept in a session starts, plays and stops."""
from __future__ import annotations

from explorer.data.sample import generate_candles
from explorer.mechanics import errors as er, flow, tools
from explorer.mechanics.controls import FLOW, errors_state, tools_state
from explorer.teaching.shareable import Shared, decode


def test_links_are_the_pages_old_specs():
    n = 1000
    assert errors_state(n).spec == (Shared("errors_view", "str", choices=tuple(er.ERRORS)),
                                    Shared("errors_row", "int", er.FIRST_ROW, n - 1),
                                    Shared("errors_seed", "int", 0, 2**31 - 1))
    assert errors_state(n).firsts() == {"errors_view": er.FIRST, "errors_row": 100, "errors_seed": 0}
    assert FLOW.spec == (Shared("flow_depth", "int", 1, 20), Shared("flow_activation", "str", choices=flow.ACTIVATIONS),
                         Shared("flow_init", "str", choices=tuple(flow.INITS)),
                         Shared("flow_steps", "int", choices=flow.STEPS))
    assert FLOW.firsts() == {"flow_depth": 10, "flow_activation": "sigmoid", "flow_init": "pytorch_default",
                             "flow_steps": 100}
    assert tools_state(n).spec == (Shared("tools_view", "str", choices=tuple(tools.VIEWS)),
                                   Shared("tools_row", "int", 0, n - 1))
    assert tools_state(40).firsts() == {"tools_view": "hooks", "tools_row": 39}


def test_a_link_value_is_checked_as_its_widget_would_take_it():
    values, problems = decode({"flow_steps": "50", "flow_depth": "21", "errors_row": "2"},
                              FLOW.spec + errors_state(100).spec)
    assert values == {"flow_steps": 50}  # a stop of the slider, as the int the widget holds
    assert problems == ["Link parameter `flow_depth` = '21' ignored: outside 1…20.",
                        "Link parameter `errors_row` = '2' ignored: outside 3…99."]


def test_widget_arguments():
    (view,) = errors_state(100).controls("errors_view")
    assert view.args == (tuple(er.ERRORS),) and view.more["format_func"]("inplace") == er.label("inplace")
    (init,) = FLOW.controls("flow_init")
    assert init.more["format_func"]("seed_sqrt_n") == flow.INITS["seed_sqrt_n"]


def test_a_session_run_is_kept_played_and_started_over():
    frame, state = generate_candles(300), {}
    settings = flow.FlowSettings(3, "tanh", "pytorch_default", 20)
    run = flow.session_run(state, frame, settings)
    assert state == {flow.RUN_KEY: run, flow.PLAYING_KEY: False} and run.done == 0
    assert not flow.play(state) and run.done == 0  # at rest until Train
    state[flow.PLAYING_KEY] = True
    assert flow.session_run(state, frame, settings) is run and state[flow.PLAYING_KEY]  # same settings: same run
    while not flow.play(state):
        pass
    assert run.done == 20 and not state[flow.PLAYING_KEY]
    again = flow.start_over(state, frame)
    assert again is not run and again.done == 0 and again.init_norms == run.init_norms  # same seed
    state[flow.PLAYING_KEY] = True
    other = flow.session_run(state, frame, flow.FlowSettings(3, "relu", "pytorch_default", 20))
    assert other is state[flow.RUN_KEY] and not state[flow.PLAYING_KEY]  # new settings: a new model, at rest
