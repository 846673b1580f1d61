"""Our graph model against PyTorch and torchviz: same nodes and edges, real saved tensors, real grads."""
from __future__ import annotations

import re
from collections import Counter

import pytest
import torch
from torchviz import make_dot

from explorer.autograd.backward import trace_backward
from explorer.autograd.expr import parse_expression
from explorer.autograd.graph import GraphError, build_graph
from explorer.autograd.graph_dot import graph_to_dot
from explorer.autograd.node import saved_slots
from explorer.autograd.journal import OpJournal, preview

EXPRESSIONS = ["x @ w.T + b", "torch.sigmoid(x @ w.T + b)", "((x @ w.T + b) ** 2).mean()", "(x * w).sum() + b",
               "softmax(x / 1000 * w).sum() * b", "(w * w).sum() + tanh(b) - relu(b)", "clamp(x @ w.T, min=0) / b"]


def leaves(seed: int = 0):
    x = torch.tensor([[4291.3701, 4291.3701, 4291.3701, 4291.3701, 0.0]])
    gen = torch.Generator().manual_seed(seed)
    return x, torch.randn(1, 5, generator=gen, requires_grad=True), torch.randn(1, generator=gen, requires_grad=True)


def forward(text: str, seed: int = 0):
    x, w, b = leaves(seed)
    with OpJournal({"x": x, "w": w, "b": b}) as journal:
        y = parse_expression(text)(x, w, b)
    return x, w, b, y, journal


def torchviz_edges(y, params) -> Counter:
    """(src name, dst name) edges of torchviz's make_dot, by the label's first line (output → 'OUTPUT')."""
    src = make_dot(y, params=params).source
    names = {}
    for m in re.finditer(r'^\t(\d+) \[label=(?:"(.*?)"|(\S+?))(?: fillcolor=(\w+))?\]$', src, re.S | re.M):
        label = (m.group(2) if m.group(2) is not None else m.group(3)).split("\n")[0].strip()
        names[m.group(1)] = "OUTPUT" if m.group(4) == "darkolivegreen1" else label
    edges = re.findall(r"^\t(\d+) -> (\d+)$", src, re.M)
    return Counter((names[a], names[b]) for a, b in edges)


def our_edges(model) -> Counter:
    name = {nid: ("OUTPUT" if n.kind == "output" else n.name) for nid, n in model.nodes.items()}
    return Counter((name[e.src], name[e.dst]) for e in model.edges if not e.dashed)


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_same_operation_nodes_and_edges_as_torchviz(text):
    x, w, b, y, _ = forward(text)
    params = {"w": w, "b": b}
    model = build_graph(y, params)
    reference = torchviz_edges(y, params)
    assert sum(reference.values()) >= 5 and sum(1 for _, dst in reference if dst == "OUTPUT") == 1
    assert our_edges(model) == reference
    tv_ops = Counter(n for n, _ in torchviz_edges(y, params)) + Counter(d for _, d in torchviz_edges(y, params))
    assert set(model.op_names()) <= set(tv_ops)


def test_seed_graph_node_kinds_names_and_values():
    x, w, b, y, journal = forward("x @ w.T + b")
    model = build_graph(y, {"x": x, "w": w, "b": b}, journal=journal)
    assert model.op_names() == ["AddBackward0", "MmBackward0", "AccumulateGrad", "PermuteBackward0",
                                "AccumulateGrad"]
    assert model.kinds() == {"operation": 3, "accumulate": 2, "parameter": 2, "output": 1, "input": 1}
    mm = model.nodes[model.node_for(y.grad_fn.next_functions[0][0])]
    assert mm.shape == (1, 1) and mm.value == preview(x @ w.T)
    assert model.nodes["out"].value == preview(y)
    params = {n.name: n for n in model.nodes.values() if n.kind == "parameter"}
    assert params["w"].value == preview(w) and params["b"].shape == (1,)
    mm_fn = y.grad_fn.next_functions[0][0]
    assert type(mm_fn).__name__ == "MmBackward0"  # x @ w.T: x flows into the matrix product's node
    assert ("in_x", model.node_for(mm_fn)) in {(e.src, e.dst) for e in model.edges}


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_saved_tensor_values_equal_grad_fn_saved_attributes(text):
    x, w, b, y, _ = forward(text)
    model = build_graph(y, {"w": w, "b": b})
    fns = {nid: fn for fn in model.keep if (nid := model.node_for(fn)) is not None}
    checked = 0
    for nid, fn in fns.items():
        for slot in model.nodes[nid].saved:
            if not slot.is_tensor:
                continue
            attr, _, index = slot.name.partition("[")
            value = getattr(fn, "_saved_" + attr)
            value = value[int(index[:-1])] if index else value
            assert slot.value == preview(value) and slot.shape == tuple(value.shape) and not slot.freed
            checked += 1
    assert checked >= 1


