"""AppTest of the Modules and shapes page: the seed's outputs by default, the interactive parts, the quiz."""
from __future__ import annotations

import re

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from tests.app.apptest import APP, light_tables, open_app_page


def one_line(text: str) -> str:
    """Torch's multi-line print with the line breaks and indents folded, as the issue quotes it."""
    return re.sub(r"\n\s*", " ", text)


def live_blocks(at: AppTest) -> list[str]:
    """The code blocks of the page less the seed's quoted outputs (the live Flatten output is the same text: only
    the first copy, the quotation, is dropped)."""
    from explorer.labs.modules import SEED_FLATTEN, SEED_LINEAR
    blocks = [c.value for c in at.code]
    for quoted in (SEED_FLATTEN, SEED_LINEAR):
        blocks.remove(quoted)
    return [one_line(b) for b in blocks]


def table_with(at: AppTest, column: str):
    return next(table for table in light_tables(at) if column in table.columns)


@pytest.fixture(scope="module")
def at() -> AppTest:
    return open_app_page("pages/modules.py")


def expected_texts() -> list[str]:
    """What PyTorch itself prints for the seed's cells (not copied from the page)."""
    image = torch.ones(3, 2, 2)
    image[1] += 1
    image[2] += 2
    image[0, 1, 1] += 1
    flat = nn.Flatten()(image)
    layer = nn.Linear(4, 2, bias=False)
    nn.init.ones_(layer.weight)
    out = one_line(str(layer(flat).detach())).removeprefix("tensor(").removesuffix(")")
    return [str(flat.shape), one_line(str(flat)).removeprefix("tensor(").removesuffix(")"), out,
            str(layer.weight.shape), str(torch.randn(3, 2, 4, 2).shape)]


def test_default_state_shows_the_seeds_outputs_computed_live(at):
    texts = expected_texts()
    assert texts[1] == "[[1., 1., 1., 2.], [2., 2., 2., 2.], [3., 3., 3., 3.]]"
    assert texts[2] == "[[ 5.,  5.], [ 8.,  8.], [12., 12.]]"
    blocks = "\n".join(live_blocks(at))
    for text in texts:
        assert text in blocks, text
    assert "torch.Size([3, 2, 4, 2])" in blocks and "torch.equal(flat_image @ w.T, layer1(flat_image)): True" in blocks
    assert not at.error and not at.exception


def test_own_linear_matches_by_hand(at):
    at.number_input(key="modules_in").set_value(3).run()
    at.number_input(key="modules_out").set_value(5).run()
    at.selectbox(key="modules_init").set_value("zeros_").run()
    block = next(c.value for c in at.code if c.value.startswith("x @ W.T + b"))
    assert "torch.allclose: True" in block
    assert "shape [5, 3] = [out_features, in_features]" in next(c.value for c in at.code if c.value.startswith("x = "))


def test_models_and_softmax(at):
    at.radio(key="modules_model").set_value(at.radio(key="modules_model").options[0]).run()
    assert any("(0): Linear(in_features=784, out_features=512, bias=True)" in c.value for c in at.code)
    params = table_with(at, "parameter")
    from explorer.labs.modules import NeuralNetwork
    assert params["values"].sum() == sum(p.numel() for p in NeuralNetwork().parameters())
    at.radio(key="modules_model").set_value(at.radio(key="modules_model").options[1]).run()
    at.slider(key="modules_window").set_value(4).run()
    assert table_with(at, "parameter")["values"].sum() == 20 * 16 + 16 + 16 * 3 + 3
    probs = table_with(at, "softmax")
    assert abs(probs["softmax"].sum() - 1) < 2e-4  # three values shown with 4 decimals


def test_shape_explorer_indexes_like_torch_and_refuses_bad_text(at):
    at.text_input(key="modules_index").set_value("t[..., 0]").run()
    t = torch.randn(3, 2, 4, 2, generator=torch.Generator().manual_seed(0))
    assert any(c.value == f"t[..., 0].shape\n{t[..., 0].shape}" for c in at.code)
    assert any(c.value == str(t[..., 0]) for c in at.code)
    at.text_input(key="modules_index").set_value("t[__import__('os')]").run()
    assert any("Index not accepted" in e.value for e in at.error) and not at.exception
    at.text_input(key="modules_shape").set_value("(2, 3.5)").run()
    assert any("Shape not accepted" in e.value for e in at.error)
    assert any("torch.Size([3, 2, 4, 2])" in c.value for c in at.code)  # the last good shape stays


def test_seed_bugs_show_their_numbers(at):
    text = "\n".join(c.value for c in at.code)
    assert "NameError: name 'device' is not defined" in text
    assert "The given NumPy array is not writable" in text
    assert "(×2)" in text and "(×1)" in text
    bias = table_with(at, "bias.shape")
    assert bias["parameters"].tolist()[1] == 1 and bias["bias.shape"].tolist()[1] == "[1]"


def quiz_app(query: str = "1") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["quiz"] = query
    at.run()  # the home page, through app.py: the sidebar switch reads ?quiz=
    assert at.toggle(key="quiz").value is (query == "1")
    at.switch_page("pages/modules.py").run()
    assert not at.exception
    return at


def test_quiz_from_link_asks_before_it_shows_and_accepts_a_right_answer():
    at = quiz_app()
    assert not any("linear layer shape:torch.Size([3, 2])\nweight shape" in c.value and "flat_image @ w.T" in c.value
                   for c in at.code)  # the Linear cell's live output is held back
    assert any("nn.Linear(4, 2).weight" in m.value for m in at.markdown)
    at.text_input(key="quiz_in_modules_weight_shape").set_value("torch.Size([2, 4])")
    at.button(key="quiz_check_modules_weight_shape").click().run()
    assert any(s.value.startswith("Right: [2, 4].") for s in at.success)
    assert any("flat_image @ w.T" in c.value for c in at.code)  # revealed
    assert str(at.session_state["quiz_score"]) == "1 of 1 predictions right first time"


def test_quiz_explains_a_wrong_answer():
    at = quiz_app()
    at.text_input(key="quiz_in_modules_weight_shape").set_value("[4, 2]")
    at.button(key="quiz_check_modules_weight_shape").click().run()
    at.button(key="quiz_show_modules_weight_shape").click().run()  # a wrong answer is asked again: show it instead
    assert any("Not quite: you said [4, 2], PyTorch gives [2, 4]" in w.value and "W.T" in w.value for w in at.warning)
    assert str(at.session_state["quiz_score"]) == "0 of 1 predictions right first time"


@pytest.mark.parametrize("value", ["0", "yes", "11"])
def test_quiz_only_1_in_a_link_turns_it_on(value):
    at = quiz_app(value)
    assert any("flat_image @ w.T" in c.value for c in at.code)
