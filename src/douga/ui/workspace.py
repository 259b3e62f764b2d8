"""What the web UI does, without the UI: a project folder inside a root, uploads, the schedule.

Kept apart from the Gradio wiring (:mod:`douga.ui.app`) so that it can be tested
without a browser. Every file the UI reads or writes stays inside the workspace root:
paths typed by the user are resolved against it and refused when they lead outside
(``..``, absolute paths elsewhere, symbolic links pointing out). Uploads are checked
(size, type, and that they decode) before they are copied in, under a cleaned-up
name; a bad upload is an :class:`~douga.errors.InputError` naming the file and what
was expected, and nothing is written.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from douga.errors import DougaError, InputError
from douga.project import (
    IMAGE_SUFFIXES,
    LYRICS_SUFFIXES,
    PROJECT_FILENAME,
    Project,
    dump_project,
    format_validation_error,
    load_project,
    project_to_dict,
)

__all__ = [
    "AUDIO_SUFFIXES",
    "MAX_BYTES",
    "SCHEDULE_COLUMNS",
    "GeneratorStatus",
    "Workspace",
    "generator_status",
    "safe_name",
    "schedule_rows",
]

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus", ".aac")
MAX_BYTES = {"song": 200 * 2**20, "keyframe": 40 * 2**20, "lyrics": 2**20}
SCHEDULE_COLUMNS = ["order", "image", "text", "at", "cut", "beats"]


def safe_name(name: str, *, default: str = "file") -> str:
    """A file name without folders or odd characters: ``../../x y.png`` -> ``x_y.png``."""
    base = re.split(r"[\\/]", name)[-1]
    clean = re.sub(r"[^\w.-]+", "_", base).lstrip(".")
    stem, suffix = os.path.splitext(clean)
    return (stem[:100] + suffix[:10]) if stem else default


class Workspace:
    """The folder of the project being edited, inside a root the UI may touch.

    Parameters
    ----------
    root
        The only folder the UI reads from or writes to (created when missing).
    name
        The project's sub-folder of ``root`` (a relative path inside it).
    """

    def __init__(self, root: str | Path, name: str = "untitled") -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.folder = self.inside(name)

    # ------------------------------------------------------------------ paths
    def inside(self, relative: str | Path) -> Path:
        """``relative`` resolved inside the root; an InputError when it leads outside."""
        text = str(relative).strip()
        if not text or "\x00" in text:
            raise InputError(f"folder {text!r}: expected a folder name inside {self.root}")
        path = (self.root / text).resolve()
        if path != self.root and self.root not in path.parents:
            raise InputError(f"{text}: outside the workspace {self.root}; expected a folder "
                             "inside it")
        return path

    @property
    def project_file(self) -> Path:
        return self.folder / PROJECT_FILENAME

    def open(self, relative: str) -> Project:
        """Switch to an existing project folder inside the root and load its project file."""
        folder = self.inside(relative)
        if not (folder / PROJECT_FILENAME).is_file():
            raise InputError(f"{relative}: no {PROJECT_FILENAME} in it; expected a project "
                             "folder (make one with `douga new` or by uploading a song)")
        project = load_project(folder / PROJECT_FILENAME)
        self._check_paths(project, source=str(folder / PROJECT_FILENAME))
        self.folder = folder
        return project

    def listing(self) -> list[str]:
        """Project folders under the root (relative), for the open menu."""
        return sorted(str(p.parent.relative_to(self.root)) for p in
                      self.root.glob(f"*/{PROJECT_FILENAME}"))

    # ------------------------------------------------------------------ uploads
    def _stage(self, upload: str | Path, kind: str, suffixes: Sequence[str]) -> Path:
        """Copy an upload to a temp file in the project folder and check it; InputError
        naming the file (and no temp file left) when it is not a usable ``kind``."""
        src = Path(upload)
        shown = safe_name(src.name)
        if src.suffix.lower() not in suffixes:
            raise InputError(f"{shown}: a {src.suffix or 'nameless'} file; expected a {kind} "
                             f"({', '.join(suffixes)})")
        size = src.stat().st_size
        if size > MAX_BYTES[kind]:
            raise InputError(f"{shown}: {size / 2**20:.1f} MiB; a {kind} may be at most "
                             f"{MAX_BYTES[kind] / 2**20:.0f} MiB")
        if size == 0:
            raise InputError(f"{shown}: the file is empty; expected a {kind}")
        self.folder.mkdir(parents=True, exist_ok=True)
        # the suffix stays last: the checks choose the decoder by it
        fd, name = tempfile.mkstemp(prefix=".upload-", suffix=src.suffix.lower(),
                                    dir=self.folder)
        os.close(fd)
        tmp = Path(name)
        try:
            shutil.copyfile(src, tmp)
            _check_upload(tmp, kind, shown)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise InputError(f"{shown}: cannot copy it into the project ({e.strerror or e})"
                             ) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def add(self, *, song: str | Path | None = None, keyframes: Sequence[str | Path] = (),
            lyrics: str | Path | None = None) -> Project:
        """Add uploads to the project (creating it): a song (as ``song.EXT``), keyframe
        images (into ``kf/``, appended to the schedule) and lyrics (``lyrics.EXT``).

        All-or-nothing: every upload is checked, and the project validated, before any
        file is put in place or the project file rewritten.
        """
        current = self.project()
        if current is None and (song is None or not keyframes):
            raise InputError("a new project needs a song and at least one keyframe image")
        if song is None and not keyframes and lyrics is None:
            raise InputError("nothing to add: upload a song, keyframes or lyrics first")
        kf_folder = self.folder / "kf"
        self.inside(kf_folder.relative_to(self.root))  # a kf/ symlink must not lead out
        staged: list[tuple[Path, Path]] = []  # (temp file, final path)
        try:
            data = project_to_dict(current, relative_to=self.folder) if current else {}
            if song is not None:
                target = self.folder / f"song{Path(song).suffix.lower()}"
                staged.append((self._stage(song, "song", AUDIO_SUFFIXES), target))
                data["audio"] = target.name
            taken = {p.name for p in kf_folder.glob("*")} if kf_folder.is_dir() else set()
            entries = list(data.get("keyframes", []))
            for upload in keyframes:
                tmp = self._stage(upload, "keyframe", IMAGE_SUFFIXES)
                name = _unused(safe_name(Path(upload).name), taken)
                taken.add(name)
                staged.append((tmp, kf_folder / name))
                entries.append({"image": f"kf/{name}"})
            data["keyframes"] = entries
            if lyrics is not None:
                target = self.folder / f"lyrics{Path(lyrics).suffix.lower()}"
                staged.append((self._stage(lyrics, "lyrics", LYRICS_SUFFIXES), target))
                data["lyrics"] = target.name
            project = self._validate(data, source="upload")
            kf_folder.mkdir(exist_ok=True)
            for tmp, target in staged:
                tmp.replace(target)
            staged = []
        finally:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
        for stem, keep, given in (("song", project.audio, song),
                                  ("lyrics", project.lyrics, lyrics)):
            for old in self.folder.glob(f"{stem}.*") if given is not None else ():
                if old != keep and old.suffix.lower() in AUDIO_SUFFIXES + LYRICS_SUFFIXES:
                    old.unlink()  # replaced by an upload of another type
        dump_project(project, self.project_file)
        return project

    # ------------------------------------------------------------------ the project
    def _validate(self, data: dict[str, Any], *, source: str) -> Project:
        from pydantic import ValidationError

        try:
            project = Project.model_validate({**data, "base_dir": self.folder})
        except ValidationError as e:
            raise InputError(format_validation_error(e, source=source, root=Project)) from None
        self._check_paths(project, source=source)
        return project

    def _check_paths(self, project: Project, *, source: str) -> None:
        """Refuse a project that names files outside the workspace (it could read them)."""
        for where, path in project.named_paths():
            if not _is_within(path, self.root):
                raise InputError(f"{source}: {where}: {path} is outside the workspace "
                                 f"{self.root}; expected a file inside it")

    def project(self) -> Project | None:
        """The project being edited, or None before a song and a keyframe are uploaded."""
        if not self.project_file.is_file():
            return None
        project = load_project(self.project_file)
        self._check_paths(project, source=str(self.project_file))
        return project

    def edit(self, rows: Sequence[Sequence[Any]] | None = None, **fields: Any) -> Project:
        """Rewrite the keyframes from the schedule table (see :data:`SCHEDULE_COLUMNS`) and set
        top-level fields (a None value removes the key), validated together and saved once.

        Rows are put in the order of their ``order`` column; an empty ``image`` drops the
        row. Errors name the row as the table shows it.
        """
        current = self.project()
        if current is None:
            raise InputError("no project yet: upload a song and keyframes first")
        data = project_to_dict(current, relative_to=self.folder)
        if rows is not None:
            data["keyframes"] = _schedule_entries(rows)
        for key, value in fields.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        project = self._validate(data, source="schedule")
        dump_project(project, self.project_file)
        return project


def _unused(name: str, taken: set[str]) -> str:
    stem, suffix = os.path.splitext(name)
    n, out = 2, name
    while out in taken:
        out, n = f"{stem}_{n}{suffix}", n + 1
    return out


def _schedule_entries(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    entries = []
    for i, row in enumerate(rows):
        cells = dict(zip(SCHEDULE_COLUMNS, list(row) + [None] * len(SCHEDULE_COLUMNS),
                         strict=False))
        image = str(cells["image"] or "").strip()
        if not image:
            continue
        try:
            order = float(cells["order"]) if str(cells["order"] or "").strip() else i + 1
        except (TypeError, ValueError):
            raise InputError(f"schedule row {i + 1}: order {cells['order']!r}; expected a "
                             "number") from None
        entry: dict[str, Any] = {"image": image}
        for key in ("text", "at"):
            value = str(cells[key] or "").strip()
            if value:
                entry[key] = value
        if _truthy(cells["cut"]):
            entry["cut"] = True
        beats = str(cells["beats"] or "").strip()
        if beats:
            entry["beats"] = beats
        entries.append((order, i, entry))
    return [e for _, _, e in sorted(entries, key=lambda x: (x[0], x[1]))]


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "y", "x", "cut")


def _is_within(path: Path, root: Path) -> bool:
    resolved = Path(path).resolve()
    return resolved == root or root in resolved.parents


def _check_upload(path: Path, kind: str, shown: str) -> None:
    """Decode enough of an upload to know it is what it claims; InputError naming ``shown``."""
    try:
        if kind == "keyframe":
            from douga.images import check_image

            check_image(path)
        elif kind == "lyrics":
            from douga.music.lyrics import load_lyrics

            load_lyrics(path)
        else:
            from douga.music.audio import audio_duration

            if audio_duration(path) <= 0:
                raise InputError(f"{path}: no audio in it")
    except DougaError as e:
        message = str(e).replace(str(path), shown)
        raise InputError(message) from None


def schedule_rows(project: Project) -> list[list[Any]]:
    """The keyframes as schedule-table rows: order, image (relative), text, at, cut, beats."""
    rows = []
    for i, kf in enumerate(project.keyframes):
        rows.append([i + 1, Path(kf.image).relative_to(project.base_dir).as_posix(),
                     kf.text or "", str(kf.at) if kf.at is not None else "", kf.cut,
                     "" if kf.beats is None else f"{kf.beats:g}"])
    return rows


@dataclass(frozen=True)
class GeneratorStatus:
    """Whether a generator can run for this project, and if not, why."""

    name: str
    available: bool
    reason: str = ""


def generator_status(project: Project | None) -> list[GeneratorStatus]:
    """Every registered generator, with what it is missing (packages or weights)."""
    from douga.generators import available_generators
    from douga.generators.base import generator_takes

    torch_ok = importlib.util.find_spec("torch") is not None
    out = []
    for name in available_generators():
        needs_checkpoint = generator_takes(name, "checkpoint")
        needs_guidance = generator_takes(name, "guidance")
        reason = ""
        if (needs_checkpoint or needs_guidance) and not torch_ok:
            reason = "needs torch: pip install 'douga[learned]'"
        elif needs_checkpoint and (project is None or project.checkpoint is None
                                   or not project.checkpoint.is_dir()):
            reason = "needs a model folder: `checkpoint:` in project.yaml (douga train)"
        elif needs_guidance:
            clip = project.guidance.clip if project is not None else None
            if clip is None or not (clip.startswith("hub:") or Path(clip).is_dir()):
                reason = "needs CLIP weights: `guidance: {clip: FOLDER}` in project.yaml"
        out.append(GeneratorStatus(name, not reason, reason))
    return out