def test_after_backward_saved_tensors_show_as_freed_and_nothing_crashes():
    x, w, b, y, journal = forward("x @ w.T + b")
    y.backward()
    with pytest.raises(RuntimeError):
        make_dot(y, params={"w": w, "b": b}, show_attrs=True, show_saved=True)  # torchviz crashes here
    model = build_graph(y, {"x": x, "w": w, "b": b}, journal=journal)
    mm = model.nodes[model.node_for(y.grad_fn.next_functions[0][0])]
    assert [s.name for s in mm.saved if s.freed] == ["self"] and mm.saved_freed
    assert "saved self: freed by backward()" in graph_to_dot(model)
    assert [(s.name, s.value) for s in saved_slots(y.grad_fn)] == [("alpha", "1")]  # plain attributes stay


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_every_node_grad_equals_the_tensor_grad(text):
    x, w, b, y, journal = forward(text)
    for entry in journal.entries:  # keep .grad of every intermediate tensor, as the reference
        if entry.output.requires_grad:
            entry.output.retain_grad()
    trace = trace_backward(y, {"w": w, "b": b})
    model = build_graph(y, {"x": x, "w": w, "b": b}, journal=journal, trace=trace)
    params = {n.name: n for n in model.nodes.values() if n.kind == "parameter"}
    assert params["w"].grad == preview(w.grad) and params["b"].grad == preview(b.grad)
    checked = 0
    for entry in journal.entries:
        nid = model.node_for(entry.grad_fn)
        if nid is not None and entry.output.grad is not None:
            assert model.nodes[nid].grad == preview(entry.output.grad), entry.op
            checked += 1
    assert checked == sum(1 for e in journal.entries if e.grad_fn is not None)


def test_until_shows_only_what_the_forward_pass_has_built():
    x, w, b, y, journal = forward("x @ w.T + b")
    model = build_graph(y, {"x": x, "w": w, "b": b}, journal=journal)
    assert {n.kind for n in model.until(0).nodes.values()} == {"input", "parameter"}
    step1 = model.until(1)
    assert sorted(n.name for n in step1.nodes.values() if n.kind == "operation") == ["PermuteBackward0"]
    assert "out" not in model.until(2).nodes and "out" in model.until(3).nodes
    assert len(model.until(3).nodes) == len(model.nodes)


def test_dot_highlights_exactly_one_node_and_keeps_the_graph():
    x, w, b, y, journal = forward("x @ w.T + b")
    model = build_graph(y, {"x": x, "w": w, "b": b}, journal=journal)
    target = model.node_for(y.grad_fn)
    dot = graph_to_dot(model, highlight=target)
    assert dot.count("fillcolor=gold") == 1
    assert re.search(rf"^\t{target} \[.*fillcolor=gold", dot, re.M)
    assert dot.count("->") == len(model.edges)


def test_hide_views_and_accumulate_bridge_the_edges():
    x, w, b, y, _ = forward("x @ w.T + b")
    model = build_graph(y, {"w": w, "b": b}, hide_views=True, hide_accumulate=True)
    names = {nid: n.name for nid, n in model.nodes.items()}
    edges = {(names[e.src], names[e.dst]) for e in model.edges}
    assert edges == {("w", "MmBackward0"), ("MmBackward0", "AddBackward0"), ("b", "AddBackward0"),
                     ("AddBackward0", "y")}
    assert any("hidden" in note for note in model.notes)


def test_no_grad_fn_is_a_clear_error():
    x, w, b = leaves()
    with pytest.raises(GraphError, match="leaf"):
        build_graph(w)
    with pytest.raises(GraphError, match="requires grad"):
        build_graph(x * 2)


def test_browser_safe_dot_keeps_torchvizs_labels_without_raw_breaks_or_space_runs():
    from explorer.autograd.graph_dot import browser_safe_dot

    x, w = torch.ones(1, 3), torch.ones(1, 3, requires_grad=True)
    dot = make_dot(x @ w.T, params={"w": w}, show_attrs=True, show_saved=True).source
    safe = browser_safe_dot(dot)
    labels = re.findall(r'label="([^"]*)"', safe)
    assert labels and not any("\n" in label or "  " in label for label in labels)
    assert "  " in dot and "\u00a0\u00a0" in safe  # torchviz's aligned attribute columns stay aligned
    # the same text once the escapes are read back
    assert [s.replace("\\n", "\n").replace("\u00a0", " ") for s in labels] == re.findall(r'label="([^"]*)"', dot)
