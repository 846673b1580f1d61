"""Modules and shapes lab: Flatten, nn.Linear as x @ W.T + b, models, softmax; shapes and safe indexing."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from explorer.data.sample import generate_candles
from explorer.labs import modules as m
from explorer.labs.shapes import (ShapeError, boxes_html, index_tensor, nesting_sentence, parse_index, parse_shape,
                                  seed_tensor)


def test_seed_cells_give_the_notebooks_numbers():
    flat = m.seed_flatten(m.seed_input_image())
    assert flat.shape == torch.Size([3, 4])
    assert torch.equal(flat, torch.tensor([[1., 1., 1., 2.], [2., 2., 2., 2.], [3., 3., 3., 3.]]))
    layer, out, by_hand = m.seed_linear(flat)
    assert layer.weight.shape == torch.Size([2, 4]) and layer.bias is None
    assert torch.equal(out, torch.tensor([[5., 5.], [8., 8.], [12., 12.]]))
    assert torch.equal(by_hand, out)
    assert torch.equal(m.example_input(4), flat)


@pytest.mark.parametrize("how", m.INITS)
@pytest.mark.parametrize("n_in,n_out,bias", [(4, 2, True), (4, 2, False), (1, 8, True), (7, 3, True)])
def test_x_at_w_t_plus_b_is_nn_linear(how, n_in, n_out, bias):
    layer = m.make_linear(n_in, n_out, bias, how, seed=3)
    x = torch.randn(5, n_in)
    assert torch.allclose(m.linear_by_hand(layer, x), layer(x), atol=1e-6)
    reference = x @ layer.weight.T + (layer.bias if bias else 0)
    assert torch.allclose(torch.nn.functional.linear(x, layer.weight, layer.bias), reference, atol=1e-6)
    assert layer.weight.shape == (n_out, n_in)


def test_inits_fill_as_named_and_default_is_seeded():
    assert torch.equal(m.make_linear(3, 2, True, "ones_").weight, torch.ones(2, 3))
    assert torch.equal(m.make_linear(3, 2, True, "zeros_").bias, torch.zeros(2))
    default = m.make_linear(3, 2, True, "PyTorch default (kaiming_uniform_)", seed=5)
    torch.manual_seed(5)
    assert torch.equal(default.weight, nn.Linear(3, 2).weight)
    with pytest.raises(ValueError, match="unknown init"):
        m.make_linear(3, 2, True, "eye_")


def test_models_print_and_count_like_torch():
    model = m.NeuralNetwork()
    assert "(0): Linear(in_features=784, out_features=512, bias=True)" in str(model)
    table = m.parameter_table(model)
    assert table["values"].sum() == sum(p.numel() for p in model.parameters()) == 784 * 512 + 512 + 512 * 512 + 512
    assert table["shape"].tolist()[0] == "[512, 784]"
    candle = m.CandleNetwork(window=4, hidden=8)
    assert m.parameter_table(candle)["values"].sum() == 20 * 8 + 8 + 8 * 3 + 3


def test_softmax_then_argmax():
    frame = generate_candles(200)
    pred = m.candle_prediction(frame, 3, 16, 100)
    probs = torch.tensor(pred.table["softmax"].tolist())
    logits = torch.tensor(pred.table["logit"].tolist())
    assert torch.allclose(probs, torch.softmax(logits, 0), atol=1e-6)
    assert abs(probs.sum().item() - 1) < 1e-6
    assert pred.predicted == m.CLASSES[int(logits.argmax())]
    assert pred.predicted == m.candle_prediction(frame, 3, 16, 100).predicted  # seeded: same every time
    with pytest.raises(ValueError, match="need 5 candles"):
        m.candle_window(frame, 5, 2)


@pytest.mark.parametrize("text", ["t[2]", "t[2, 1]", "t[..., 0]", "t[:, 1:3]", "t[None]", "t[-1, ..., ::2]",
                                  "2, 1", "t[1:, None, 0]"])
def test_indexing_equals_torch(text):
    t = seed_tensor((3, 2, 4, 2))
    reference = eval(text if text.startswith("t[") else f"t[{text}]", {"t": t})  # test-only: a fixed list of indices
    result = index_tensor(t, text)
    assert result.shape == reference.shape and torch.equal(result, reference)


def test_shapes_parse_and_match_torch():
    assert parse_shape("(3, 2, 4, 2)") == (3, 2, 4, 2) == tuple(seed_tensor((3, 2, 4, 2)).shape)
    assert parse_shape("5") == (5,) and parse_shape("[2, 3]") == (2, 3)
    assert torch.equal(seed_tensor((3, 2), 7), torch.randn(3, 2, generator=torch.Generator().manual_seed(7)))
    assert nesting_sentence((3, 2, 4, 2)) == ("3 elements, each of 2 elements, each of 4 elements, "
                                              "each a vector of 2 numbers")
    assert parse_index("t[..., None, 1:2]") == (Ellipsis, None, slice(1, 2, None))


@pytest.mark.parametrize("text,message", [("(3, 2.5)", "whole number"), ("__import__('os')", "whole number"),
                                          ("(0, 2)", "between 1 and"), ("(64, 64, 64)", "more than"),
                                          ("(1,1,1,1,1,1,1)", "1 to 6"), ("(3,", "Python can read")])
def test_bad_shapes_are_refused(text, message):
    with pytest.raises(ShapeError, match=message):
        parse_shape(text)


@pytest.mark.parametrize("text,message", [("t[__import__('os')]", "whole number"), ("t.numpy()", "whole number"),
                                          ("t[1][0]", "not an index"), ("x[1]", "whole number"),
                                          ("t[5]", "index 5 is out of bounds"), ("t[::-1]", "positive"),
                                          ("t['a']", "whole number"), ("t[True]", "whole number")])
def test_bad_indices_are_refused(text, message):
    with pytest.raises(ShapeError, match=message):
        index_tensor(seed_tensor((3, 2, 4, 2)), text)


def test_boxes_nest_one_box_per_index():
    t = seed_tensor((3, 2, 4, 2))
    page = boxes_html(t)
    assert page.count("class='tbox'") == 1 + 3 + 3 * 2 + 3 * 2 * 4
    assert page.count("class='tbox-num'") == 48
    assert f"{t[2, 1, 3, 0].item():.2f}" in page
    with pytest.raises(ShapeError, match="too many boxes"):
        boxes_html(torch.zeros(1000))


def test_indexed_is_torch_indexing_and_shape_or_last_keeps_the_last_good_shape():
    from explorer.labs.shapes import indexed, shape_or_last
    t = seed_tensor((3, 2, 4, 2), 1)
    for index in [(2,), (Ellipsis, 0), (slice(None), slice(1, 3)), (None,), (2, 1)]:
        assert torch.equal(indexed(t, index), t[index])
    assert torch.equal(index_tensor(t, "t[:, 1:3]"), t[:, 1:3])
    assert shape_or_last("(2, 3)", (3, 2)) == ((2, 3), None)
    shape, problem = shape_or_last("(2, 3.5)", (3, 2))
    assert shape == (3, 2) and problem.startswith("Shape not accepted:") and "Still showing [3, 2]" in problem
