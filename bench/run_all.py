"""Run every bench/bench_*.py in one process and print one table of ratios against their bare baselines.

Each benchmark module exposes `main() -> dict` with `ratio`, and usually `what` and `target` (a string such as
"<= 1.3"); further `ratio_<name>` keys become rows of their own.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # bench_* by name too: a process a benchmark spawns imports it so


def run(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = sys.modules[path.stem] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main()
    result.setdefault("what", (module.__doc__ or "").strip().splitlines()[0])
    return result


def main() -> None:
    rows = []
    for path in sorted(HERE.glob("bench_*.py")):
        print(f"== {path.name}", flush=True)
        result = run(path)
        rows.append((path.stem, result["what"], result["ratio"], result.get("target", "")))
        rows += [(f"{path.stem} ({key[6:]})", "", value, "informational")
                 for key, value in result.items() if key.startswith("ratio_")]
    print("\n| benchmark | what is compared | ratio | target |\n|---|---|---|---|")
    for name, what, ratio, target in rows:
        print(f"| {name} | {what} | {ratio:.2f}x | {target} |")


if __name__ == "__main__":
    main()
