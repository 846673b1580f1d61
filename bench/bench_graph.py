"""Time build_graph + graph_to_dot on a deep MLP's loss against torchviz's make_dot(...).source on the same loss.

Run: .venv/bin/python bench/bench_graph.py [layers]   — the last line printed is the ratio.
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer.autograd.graph import build_graph  # noqa: E402
from explorer.autograd.graph_dot import graph_to_dot  # noqa: E402
from explorer.autograd.lesson import make_leaves  # noqa: E402
from explorer.autograd.large_graph import tagged_mlp_loss  # noqa: E402
from explorer.data.sample import generate_candles  # noqa: E402

LAYERS = 60
REPEATS = 10


def best_of(fn, repeats: int = REPEATS) -> float:
    """Best wall time of `repeats` calls, in seconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(layers: int = LAYERS) -> dict:
    """Ours (whole graph walked, values and saved tensors read, capped DOT) vs torchviz (names only)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from torchviz import make_dot
    loss, params, _ = tagged_mlp_loss(generate_candles(200), hidden=16, layers=layers)
    ours = best_of(lambda: graph_to_dot(build_graph(loss, params, max_nodes=10_000)))
    capped = best_of(lambda: graph_to_dot(build_graph(loss, params)))
    collapsed = best_of(lambda: graph_to_dot(build_graph(loss, params, collapse=True)))
    bare = best_of(lambda: make_dot(loss, params=params).source)
    nodes = build_graph(loss, params, max_nodes=10_000).total_nodes
    x, w, b = make_leaves(generate_candles(200), 100, 0)
    seed_y = x @ w.T + b  # the seed's 5-node graph, as the Graph page draws it
    seed = best_of(lambda: graph_to_dot(build_graph(seed_y, {"x": x, "w": w, "b": b})))
    print(f"the seed's y = x @ w.T + b graph: {seed * 1e3:.2f} ms; the MLP's capped view is {capped / seed:.1f}x that")
    print(f"{layers}-layer MLP, {nodes} nodes: ours {ours * 1e3:.1f} ms (uncapped), {capped * 1e3:.1f} ms "
          f"(cap 150), {collapsed * 1e3:.1f} ms (collapsed); torchviz make_dot {bare * 1e3:.1f} ms")
    ratio = ours / bare
    print(f"ratio {ratio:.2f}")
    return {"what": f"build_graph+graph_to_dot vs torchviz make_dot, {layers}-layer MLP loss", "ratio": ratio,
            "target": "<= 3 (ours also reads saved tensors, grads, modules)",
            "ratio_mlp_vs_seed_graph": capped / seed}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else LAYERS)
