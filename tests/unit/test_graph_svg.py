"""The graph drawn as one SVG (the Graph and retain_graph pages' picture): every node of the real autograd graph, with its text, and
every edge pointing from a node down to the one that consumes it."""
from __future__ import annotations

import html
import re
from xml.etree import ElementTree

import torch

from explorer.autograd.graph import build_graph
from explorer.autograd.graph_plot import HIGHLIGHT_FILL, SELECTED_DASH, SELECTED_LINE, announcement, graph_svg, layout
from explorer.autograd.node import label_lines


def test_every_node_and_edge_of_the_graph_is_drawn_with_its_text():
    pnl = torch.tensor([-3.0], requires_grad=True)
    loss = (pnl ** 2 * 0.05).sum()
    model = build_graph(loss, {"pnl": pnl}, output_name="loss")
    svg = graph_svg(model, 16, "full")
    assert svg.count("<rect") == len(model.nodes) and svg.count("<line") == len(model.edges)
    text = html.unescape(" ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)))
    for node in model.nodes.values():
        assert all(line in text for line in label_lines(node, "full"))
    assert "saved self (1) = [-3.]" in text  # PowBackward0 keeps the base
    loss.backward()
    freed = html.unescape(graph_svg(build_graph(loss, {"pnl": pnl}, output_name="loss"), 16, "full"))
    assert "saved self: freed by backward()" in freed


def test_edges_run_down_from_a_box_to_the_box_below_it():
    x = torch.ones(2, requires_grad=True)
    model = build_graph((x * 2).sum(), {"x": x}, output_name="y")
    placed = layout(model, 16)
    top = max(p.y + p.height / 2 for p in placed.values()) + 8
    ends = [tuple(map(float, m)) for m in re.findall(r'<line x1="([-\d.]+)" y1="([-\d.]+)" x2="([-\d.]+)" '
                                                     r'y2="([-\d.]+)"', graph_svg(model, 16))]
    expected = sorted(round(top - (placed[e.src].y - placed[e.src].height / 2), 1) for e in model.edges)
    assert sorted(round(y1, 1) for _, y1, _, _ in ends) == expected  # each starts at its source's bottom edge
    assert all(y2 > y1 for _, y1, _, y2 in ends)  # and goes down the page, to the output


def test_each_node_is_one_clickable_group_with_this_steps_node_gold_and_the_inspected_one_outlined():
    w = torch.tensor([[0.5, -1.0]], requires_grad=True)
    b = torch.tensor([0.25], requires_grad=True)
    x = torch.tensor([[2.0, 3.0]])
    y = (x @ w.T + b).sum()
    model = build_graph(y, {"x": x, "w": w, "b": b}, output_name="y")
    mm = next(nid for nid, n in model.nodes.items() if n.name == "MmBackward0")
    svg = ElementTree.fromstring(graph_svg(model, 20, highlight=model.root, selected=mm))
    groups = {g.get("data-node"): g for g in svg.iter("g") if g.get("data-node")}
    assert set(groups) == set(model.nodes)  # every node is a click target carrying its id, and nothing else is
    for nid, g in groups.items():
        rect = g.find("rect")
        assert (rect.get("fill") == HIGHLIGHT_FILL) == (nid == model.root)
        assert (rect.get("stroke") == SELECTED_LINE) == (nid == mm)
        assert [t.text for t in g.iter("tspan") if t.get("font-size") != "0"] == label_lines(model.nodes[nid])
    assert f"{y.item():.6g}" == "-1.75" and "-1.75" in " ".join(groups[model.root].itertext())  # the real y
    assert svg.get("font-size") == "20"


def test_each_node_is_named_for_a_screen_reader_and_this_step_and_the_inspected_one_differ_beyond_colour():
    w = torch.tensor([[0.5, -1.0]], requires_grad=True)
    x = torch.tensor([[2.0, 3.0]])
    y = (x @ w.T).sum()
    model = build_graph(y, {"x": x, "w": w}, output_name="y")
    mm = next(nid for nid, n in model.nodes.items() if n.name == "MmBackward0")
    leaf = next(nid for nid, n in model.nodes.items() if n.name == "w")
    svg = ElementTree.fromstring(graph_svg(model, 14, highlight=mm, selected=leaf))
    groups = {g.get("data-node"): g for g in svg.iter("g") if g.get("data-node")}
    name = groups[leaf].get("aria-label")
    assert name.startswith("w (1, 2)") and "parameter" in name and "0.5" in name and name.endswith("inspected")
    assert "MmBackward0" in groups[mm].get("aria-label") and "backward function" in groups[mm].get("aria-label")
    assert groups[mm].get("aria-current") == "step" and groups[leaf].get("aria-current") is None
    assert all(g.get("role") == "img" for g in groups.values())  # the page's script makes them buttons
    step, picked = groups[mm].find("rect"), groups[leaf].find("rect")
    assert step.get("stroke-dasharray") is None and picked.get("stroke-dasharray") == SELECTED_DASH  # solid vs dashed
    assert announcement(model, mm, leaf, "bwd", 2, 3) == "Backward step 2 of 3: MmBackward0. Inspecting w."
    assert announcement(model, None, None, "fwd", 0, 2) == "Forward step 0 of 2."
