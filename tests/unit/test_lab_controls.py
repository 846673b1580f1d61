"""The labs pages' widget tables: each widget's link parameter is the one the pages declared by hand before (same
kind, range, choices and order), and the refusals the pages show come from explorer with their messages."""
from __future__ import annotations

import pandas as pd
import torch

from explorer.labs import accumulation as acc, controls as ctl, microbatch as mb, shapes as sh
from explorer.labs.modules import INITS, MODELS
from explorer.labs.optimizer_lab import LEARNING_RATES
from explorer.labs.retain import PNL_VALUES, TRADING_LOSSES
from explorer.teaching.shareable import Shared, decode


def test_accumulation_link_is_the_pages_old_spec():
    n = 1000
    assert ctl.accumulation_state(n).spec == (
        Shared("acc_row", "int", 0, n - 1), Shared("acc_seed", "int", 0, 2**31 - 1),
        Shared("acc_tab", "str", choices=ctl.ACC_TABS), Shared("acc_steps", "int", 1, 50),
        Shared("acc_zero_each", "bool"), Shared("acc_history", "clicks", max_len=200),
        Shared("acc_lr", "float", choices=LEARNING_RATES), Shared("acc_mb_start", "int", 0, max(0, n - 2)),
        Shared("acc_mb_size", "int", 1, 512), Shared("acc_mb_k", "int", 1, 64))
    assert ctl.accumulation_state(n).firsts() == {"acc_row": 100, "acc_seed": 0, "acc_steps": 3, "acc_lr": 1e-4}
    assert ctl.accumulation_state(40).firsts()["acc_row"] == 39
    assert ctl.microbatch_firsts(n, 100) == {"acc_mb_start": 100, "acc_mb_size": 12, "acc_mb_k": 3}
    assert ctl.microbatch_firsts(n, 999)["acc_mb_start"] == 998  # each row needs the next close


def test_retain_and_modules_links_are_the_pages_old_specs():
    assert ctl.RETAIN.spec == (Shared("retain_pnl", "float", -10, 10, choices=PNL_VALUES),
                               Shared("retain_loss", "str", choices=tuple(TRADING_LOSSES)),
                               Shared("retain_retain", "bool"), Shared("retain_calls", "clicks", max_len=50))
    n = 1000
    assert ctl.modules_state(n).spec == (
        Shared("modules_in", "int", 1, 8), Shared("modules_out", "int", 1, 8), Shared("modules_bias", "bool"),
        Shared("modules_init", "str", choices=INITS), Shared("modules_model", "str", choices=MODELS),
        Shared("modules_window", "int", 1, 10), Shared("modules_hidden", "int", 2, 64),
        Shared("modules_end", "int", 0, n - 1), Shared("modules_shape", "str", max_len=100),
        Shared("modules_shape_seed", "int", 0, 2**31 - 1), Shared("modules_index", "str", max_len=100))


def test_a_link_value_is_checked_as_its_widget_would_take_it():
    values, problems = decode({"retain_pnl": "2.3", "acc_lr": "1e-05", "modules_end": "5"},
                              ctl.RETAIN.spec + ctl.accumulation_state(100).spec + ctl.modules_state(100).spec)
    assert values == {"acc_lr": 1e-5, "modules_end": 5}  # 2.3 is not a step of the pnl slider
    assert problems == ["Link parameter `retain_pnl` = '2.3' ignored: not one of the choices."]


def test_widget_arguments():
    (end,) = ctl.modules_state(1000, window=4).controls("modules_end")
    assert (end.widget, end.label, end.args) == ("number_input", "last candle row", (3, 999))  # the window's end
    (lr,) = ctl.accumulation_state(1000).controls("acc_lr")
    assert lr.args == (LEARNING_RATES,) and lr.more["format_func"](1e-4) == "1e-04"
    (pnl,) = ctl.RETAIN.controls("retain_pnl")
    assert pnl.args == (-10.0, 10.0) and pnl.more == {"step": 0.5} and pnl.first == -3.0


def test_refusals_the_pages_show():
    frame = pd.DataFrame({"open": [1.0, 2.0, 3.0], "close": [1.5, 2.5, 3.5]})
    x, problem = acc.pick_x(frame, 1, "cpu")
    assert torch.equal(x, torch.tensor([[2.0, 2.5]])) and problem is None
    assert acc.pick_x(frame, 3, "cpu") == (None, "Cannot pick x: row 3 is outside the loaded candles (rows 0 … 2)")
    result, problem = mb.compare_or_refuse(frame, 0, 2, 3, 0)
    assert result is None and problem.startswith("Cannot split this batch: a batch of 2 rows does not split into 3")
    t = torch.zeros(2, 3)
    assert sh.index_or_refuse(t, "t[5]")[1].startswith("Index not accepted: ")
    assert sh.index_or_refuse(t, "t[:, 1]")[0].shape == (2,)
    assert sh.boxes_or_refusal(torch.zeros(600))[0] is None


def test_the_labs_kept_in_a_session():
    from explorer.labs import retain as rl
    state, x = {"acc_steps": 4, "acc_lr": 0.1}, torch.tensor([[2.0, 2.5]])
    ctl.keep_tab_widgets(state)
    assert state == {"acc_steps": 4, "acc_lr": 0.1}  # only the tab widgets that have a value
    lab, refused = acc.session_lab(state, x, 0, ["open", "close"], "FF")
    assert state["acc_lab"] is lab and refused is None and acc.history_code(lab.history) == "FF"  # replayed
    assert acc.session_lab(state, x.clone(), 0, ["open", "close"], None) == (lab, None)  # same x and seed: kept
    assert acc.session_lab(state, x, 1, ["open", "close"], None)[0] is not lab  # another seed: a new lab
    lab, refused = rl.session_lab(state, -3.0, "seed: custom_trading_loss", "cpu", "Q")
    assert state["retain_lab"] is lab and refused.startswith("Link parameter `retain_calls` = 'Q' ignored")
    assert rl.session_lab(state, -3.0, "seed: custom_trading_loss", "cpu", None) == (lab, None)


def test_a_refused_shape_keeps_the_last_good_one():
    state = {}
    assert sh.session_shape(state, "(2, 3)") == ((2, 3), None) and state["modules_last_shape"] == (2, 3)
    shape, refused = sh.session_shape(state, "bad(")
    assert shape == (2, 3) and refused.startswith("Shape not accepted: ") and refused.endswith("Still showing [2, 3].")
