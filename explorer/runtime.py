"""Process-wide PyTorch settings, applied once at start-up."""
from __future__ import annotations

import os

import torch

_configured = False


def configure_torch() -> int:
    """Set torch's intra-op thread count once per process (env AUTOGRAD_EXPLORER_THREADS overrides)."""
    global _configured
    if not _configured:
        threads = int(os.environ.get("AUTOGRAD_EXPLORER_THREADS", min(4, os.cpu_count() or 1)))
        torch.set_num_threads(max(1, threads))
        _configured = True
    return torch.get_num_threads()


def available_devices() -> list[str]:
    """cpu always; cuda and mps only when this machine has them."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (
        ["mps"] if torch.backends.mps.is_available() else [])


def device_from_link(asked: str | None, devices: list[str]) -> tuple[str, str | None]:
    """The device a link asks for when this machine has it, else cpu with a message naming what was asked."""
    if not asked or asked in devices:
        return asked or "cpu", None
    return "cpu", (f"This link asks for device {asked[:20]!r}, which this machine does not have "
                   f"(available: {', '.join(devices)}): the lessons run on cpu. The numbers are the same.")
