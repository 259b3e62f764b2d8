"""The project file: what the user asks douga to make, validated and with absolute paths.

A project names the song, the keyframes (genga) in order with optional text and
musical pins, optional timed lyrics, a global style text and the output format::

    audio: song.wav
    keyframes:
      - image: kf/01.png
        text: "she looks up at the falling petals"
      - image: kf/02.png
        at: "5:1"        # bar:beat (1-based) or seconds such as "12.5s"
        cut: true
    lyrics: lyrics.lrc
    style: "soft watercolor anime"
    output: {width: 1280, height: 720, fps: 24}

Optional rendering keys: ``generator`` (in-betweening generator, default ``flow``),
``fit`` (``contain``, ``cover`` or ``stretch``: how keyframes of another size are
fitted to the frame), ``effects`` (``none``, or a mapping of effect and lyric-text
options, see :class:`douga.effects.EffectStyle`), ``seed`` and ``output.crf``.

Paths are relative to the project file and become absolute on loading. Every problem
with the file (bad YAML, an unknown key, a wrong type, a missing file) is reported as
one ``InputError`` line naming the file, the field path, the value and what was expected.
"""

from __future__ import annotations

import difflib
import glob as globlib
import math
import os
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from douga.effects import EffectStyle
from douga.errors import InputError
from douga.guided.settings import GuidanceSpec
from douga.images import FitMode, check_image
from douga.jsonio import write_text_atomic

if TYPE_CHECKING:
    from douga.music.musicmap import MusicMap

__all__ = [
    "ANCHOR_FORMS",
    "Anchor",
    "Keyframe",
    "OutputSpec",
    "Project",
    "SamplingSpec",
    "dump_project",
    "format_validation_error",
    "load_project",
    "natural_key",
    "new_project",
    "parse_anchor",
    "project_to_dict",
]

PROJECT_FILENAME = "project.yaml"
ANCHOR_FORMS = "'bar:beat' such as '5:1' or '9:2.5' (1-based), or seconds such as '12.5s'"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
LYRICS_SUFFIXES = (".lrc", ".srt")


# ---------------------------------------------------------------------------- anchors
@dataclass(frozen=True)
class Anchor:
    """Where a keyframe is pinned: a musical position ``bar:beat`` or a time in seconds.

    Exactly one form is set: ``bar`` and ``beat`` (both 1-based, beat may be
    fractional), or ``seconds``. ``str(anchor)`` gives the canonical text back
    (``"5:1"``, ``"9:2.5"``, ``"12.5s"``), which ``parse_anchor`` reads again.
    """

    bar: int | None = None
    beat: float | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        musical = self.bar is not None and self.beat is not None
        timed = self.seconds is not None
        if musical == timed or (self.bar is None) != (self.beat is None):
            raise ValueError("Anchor needs either bar and beat, or seconds")

    @property
    def is_musical(self) -> bool:
        """True for a ``bar:beat`` position, False for a time in seconds."""
        return self.seconds is None

    def to_seconds(self, music: MusicMap) -> float:
        """Time of this anchor in seconds in the analysed song ``music``.

        Raises
        ------
        InputError
            A musical anchor in a song without beats, or one that falls before it starts.
        """
        if self.seconds is not None:
            return self.seconds
        assert self.bar is not None and self.beat is not None
        return music.time_at(self.bar, self.beat)

    def __str__(self) -> str:
        if self.seconds is not None:
            return f"{_number_text(self.seconds)}s"
        return f"{self.bar}:{_number_text(float(self.beat or 1.0))}"


def _number_text(x: float) -> str:
    """Shortest text that reads back as the same float; integers without a decimal point."""
    if float(x).is_integer():
        return str(int(x))
    # repr is the shortest round-tripping text; Decimal spells its exponent out
    return format(Decimal(repr(float(x))), "f")


_MUSICAL_RE = re.compile(r"(\d+):(\d+(?:\.\d*)?|\.\d+)")
_SECONDS_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*s?")


