"""A bounded on-disk cache of verified archive files: the oldest used go first when it grows past its cap.

Where: AUTOGRAD_EXPLORER_CACHE, else autograd-explorer/ under the user's cache directory ($XDG_CACHE_HOME or
~/.cache). Cap: AUTOGRAD_EXPLORER_CACHE_MB (default 500 MB). Each file is stored with its SHA-256 beside it and
checked again when read, so a file damaged on disk is fetched again, never used.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

CACHE_ENV = "AUTOGRAD_EXPLORER_CACHE"
CAP_ENV = "AUTOGRAD_EXPLORER_CACHE_MB"
DEFAULT_CAP_MB = 500


def cache_dir() -> Path:
    """The cache folder (not created here)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "autograd-explorer"


def cache_cap() -> int:
    """The cache's size cap in bytes."""
    try:
        return max(1, int(float(os.environ.get(CAP_ENV, DEFAULT_CAP_MB)) * 1_000_000))
    except ValueError:
        return DEFAULT_CAP_MB * 1_000_000


class ArchiveCache:
    """Files under `root`, keyed by relative paths made only of validated parts (symbol/interval/name.zip)."""

    def __init__(self, root: Path | None = None, cap_bytes: int | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir()
        self.cap = cap_bytes if cap_bytes is not None else cache_cap()

    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None when absent or no longer matching their SHA-256 (then they are removed)."""
        path, digest = self.root / key, self.root / (key + ".sha256")
        try:
            data, expected = path.read_bytes(), digest.read_text().strip()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != expected:
            self._remove(path)
            return None
        try:
            os.utime(path)  # recently used: evicted last
        except OSError:
            pass
        return data

    def put(self, key: str, data: bytes) -> None:
        """Store `data` (atomically: a reader never sees half a file), then trim the cache to its cap."""
        path = self.root / key
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path.parent / (path.name + ".sha256"), hashlib.sha256(data).hexdigest().encode())
            write_atomic(path, data)
        except OSError:
            return  # a read-only or full disk only costs the cache, never the fetch
        self.evict(keep=path)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove the least recently used files until the cache is within its cap; the files removed."""
        files = []
        for path in self.root.rglob("*.zip"):
            try:
                files.append((path.stat().st_mtime, path.stat().st_size, path))
            except OSError:
                continue
        total, removed = sum(size for _, size, _ in files), []
        for _, size, path in sorted(files, key=lambda item: item[0]):
            if total <= self.cap:
                break
            if path != keep:
                self._remove(path)
                removed.append(path)
                total -= size
        return removed

    @staticmethod
    def _remove(path: Path) -> None:
        for victim in (path, path.parent / (path.name + ".sha256")):
            try:
                victim.unlink()
            except OSError:
                pass


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
