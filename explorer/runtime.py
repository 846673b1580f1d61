"""Process-wide settings, applied at start-up: PyTorch's thread count and the garbage collector's view of the
objects that live as long as the process; and which devices this machine offers the lessons."""
from __future__ import annotations

import gc
import os
import sys
from typing import MutableMapping

import torch

_configured = False
_frozen_modules = 0


def configure_torch() -> int:
    """Set torch's intra-op thread count once per process (env AUTOGRAD_EXPLORER_THREADS overrides), and keep
    the garbage collector off what the imported modules hold (settle_garbage_collector)."""
    global _configured
    if not _configured:
        threads = int(os.environ.get("AUTOGRAD_EXPLORER_THREADS", min(4, os.cpu_count() or 1)))
        torch.set_num_threads(max(1, threads))
        _configured = True
    settle_garbage_collector()
    return torch.get_num_threads()


def settle_garbage_collector() -> bool:
    """After new modules were imported, collect once and gc.freeze() what is left; True when it did.

    Streamlit runs a full gc.collect(2) after every script run, the live panel's 5 reruns a second included
    (runner.postScriptGC). With torch, pandas and plotly loaded that walks ~260k objects each time: 50 ms on an
    idle core, a second on a busy one. Modules and what they hold live as long as the process, so the permanent
    generation is where they belong; those collections then only walk what sessions create, and garbage made by
    sessions is still collected (reference counting never stops, frozen or not)."""
    global _frozen_modules
    if len(sys.modules) == _frozen_modules:
        return False
    gc.collect()
    gc.freeze()
    _frozen_modules = len(sys.modules)
    return True


def available_devices() -> list[str]:
    """cpu always; cuda and mps only when this machine has them."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (
        ["mps"] if torch.backends.mps.is_available() else [])


DEVICE_HELP = "Where the lessons create their tensors (torch.device). cuda / mps appear only when this machine has one."


def settle_device(state: MutableMapping, key: str, devices: list[str]) -> str | None:
    """Make state[key] a device this machine has (a link's, when it has it; cpu when none is set yet); a message
    when a link asked for one it lacks."""
    if state.get(key) in devices:
        return None
    state[key], problem = device_from_link(state.get(key), devices)
    return problem


def device_from_link(asked: str | None, devices: list[str]) -> tuple[str, str | None]:
    """The device a link asks for when this machine has it, else cpu with a message naming what was asked."""
    if not asked or asked in devices:
        return asked or "cpu", None
    return "cpu", (f"This link asks for device {asked[:20]!r}, which this machine does not have "
                   f"(available: {', '.join(devices)}): the lessons run on cpu. The numbers are the same.")
