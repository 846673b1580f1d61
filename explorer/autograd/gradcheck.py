"""Gradcheck panel: autograd's gradient against central finite differences, in float64, per leaf."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from explorer.autograd.journal import preview
from explorer.autograd.lesson import gradcheck_lesson

Forward = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class LeafCheck:
    """One leaf's result: both Jacobians, their largest difference, and the verdict."""
    name: str
    shape: tuple[int, ...]
    analytic: torch.Tensor
    numeric: torch.Tensor
    max_abs_diff: float
    passed: bool

    def as_row(self) -> dict[str, str]:
        """The check as a table row."""
        return {"leaf": self.name, "shape": str(self.shape), "result": "PASS" if self.passed else "FAIL",
                "max |diff|": f"{self.max_abs_diff:.3e}", "autograd": preview(self.analytic, 6),
                "finite differences": preview(self.numeric, 6)}


@dataclass
class GradcheckReport:
    """All leaves, and what torch.autograd.gradcheck itself says about the same function."""
    leaves: list[LeafCheck]
    torch_gradcheck: bool
    eps: float
    atol: float
    rtol: float
    nonfinite: str = ""  # 'NaN', 'inf' or 'NaN and inf' when the function or a Jacobian is not finite there

    @property
    def passed(self) -> bool:
        """True when every leaf passed."""
        return all(leaf.passed for leaf in self.leaves)

    @property
    def verdict(self) -> str:
        """PASS, FAIL, or NaN / inf: a function that is not finite here cannot be checked either way."""
        if self.nonfinite:
            return self.nonfinite
        return "PASS" if self.torch_gradcheck else "FAIL"


def _numeric_jacobian(f: Callable[[torch.Tensor], torch.Tensor], leaf: torch.Tensor, eps: float) -> torch.Tensor:
    """Jacobian d f / d leaf by central differences, one element at a time (output rows × leaf columns)."""
    base = f(leaf).reshape(-1)
    jac = torch.zeros(base.numel(), leaf.numel(), dtype=torch.float64)
    flat = leaf.detach().clone().reshape(-1)
    for j in range(flat.numel()):
        plus, minus = flat.clone(), flat.clone()
        plus[j] += eps
        minus[j] -= eps
        jac[:, j] = (f(plus.reshape(leaf.shape)).reshape(-1) - f(minus.reshape(leaf.shape)).reshape(-1)) / (2 * eps)
    return jac


def check_gradients(forward: Forward, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float = 1e-6,
                    atol: float = 1e-5, rtol: float = 1e-3) -> GradcheckReport:
    """Compare autograd with finite differences for each leaf that requires grad (gradcheck's tolerance rule);
    the verdict is gradcheck_lesson's, on the same function."""
    leaves = {"x": x, "w": w, "b": b}
    doubles = {k: v.detach().to(torch.float64).requires_grad_(v.requires_grad) for k, v in leaves.items()}
    results, seen = [], set()
    for name, leaf in doubles.items():
        if not leaf.requires_grad:
            continue

        def f(value: torch.Tensor, name: str = name) -> torch.Tensor:
            args = {**doubles, name: value}
            return forward(args["x"], args["w"], args["b"])

        out = f(leaf)
        rows = [torch.autograd.grad(o, leaf, retain_graph=True, allow_unused=True)[0]
                for o in out.reshape(-1)]
        analytic = torch.stack([r if r is not None else torch.zeros_like(leaf) for r in rows]).reshape(
            out.numel(), leaf.numel())
        with torch.no_grad():
            numeric = _numeric_jacobian(f, leaf, eps)
        diff = (analytic - numeric).abs()
        passed = bool(torch.isfinite(analytic).all() and torch.isfinite(numeric).all()
                      and (diff <= atol + rtol * numeric.abs()).all())
        results.append(LeafCheck(name, tuple(leaf.shape), analytic.detach(), numeric, float(diff.max()), passed))
        seen.update(_kinds(out, analytic, numeric))
    reference = gradcheck_lesson(forward, x, w, b, eps=eps, atol=atol, rtol=rtol)
    nonfinite = " and ".join(k for k in ("NaN", "inf") if k in seen)
    return GradcheckReport(results, bool(reference), eps, atol, rtol, nonfinite)


def _kinds(*tensors: torch.Tensor) -> set[str]:
    """Which of NaN / inf occur in any of the tensors."""
    out = set()
    for t in tensors:
        t = t.detach()
        if torch.isnan(t).any():
            out.add("NaN")
        if torch.isinf(t).any():
            out.add("inf")
    return out