def _anchor_from(value: object) -> Anchor:
    """Anchor from YAML input; raises ValueError with the 'expected ...' text."""
    if isinstance(value, Anchor):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected a position, {ANCHOR_FORMS}")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"expected a time of 0 seconds or more, or {ANCHOR_FORMS}")
        return Anchor(seconds=seconds)
    text = value.strip()
    m = _MUSICAL_RE.fullmatch(text)
    if m:
        bar, beat = int(m.group(1)), float(m.group(2))
        if bar < 1:
            raise ValueError(
                f"expected bar 1 or later (bars count from 1); positions are {ANCHOR_FORMS}"
            )
        if beat < 1:
            raise ValueError(
                f"expected beat 1 or later (beats count from 1); positions are {ANCHOR_FORMS}"
            )
        return Anchor(bar=bar, beat=beat)
    m = _SECONDS_RE.fullmatch(text)
    if m:
        return Anchor(seconds=float(m.group(1)))
    raise ValueError(f"expected a position, {ANCHOR_FORMS}")


def parse_anchor(text: str | float, *, field: str = "at") -> Anchor:
    """Read a keyframe pin: ``"5:1"``, ``"9:2.5"`` (bar:beat) or ``"12.5s"``, ``"12.5"``, 12.5 (s).

    Parameters
    ----------
    text : str or float
        The position as written; a bare number means seconds.
    field : str, keyword-only
        Name of the field or flag it came from, used in the error message.

    Raises
    ------
    InputError
        Anything else, naming ``field``, the value and the accepted forms.
    """
    try:
        return _anchor_from(text)
    except ValueError as e:
        raise InputError(f"{field}: got {_show(text)}; {e}") from None


def _serialize_anchor(anchor: Anchor) -> str:
    return str(anchor)


AnchorField = Annotated[
    Anchor,
    PlainValidator(_anchor_from),
    PlainSerializer(_serialize_anchor, return_type=str),
    WithJsonSchema({"type": ["string", "number"], "description": ANCHOR_FORMS}),
]


# ------------------------------------------------------------------------ file paths
def _path_from(value: object) -> Path:
    if isinstance(value, Path):
        return value
    if isinstance(value, str) and value.strip():
        return _expand(value.strip())
    raise ValueError("expected a file path (text), relative to the project file")


def _expand(path: str | os.PathLike[str]) -> Path:
    # os.path.expanduser leaves an unknown ~user alone; Path.expanduser raises
    return Path(os.path.expanduser(path))


def _serialize_path(path: Path) -> str:
    return str(path)


PathField = Annotated[
    Path,
    PlainValidator(_path_from),
    PlainSerializer(_serialize_path, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string"}),
]


# ---------------------------------------------------------------------------- models
class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, coerce_numbers_to_str=True
    )


class Keyframe(_Model):
    """One artist keyframe (genga) and what the user said about it."""

    image: PathField
    """The keyframe picture; absolute once inside a loaded Project."""
    text: str | None = None
    """What happens in this picture; guides generators that read text."""
    at: AnchorField | None = None
    """Pin: the keyframe is shown exactly at this musical position or time."""
    cut: bool = False
    """Hard cut into this keyframe: no in-between from the previous one."""
    beats: float | None = Field(default=None, gt=0)
    """How many beats of the song this keyframe's stretch should take, relative to the
    others; the planner weights spacing by it where no pins decide."""


class OutputSpec(_Model):
    """The video to write: frame size in pixels and frame rate."""

    width: int = Field(default=1280, ge=16, le=7680)
    height: int = Field(default=720, ge=16, le=7680)
    fps: float = Field(default=24.0, ge=1, le=120)
    crf: int = Field(default=18, ge=0, le=51)
    """H.264 constant rate factor: lower is better quality and a bigger file."""

    @field_validator("width", "height")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("expected an even number of pixels (H.264 needs even sizes)")
        return v


class SamplingSpec(_Model):
    """How generators that sample (``learned``) draw their frames' tokens."""

    temperature: float = Field(default=1.0, ge=0, le=10)
    """Sampling temperature: lower is safer and plainer; 0 always takes the most likely
    token (the same frames for every seed)."""
    top_k: int = Field(default=100, ge=0, le=1_000_000)
    """Sample only among the k most likely tokens; 0: among all of them."""


