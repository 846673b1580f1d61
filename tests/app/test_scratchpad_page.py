"""Scratchpad page (AppTest): type a program, step through it, the table of tensors and the statement's result;
examples, the link's ?code=, a refused program keeps the last good run, a clicked graph node opens."""
from __future__ import annotations

import torch
from streamlit.testing.v1 import AppTest

from explorer.mechanics import scratch_examples as ex
from explorer.mechanics.scratchpad import example_program
from tests.app.apptest import APP, click, open_app_page
from tests.app.test_code_blocks import problems

PAGE = "pages/scratchpad.py"


def table(at: AppTest):
    return at.dataframe[0].value.set_index("name")


def typed(at: AppTest, program: str) -> AppTest:
    at.text_area(key="scratch_code").set_value(program).run()
    assert not at.exception
    return at


def test_opens_on_micrograds_sanity_check_and_steps_through_it():
    at = open_app_page(PAGE)
    assert at.text_area(key="scratch_code").value == example_program("micrograd: test_sanity_check")
    assert at.caption[0].value.startswith("Nothing has run yet: 7 statements")
    assert at.dataframe[0].value.empty and not at.error
    click(at, "scratch_step")
    assert list(table(at).index) == ["x"] and table(at).loc["x", "requires_grad"] == False  # noqa: E712
    click(at, "scratch_step")
    assert table(at).loc["x", "requires_grad"] == True  # noqa: E712
    click(at, "scratch_run_all")
    x, y = ex.micrograd_sanity_check()
    shown = table(at)
    assert shown.loc["x", "grad"] == f"[{x.grad.item():g}.]" and shown.loc["y", "value"] == f"[{y.item():g}.]"
    assert shown.loc["y", "grad_fn"] == type(y.grad_fn).__name__ and shown.loc["y", "is_leaf"] == False  # noqa: E712
    assert at.caption[0].value == "Ran 7 of 7 statements. The end."
    assert at.button(key="scratch_step").disabled and at.query_params["scratch_pos"] == "7"
    for block in (c.value for c in at.code if c.language == "python"):
        assert not problems(block), block
    click(at, "scratch_reset")
    assert at.dataframe[0].value.empty


def test_a_typed_program_shows_each_statements_print_and_pytorchs_error():
    at = typed(open_app_page(PAGE), "v = torch.tensor([1.0, 2.0], requires_grad=True)\ns = v * v\n"
                                    "print('s is', s)\ns.backward()\ns.sum().backward()\n")
    click(at, "scratch_step")
    click(at, "scratch_step")
    click(at, "scratch_step")
    v = torch.tensor([1.0, 2.0], requires_grad=True)
    assert f"s is {v * v}" in [c.value for c in at.code]
    click(at, "scratch_step")
    assert "grad can be implicitly created only for scalar outputs" in at.error[0].value
    click(at, "scratch_step")
    assert not at.error and table(at).loc["v", "grad"] == "[2. 4.]"
    assert table(at).loc["s", "_version"] == 0


def test_a_refused_program_keeps_the_last_good_run_on_screen():
    at = typed(open_app_page(PAGE), "a = torch.ones(2, requires_grad=True)\nb = (a * 3).sum()\n")
    click(at, "scratch_run_all")
    before = at.dataframe[0].value
    for hostile, words in (("import os", "import"), ("().__class__", "attributes starting with"),
                           ("for i in range(1000000):\n    pass", "at most 100")):
        typed(at, hostile)  # refused as typed: nothing of it runs
        said = at.error[0].value.replace("\\", "")
        assert said.startswith("Program not run") and words in said and "Still showing the last good run" in said
        assert at.dataframe[0].value.equals(before)
    typed(at, "y = torch.ones(2)\nx = torch.zeros(10**6)\n")  # refused at its second step
    click(at, "scratch_step")
    before = at.dataframe[0].value
    assert list(before["name"]) == ["y"]
    click(at, "scratch_step")
    said = at.error[0].value.replace("\\", "")
    assert "statement 2" in said and "1,000,000 elements" in said and "Still showing the last good run" in said
    assert at.dataframe[0].value.equals(before)


def test_an_example_replaces_the_program():
    at = open_app_page(PAGE)
    at.selectbox(key="scratch_example").select("micrograd: test_more_ops").run()
    assert at.text_area(key="scratch_code").value == example_program("micrograd: test_more_ops")
    click(at, "scratch_run_all")
    a, b, g = ex.micrograd_more_ops()
    shown = table(at)
    assert shown.loc["a", "grad"] == f"[{a.grad.item():.4f}]" and shown.loc["b", "grad"] == f"[{b.grad.item():.4f}]"
    assert shown.loc["g", "value"] == f"[{g.item():.4f}]"


def test_a_link_opens_with_its_program_and_step():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["code"] = "w = torch.ones(3, requires_grad=True)\nloss = (w * 2).sum()\nloss.backward()\n"
    at.query_params["scratch_pos"] = "3"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.text_area(key="scratch_code").value.startswith("w = torch.ones(3")
    assert table(at).loc["w", "grad"] == "[2. 2. 2.]"


def test_a_clicked_graph_node_opens_with_all_it_knows():
    at = open_app_page(PAGE)
    click(at, "scratch_run_all")
    at.session_state["scratch_node"] = "t_x"  # what a click on the drawing writes
    at.run()
    details = next(c.value for c in at.code if c.value.startswith("node t_x"))
    assert "requires_grad=True, is_leaf=True, _version=0" in details and "grad = [46.]" in details


def test_the_program_and_its_run_are_still_there_after_another_page():
    at = typed(open_app_page(PAGE), "k = torch.ones(2, requires_grad=True)\nm = k * 2\n")
    click(at, "scratch_run_all")
    at.switch_page("pages/graph.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.text_area(key="scratch_code").value.startswith("k = torch.ones(2")
    assert list(table(at).index) == ["k", "m"]
