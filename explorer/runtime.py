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