class Project(_Model):
    """A whole project. Paths are absolute: relative ones are resolved against ``base_dir``."""

    audio: PathField
    keyframes: list[Keyframe]
    """At least one, unless ``guidance.prompts`` lets ``douga guided`` work from text alone
    (``keyframes: []``)."""
    lyrics: PathField | None = None
    style: str | None = None
    output: OutputSpec = Field(default_factory=OutputSpec)
    generator: str = Field(default="flow", min_length=1)
    """Name of the in-betweening generator (``douga inbetween --help`` lists them)."""
    checkpoint: PathField | None = None
    """Model folder for generators that need one (``learned``: ``douga train ...``'s OUT/model)."""
    sampling: SamplingSpec = Field(default_factory=SamplingSpec)
    """Temperature and top-k of the generators that sample (``learned``)."""
    fit: FitMode = "contain"
    """How a keyframe of another size or aspect ratio is fitted to the frame."""
    effects: EffectStyle = Field(default_factory=EffectStyle)
    """Beat effects and lyric text; ``effects: none`` turns them all off."""
    seed: int = Field(default=0, ge=0)
    """Seed for generators that use randomness; the same seed renders the same video."""
    guidance: GuidanceSpec = Field(default_factory=GuidanceSpec)
    """Text- and audio-guided generation (``douga guided``, the ``clip`` generator)."""
    base_dir: PathField = Field(default_factory=Path.cwd)
    """Folder of the project file (not a key in the file); relative paths start here."""

    @field_validator("lyrics")
    @classmethod
    def _lyrics_format(cls, v: Path | None) -> Path | None:
        if v is not None and v.suffix.lower() not in LYRICS_SUFFIXES:
            raise ValueError("expected a lyrics file ending in .lrc or .srt")
        return v

    @field_validator("output", mode="before")
    @classmethod
    def _empty_output(cls, v: object) -> object:
        # `output:` with nothing after it reads as null in YAML: mean the defaults
        return OutputSpec() if v is None else v

    @model_validator(mode="before")
    @classmethod
    def _resolve_paths(cls, data: Any) -> Any:
        """Make every path absolute, relative to ``base_dir`` (default: the current folder)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        base = data.get("base_dir")
        if base is None:
            base = Path.cwd()
        elif isinstance(base, str | Path):
            base = _expand(base).absolute()
        else:
            return data  # a wrong type: let field validation report it
        data["base_dir"] = base
        effects = data.get("effects")
        if isinstance(effects, dict) and "font" in effects:
            data["effects"] = {**effects, "font": _absolute(effects["font"], base)}
        for key in ("audio", "lyrics", "checkpoint"):
            if key in data:
                data[key] = _absolute(data[key], base)
        guidance = data.get("guidance")
        if isinstance(guidance, dict):
            data["guidance"] = guidance = {**guidance, **{
                k: _weights_path(guidance[k], base, hub_name=k == "clip")
                for k in ("clip", "vqgan", "audio_encoder") if isinstance(guidance.get(k), str)}}
            if isinstance(guidance.get("prompts"), list):
                guidance["prompts"] = [
                    {**e, "image": _weights_path(e["image"], base, hub_name=False)}
                    if isinstance(e, dict) and isinstance(e.get("image"), str) else e
                    for e in guidance["prompts"]]
        kfs = data.get("keyframes")
        if isinstance(kfs, list):
            out: list[Any] = []
            for kf in kfs:
                if isinstance(kf, Keyframe):
                    kf = kf.model_copy(update={"image": _absolute(kf.image, base)})
                elif isinstance(kf, dict) and "image" in kf:
                    kf = {**kf, "image": _absolute(kf["image"], base)}
                out.append(kf)
            data["keyframes"] = out
        return data

    def named_paths(self, *, weights: bool = True) -> list[tuple[str, Path]]:
        """Every file the project names, as (field, absolute path): the song, keyframe
        images, lyrics, font and image prompts, then with ``weights`` the model checkpoint
        and the guidance weights (a ``hub:`` CLIP name is not a path and is left out)."""
        g = self.guidance
        named: list[tuple[str, Path | str | None]] = [
            ("audio", self.audio),
            *((f"keyframes[{i}].image", kf.image) for i, kf in enumerate(self.keyframes)),
            ("lyrics", self.lyrics), ("effects.font", self.effects.font),
            *((f"guidance.prompts[{i}].image", e.image) for i, e in enumerate(g.prompts)),
        ]
        if weights:
            named += [("checkpoint", self.checkpoint), ("guidance.vqgan", g.vqgan),
                      ("guidance.audio_encoder", g.audio_encoder),
                      ("guidance.clip", None if (g.clip or "").startswith("hub:") else g.clip)]
        return [(where, Path(path)) for where, path in named if path is not None]

    def keyframe_images(self) -> list[Path]:
        """The absolute image paths, in keyframe order."""
        return [kf.image for kf in self.keyframes]


def _absolute(value: object, base: Path) -> object:
    """``value`` joined to ``base`` when it is a relative path; anything else untouched."""
    if isinstance(value, str) and value.strip():
        value = Path(value.strip())
    if isinstance(value, Path):
        value = _expand(value)
        return value if value.is_absolute() else base / value
    return value


def _weights_path(value: str, base: Path, *, hub_name: bool) -> str:
    """A weights path made absolute; a hub name (``hub:org/model``) stays as it is."""
    if hub_name and value.strip().startswith("hub:"):
        return value.strip()
    path = _absolute(value, base)
    assert isinstance(path, Path)
    return os.path.normpath(path)


# ----------------------------------------------------------------- validation errors
_FIELD_HELP = {
    "audio": "a path to the song (wav, flac, mp3, ogg, m4a), relative to the project file",
    "keyframes": "a list of keyframes, each a mapping with at least 'image'",
    "image": "a path to an image file, relative to the project file",
    "text": "a text (put it in quotes if YAML reads it as something else)",
    "style": "a text (put it in quotes if YAML reads it as something else)",
    "at": f"a position, {ANCHOR_FORMS}",
    "cut": "true or false",
    "beats": "a positive number of beats",
    "width": "an even whole number of pixels from 16 to 7680",
    "height": "an even whole number of pixels from 16 to 7680",
    "fps": "frames per second, a number from 1 to 120",
    "lyrics": "a path to an .lrc or .srt file, relative to the project file",
    "output": "a mapping such as {width: 1280, height: 720, fps: 24}",
    "crf": "a whole number from 0 (lossless) to 51; 18 looks transparent",
    "generator": "the name of an in-betweening generator such as flow, crossfade or hold",
    "checkpoint": "a model folder (for the learned generator), relative to the project file",
    "fit": "contain, cover or stretch",
    "sampling": "a mapping such as {temperature: 0.8, top_k: 50} (for the learned generator)",
    "temperature": "a number from 0 (always the most likely token) to 10",
    "top_k": "a whole number from 0 (all tokens) to 1000000",
    "effects": "none, or a mapping such as {flash: 1.0, zoom: 0.5, shake: 0, lyric_text: true}",
    "seed": "a whole number ≥ 0",
    "guidance": "a mapping such as {clip: models/clip-vit-base-patch32, prompts: [{text: ...}]}",
    "clip": "a CLIP checkpoint folder, relative to the project file (or a hub name)",
    "vqgan": "a VQ-GAN folder or taming NAME.ckpt, relative to the project file",
    "audio_encoder": "a Wav2CLIP checkpoint file, relative to the project file",
    "prompts": "a list of prompts, each a mapping such as {text: 'a red fox | blurry:-0.5'}",
    "section": "a section number, 1-based",
    "lyric": "a lyric line number, 1-based",
}


_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _loc_text(loc: Sequence[int | str]) -> str:
    """('keyframes', 2, 'image') → 'keyframes[2].image'; odd keys are quoted."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def _path_text(path: Path) -> str:
    text = str(path)
    return text if text.isprintable() else repr(text)


