"""Write faults for the tests: stand-ins for douga.render._open_container (we run as
root, where chmod does not deny and no disk fills up)."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import av


def full_disk(after: int) -> type:
    """A container class whose writes fail with ENOSPC after ``after`` mux calls."""

    class FullDisk:
        """A real mp4 container whose writes fail with ENOSPC after a few packets."""

        def __init__(self, path: Path, *, faststart: bool) -> None:
            self._c = av.open(str(path), mode="w", format="mp4")
            self._n = 0

        def mux(self, packets: Any) -> None:
            self._n += 1
            if self._n > after:
                raise av.error.OSError(errno.ENOSPC, "No space left on device")
            self._c.mux(packets)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._c, name)

    return FullDisk


def denied(path: Path, *, faststart: bool) -> Any:
    """An open that fails with EACCES."""
    raise PermissionError(errno.EACCES, "Permission denied", str(path))
