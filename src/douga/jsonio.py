"""Reading and writing douga's JSON products (MusicMap, Timeline) with clear errors, atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from douga.errors import InputError


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it: do that once, at import,
    os.umask(mask)  # not on every write, where another thread may be creating a file
    return mask


_UMASK = _read_umask()


def read_json_object(path: str | Path, *, what: str) -> dict[str, Any]:
    """Load a JSON object; an InputError names the file and the ``what`` expected."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: file not found; expected a {what} JSON") from None
    except json.JSONDecodeError as e:
        where = f"{e.msg} at line {e.lineno}"
        raise InputError(f"{p}: not valid JSON ({where}); expected a {what}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: cannot read ({e}); expected a {what} JSON") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a {what} JSON object, got {type(data).__name__}")
    return data


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON atomically: a temp file beside the target, then a rename."""
    write_text_atomic(path, json.dumps(data, indent=1))


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temp file beside it and a rename, so the
    path never holds half a file."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        # mkstemp makes the file private (0600); the result is a file like any other
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