def _show(value: object, limit: int = 60) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}" if value else "an empty list"
    text = repr(str(value) if isinstance(value, Path) else value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc`` (a path into ``root``)."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int):
            args = typing.get_args(tp)
            if typing.get_origin(tp) not in (list, tuple, Sequence) or not args:
                return None
            tp = args[0]
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    """``X | None`` and ``Annotated[X, ...]`` → ``X``."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [k for k in model.model_fields if k != "base_dir"]


def format_validation_error(
    error: ValidationError, *, source: str, root: type[BaseModel] = BaseModel
) -> str:
    """One line for a pydantic ValidationError: ``source: field.path: got X; expected Y``.

    Bad keys come first (a misspelt key also makes its real one look missing); unknown ones
    get a did-you-mean from the keys ``root`` allows at that place.
    """
    key_errors = ("extra_forbidden", "invalid_key")
    errors = sorted(error.errors(), key=lambda e: e["type"] not in key_errors)
    first = errors[0]
    loc = tuple(first["loc"])
    kind = first["type"]
    where = _loc_text(loc)
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    help_text = _FIELD_HELP.get(name)
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        allowed = _keys_of(model) if model is not None else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        if close:
            msg = f"{where}: unknown key; did you mean '{close[0]}'?"
        elif allowed:
            msg = f"{where}: unknown key; expected one of: {', '.join(allowed)}"
        else:
            msg = f"{where}: unknown key"
    elif kind == "invalid_key":
        parent = _loc_text(loc[:-1]) or "top level"
        msg = f"{parent}: key {_show(loc[-1])} is not text; expected key names"
    elif kind == "missing":
        msg = f"{where}: missing; expected {help_text or 'a value'}"
    elif kind == "model_type" and loc and isinstance(loc[-1], int):
        got = _show(first["input"])
        msg = f"{where}: got {got}; expected a mapping such as {{image: kf/01.png}}"
    elif kind == "value_error":
        # our own validators already say what they expected
        reason = str(first["msg"]).removeprefix("Value error, ")
        msg = f"{where}: got {_show(first['input'])}; {reason}"
    else:
        text = str(first["msg"])
        if text.startswith("Input is not a valid path"):
            text = "a file or folder path"
        expected = help_text or text.replace("Input should be", "expected", 1)
        msg = f"{where or 'top level'}: got {_show(first['input'])}; expected {expected}".replace(
            "expected expected", "expected"
        )
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {msg}{suffix}"


# ------------------------------------------------------------------------- YAML I/O
class _Loader(yaml.SafeLoader):
    """safe_load without YAML 1.1's surprises for this file.

    ``at: 5:1`` stays the text "5:1" (YAML 1.1 reads it as the base-60 number 301),
    dates stay text, and a key given twice in one mapping is an error instead of the
    last one silently winning.
    """


def _int_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    if ":" in node.value:
        return node.value
    return loader.construct_yaml_int(node)


def _float_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    if ":" in node.value:
        return node.value
    return loader.construct_yaml_float(node)


def _text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    return node.value


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> object:
    seen: dict[object, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            dup = key in seen
        except TypeError:  # unhashable key; the constructor below reports it
            continue
        if dup:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
            )
        seen[key] = key_node
    return loader.construct_yaml_map(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _int_or_text)
_Loader.add_constructor("tag:yaml.org,2002:float", _float_or_text)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _text)
_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def read_yaml(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}: not UTF-8 text (byte {e.start}); expected a YAML project file saved as UTF-8"
        ) from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = _one_line(e.problem or e.context or "malformed")
        raise InputError(f"{path}: {where}invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        raise InputError(
            f"{path}: line {line}: invalid YAML: character {e.character!r} is not allowed in YAML"
        ) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
        raise InputError(f"{path}: invalid YAML: {_one_line(str(e))}") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def load_project(path: str | Path) -> Project:
    """Read and validate a project file; every path in it becomes absolute.

    Parameters
    ----------
    path : str or Path
        The project file, or a folder holding ``project.yaml``.

    Returns
    -------
    Project
        With ``base_dir`` set to the file's folder.

    Raises
    ------
    InputError
        Malformed YAML (with line and column), an unknown key (with a did-you-mean),
        a value of the wrong type or range, or a file the project names that does not
        exist, each as one line naming the file and the field.
    """
    p = _expand(path)
    if p.is_dir():
        p = p / PROJECT_FILENAME
    if not p.is_file():
        raise InputError(f"{p}: file not found; expected a douga project file ({PROJECT_FILENAME})")
    data = read_yaml(p)
    keys = ", ".join(_keys_of(Project))
    if data is None:
        raise InputError(f"{p}: file is empty; expected a mapping with keys such as {keys}")
    if not isinstance(data, dict):
        raise InputError(
            f"{p}: got {_show(data)} at the top level; expected a mapping with keys such as {keys}"
        )
    if "base_dir" in data:
        raise InputError(
            f"{p}: base_dir: unknown key; paths are relative to the project file's folder"
        )
    try:
        project = Project.model_validate({**data, "base_dir": p.parent.resolve()})
    except ValidationError as e:
        raise InputError(format_validation_error(e, source=str(p), root=Project)) from None
    if not project.keyframes and not project.guidance.prompts:
        raise InputError(f"{p}: keyframes: got an empty list; expected a list of keyframes "
                         "(or guidance.prompts, for `douga guided` from text alone)")
    _check_files(project, source=str(p))
    return project


def _check_files(project: Project, *, source: str) -> None:
    for where, file in project.named_paths(weights=False):
        try:
            exists, is_file = file.exists(), file.is_file()
        except (OSError, ValueError) as e:  # NUL byte, name too long, unencodable...
            shown = _show(str(file))
            raise InputError(f"{source}: {where}: not a usable path: {shown} ({e})") from None
        if not exists:
            raise InputError(f"{source}: {where}: file not found: {_path_text(file)}")
        if not is_file:
            raise InputError(f"{source}: {where}: not a file: {_path_text(file)}")


def _relative(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:  # another drive on Windows: no relative path exists
        return path.as_posix()


def project_to_dict(project: Project, *, relative_to: Path) -> dict[str, Any]:
    """The project as YAML-ready data, paths relative to ``relative_to``; defaults left out."""
    start = relative_to.resolve()
    keyframes = []
    for kf in project.keyframes:
        entry: dict[str, Any] = {"image": _relative(kf.image, start)}
        if kf.text is not None:
            entry["text"] = kf.text
        if kf.at is not None:
            entry["at"] = str(kf.at)
        if kf.cut:
            entry["cut"] = True
        if kf.beats is not None:
            entry["beats"] = _plain_number(kf.beats)
        keyframes.append(entry)
    data: dict[str, Any] = {"audio": _relative(project.audio, start), "keyframes": keyframes}
    if project.lyrics is not None:
        data["lyrics"] = _relative(project.lyrics, start)
    if project.style is not None:
        data["style"] = project.style
    out = project.output
    data["output"] = {"width": out.width, "height": out.height, "fps": _plain_number(out.fps)}
    if out.crf != OutputSpec().crf:
        data["output"]["crf"] = out.crf
    if project.generator != "flow":
        data["generator"] = project.generator
    if project.checkpoint is not None:
        data["checkpoint"] = _relative(project.checkpoint, start)
    sampling = project.sampling.model_dump(mode="json", exclude_defaults=True)
    if sampling:
        data["sampling"] = sampling
    if project.fit != "contain":
        data["fit"] = project.fit
    if project.effects.is_none:
        data["effects"] = "none"
    else:
        effects = project.effects.model_dump(mode="json", exclude_defaults=True)
        if effects.get("font") is not None:
            effects["font"] = _relative(Path(effects["font"]), start)
        if effects:
            data["effects"] = effects
    if project.seed:
        data["seed"] = project.seed
    guidance = project.guidance.model_dump(mode="json", exclude_defaults=True)
    for key in ("clip", "vqgan", "audio_encoder"):
        if key in guidance and Path(guidance[key]).is_absolute():
            guidance[key] = _relative(Path(guidance[key]), start)
    for entry in guidance.get("prompts", []):
        if entry.get("image"):
            entry["image"] = _relative(Path(entry["image"]), start)
    if guidance:
        data["guidance"] = guidance
    return data


def _plain_number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def dump_project(project: Project, path: str | Path) -> None:
    """Write ``project`` as YAML to ``path``, with paths relative to the file's folder.

    The file is written atomically (a temporary file renamed over the target), so a
    failure never leaves half a project file behind.
    """
    p = _expand(path)
    data = project_to_dict(project, relative_to=p.parent)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    p.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(p, text)


def natural_key(text: str) -> list[Any]:
    """Sort key that orders embedded numbers by value: 01, 2, 10 (not 01, 10, 2)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _find_images(images: Sequence[str | Path] | str) -> list[Path]:
    if isinstance(images, str):
        pattern = os.path.expanduser(images)
        matched = [Path(m) for m in globlib.glob(pattern, recursive=True) if os.path.isfile(m)]
        if not matched:
            raise InputError(
                f"images: no files match {images!r}; expected a pattern such as 'kf/*.png'"
            )
        found = [m for m in matched if m.suffix.lower() in IMAGE_SUFFIXES]
        if not found:
            raise InputError(
                f"images: {images!r} matched {len(matched)} file(s) but no image; expected "
                f"files ending in {', '.join(IMAGE_SUFFIXES)}"
            )
    else:
        found = [_expand(i) for i in images]
        if not found:
            raise InputError("images: none given; expected at least one keyframe image")
        for f in found:
            if not f.is_file():
                raise InputError(f"{f}: file not found; expected a keyframe image")
    return sorted(found, key=lambda f: natural_key(f.as_posix()))


def new_project(
    directory: str | Path,
    *,
    song: str | Path,
    images: Sequence[str | Path] | str,
    lyrics: str | Path | None = None,
    style: str | None = None,
    output: OutputSpec | None = None,
    overwrite: bool = False,
) -> Path:
    """Start a project: write ``DIR/project.yaml`` naming the song and the keyframes.

    Nothing is copied; the file refers to the song and images by paths relative to
    ``directory``. Images are ordered naturally by path (01, 2, 10).

    Parameters
    ----------
    directory : str or Path
        Folder for the project file; created when missing.
    song : str or Path
        The song file.
    images : list of paths, or str
        The keyframe images, or a glob pattern (relative to the current folder, ``**``
        allowed) of which the image files are taken.
    lyrics, style, output : optional
        Written into the project as given.
    overwrite : bool, keyword-only
        Replace an existing ``project.yaml``. Default False.

    Returns
    -------
    Path
        The project file written.

    Raises
    ------
    InputError
        The song, an image or the lyrics are missing or unreadable, the glob matches
        no image, or the project file exists and ``overwrite`` is False.
    """
    folder = _expand(directory)
    target = folder / PROJECT_FILENAME
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file; expected a folder for the new project")
    if target.exists() and not overwrite:
        raise InputError(f"{target}: already exists; not overwriting it")
    song_path = _expand(song)
    if not song_path.is_file():
        raise InputError(
            f"{song_path}: file not found; expected the song (wav, flac, mp3, ogg, m4a)"
        )
    lyrics_path = _expand(lyrics) if lyrics is not None else None
    if lyrics_path is not None and not lyrics_path.is_file():
        raise InputError(f"{lyrics_path}: file not found; expected an .lrc or .srt lyrics file")
    image_paths = _find_images(images)
    # the files must be usable, not only present: a project is no place to find out later
    from douga.music.audio import audio_duration
    from douga.music.lyrics import load_lyrics

    audio_duration(song_path)
    for image in image_paths:
        check_image(image)
    if lyrics_path is not None:
        load_lyrics(lyrics_path)
    try:
        project = Project(
            audio=song_path.absolute(),
            keyframes=[Keyframe(image=i.absolute()) for i in image_paths],
            lyrics=lyrics_path.absolute() if lyrics_path is not None else None,
            style=style,
            output=output or OutputSpec(),
            base_dir=folder.absolute(),
        )
    except ValidationError as e:
        raise InputError(format_validation_error(e, source="new project", root=Project)) from None
    folder.mkdir(parents=True, exist_ok=True)
    dump_project(project, target)
    return target
