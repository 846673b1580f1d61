"""Options for the whole test suite: `--soak` runs the long soak tests (marked `soak`), skipped by default."""
from __future__ import annotations

import pytest
import torch


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", default=False,
                     help="also run the long soak tests (minutes: many reruns, several training runs, an abandoned "
                          "training left to time out)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="long soak test: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def soak(request: pytest.FixtureRequest) -> bool:
    """True when the run asked for the long soak tests."""
    return request.config.getoption("--soak")


@pytest.fixture
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin explorer.runtime.available_devices() to ["cpu"], as on a machine without CUDA or MPS.

    The availability checks it reads are patched (not the function, which pages/_common imports by name), so the
    pin reaches every module and is undone after the test.
    """
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
