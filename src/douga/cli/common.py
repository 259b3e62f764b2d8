"""What every douga command shares: one-line errors and exit codes, progress bars, output paths.

Only the command line prints, draws progress and chooses exit codes. Every DougaError
becomes one line ``error: <message>`` on stderr and exit code 2; anything else is
a bug, reported in one line with exit code 1. ``douga --debug`` (or
``DOUGA_DEBUG=1``) lets the traceback through instead.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from douga.errors import DougaError, InputError
from douga.jsonio import write_text_atomic

ProgressFn = Callable[[str, float], None]
F = TypeVar("F", bound=Callable[..., Any])
# the PROJECT argument of every command that reads a project file
ProjectArg = Annotated[Path, typer.Argument(help="The project file (project.yaml).")]
TemperatureOpt = Annotated[float | None, typer.Option(
    "--temperature", min=0.0, max=10.0, help="Sampling temperature of the learned generator "
    "(0: always the most likely token; default: the project's `sampling`, else 1).")]
TopKOpt = Annotated[int | None, typer.Option(
    "--top-k", min=0, max=1_000_000, help="The learned generator samples among the k most "
    "likely tokens (0: all; default: the project's `sampling`, else 100).")]


# errors that name no file but still are the machine's, not a bug
_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO)


class _State:
    debug = False


_STATE = _State()


def _console(*, stderr: bool = False) -> Console:
    """A console on the current stdout/stderr; 120 columns when piped (logs stay readable)."""
    c = Console(stderr=stderr, highlight=False)
    return c if c.is_terminal else Console(stderr=stderr, highlight=False, width=120)


def _one_line(message: str) -> str:
    return "; ".join(line.strip() for line in str(message).splitlines() if line.strip())


def _fail(message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"error: {_one_line(message)}\n")
    sys.stderr.flush()
    return typer.Exit(code)


def _guarded(fn: F) -> F:
    """Turn douga's errors into one line and exit code 2, bugs into exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except DougaError as e:
            if _STATE.debug:
                raise
            raise _fail(str(e) or type(e).__name__, 2) from None
        except KeyboardInterrupt:
            raise _fail("interrupted", 130) from None
        except Exception as e:
            if _STATE.debug:
                raise
            if isinstance(e, OSError) and (e.filename is not None or e.errno in _DISK_ERRNOS):
                # the machine's, not douga's: a folder that cannot be written, a full disk
                where = f"{e.filename}: " if e.filename is not None else ""
                raise _fail(f"{where}{e.strerror or e}", 2) from None
            raise _fail(
                f"unexpected {type(e).__name__}: {e} (a bug in douga; run `douga --debug ...` "
                "for the traceback)", 1,
            ) from None

    return wrapper  # type: ignore[return-value]


class _StderrLog(logging.Handler):
    """Library warnings as ``warning: ...`` lines on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(f"{record.levelname.lower()}: {_one_line(record.getMessage())}\n")


def _setup_logging(debug: bool) -> None:
    log = logging.getLogger("douga")
    if not any(isinstance(h, _StderrLog) for h in log.handlers):
        log.addHandler(_StderrLog())
        log.propagate = False
    log.setLevel(logging.DEBUG if debug else logging.WARNING)


@contextmanager
def _progress(label: str, *, eta: bool = False) -> Iterator[ProgressFn]:
    """A transient progress bar on stderr when it is a terminal; silent otherwise."""
    err = Console(stderr=True)
    if not err.is_terminal:
        yield lambda stage, fraction: None
        return
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: tuple[ProgressColumn, ...] = (
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    if eta:
        columns += (TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=1.0)

        def update(stage: str, fraction: float) -> None:
            bar.update(task, completed=max(0.0, min(1.0, fraction)),
                       description=f"{label}: {stage}")

        yield update


def _writable(path: Path) -> Path:
    """Create the folder of an output file; a clear error when that is impossible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{path}: cannot create its folder ({e.strerror or e})") from None
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a file name to write")
    try:  # a folder that cannot be written fails now, not after the work
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as e:
        raise InputError(f"{path}: cannot write in {path.parent} ({e.strerror or e})") from None
    return path


def _outputs(*paths: Path | None) -> None:
    """Check the output paths before the work: a bad one fails at once, not after minutes."""
    for path in paths:
        if path is not None:
            _writable(path)


def _save(save: Callable[[Path], object], path: Path) -> None:
    try:
        save(_writable(path))
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror or e})") from None


def _save_json(payload: Any, path: Path) -> None:
    """Write ``payload`` as JSON atomically (never half a file at ``path``)."""
    text = json.dumps(payload, indent=1, default=str)
    _save(lambda p: write_text_atomic(p, text), path)


def _examples(*lines: str) -> str:
    """An epilog of examples, one per line, for ``--help``."""
    return "[bold]Examples[/]\n\n" + "\n\n".join(f"  [cyan]{escape(x)}[/]" for x in lines)


def _check_same_song(mm: Any, song: Path, analysis: Path) -> None:
    """A MusicMap of another song would plan nonsense: compare the durations."""
    from douga.music.audio import audio_duration

    seconds = audio_duration(song)
    if abs(seconds - mm.duration) > 0.25 + 0.01 * seconds:
        raise InputError(
            f"{analysis}: analyses a song of {mm.duration:.2f} s but {song} lasts {seconds:.2f} s; "
            "expected the analysis of the project's song (run `douga analyze` on it)"
        )


def _music_map(audio: Any, *, analysis: Path | None, song: Path,
               progress: Callable[[str, float], None]) -> Any:
    """The song's MusicMap: analysed from ``audio`` (a path or (samples, rate)), or read
    from ``analysis`` and checked to belong to ``song``."""
    if analysis is None:
        from douga.music.analyze import analyze_music

        return analyze_music(audio, progress=progress)
    from douga.music.musicmap import MusicMap

    mm = MusicMap.load(analysis)
    _check_same_song(mm, song, analysis)
    return mm
