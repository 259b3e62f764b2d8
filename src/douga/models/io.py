"""Model folders: ``config.json`` + ``model.safetensors``, loaded strictly.

A constructor never loads weights; :func:`save_model` / :func:`load_model` move a
model's config and weights to and from a folder (the ``save_pretrained`` /
``from_pretrained`` convention). Training checkpoints with optimiser state are a
separate, resumable format (see :mod:`douga.training.loop`).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from torch import nn

from douga.errors import InputError

CONFIG = "config.json"
WEIGHTS = "model.safetensors"


class _Config(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


M = TypeVar("M", bound=nn.Module)
T = TypeVar("T")
Range = tuple[float | None, float | None]  # inclusive bounds; None: unbounded


def save_model(model: nn.Module, config: _Config, folder: str | Path, *, kind: str) -> Path:
    """Write ``config.json`` (with ``kind``) and ``model.safetensors`` to ``folder`` atomically."""
    from safetensors.torch import save_file

    out = Path(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / CONFIG).write_text(
            json.dumps({"kind": kind, **config.to_dict()}, indent=1), encoding="utf-8"
        )
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_config(folder: str | Path, *, kind: str) -> dict[str, Any]:
    """The config of a model folder, checked to be of ``kind``."""
    path = Path(folder) / CONFIG
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: not found; expected a saved {kind} model folder") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    if not isinstance(data, dict) or data.get("kind") != kind:
        got = data.get("kind") if isinstance(data, dict) else None
        raise InputError(f"{path}: a {got!r} model; expected a {kind!r} model")
    data.pop("kind")
    return data


def hf_model_type(folder: str | Path) -> object:
    """The ``model_type`` of a transformers checkpoint folder's config.json (None when
    it has none or cannot be read): tells a CLIP or GPT-2 folder from anything else."""
    try:
        data = json.loads((Path(folder) / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("model_type") if isinstance(data, dict) else None


def load_config(folder: str | Path, cls: type[T], *, kind: str) -> T:
    """The config dataclass of a model folder, checked field by field."""
    return config_from_dict(cls, read_config(folder, kind=kind), source=str(Path(folder) / CONFIG))


def config_from_dict(cls: type[T], values: Mapping[str, Any], *, source: str,
                     prefix: str = "") -> T:
    """A model config dataclass from a mapping; an InputError names ``source`` and the
    field (``prefix`` + name) for an unknown key (with a did-you-mean) or a bad value."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in values:
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
            hint = (f"did you mean '{close[0]}'?" if close
                    else f"expected one of: {', '.join(names)}")
            raise InputError(f"{source}: {prefix}{key}: unknown key; {hint}")
    try:
        from_dict = getattr(cls, "from_dict", None)
        return from_dict(values) if from_dict is not None else cls(**values)
    except (TypeError, ValueError) as e:
        raise InputError(f"{source}: {prefix}{e}") from None


def check_config(config: Any, ranges: Mapping[str, Range]) -> None:
    """Raise ValueError naming the first field of a config dataclass whose value has the
    wrong type (that of its default; tuples element by element) or lies outside ``ranges``."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        default = f.default
        if isinstance(default, tuple):
            kind: type = type(default[0]) if default else int
            if not isinstance(value, tuple):
                raise ValueError(f"{f.name}: got {value!r}; expected a list")
            items = value
        else:
            kind, items = type(default), (value,)
        lo, hi = ranges.get(f.name, (None, None))
        for x in items:
            if not _is_a(x, kind) or (lo is not None and x < lo) or (hi is not None and x > hi):
                raise ValueError(f"{f.name}: got {value!r}; expected {_wanted(kind, lo, hi)}")


def _is_a(x: Any, kind: type) -> bool:
    if kind is bool or isinstance(x, bool):
        return kind is bool and isinstance(x, bool)
    if kind is float:
        return isinstance(x, int | float) and math.isfinite(x)
    return isinstance(x, kind)


def _wanted(kind: type, lo: float | None, hi: float | None) -> str:
    what = {int: "an integer", float: "a number", bool: "true or false", str: "text"}.get(
        kind, kind.__name__)
    if lo is not None and hi is not None:
        return f"{what} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"{what} ≥ {lo:g}"
    return what


def load_weights(model: M, folder: str | Path) -> M:
    """Load ``model.safetensors`` from ``folder`` into ``model``, strictly."""
    from safetensors.torch import load_file

    path = Path(folder) / WEIGHTS
    try:
        state = load_file(str(path))
    except FileNotFoundError:
        raise InputError(f"{path}: not found; expected the model's weights") from None
    except Exception as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0:2]
        raise InputError(f"{path}: weights do not fit the config ({' '.join(first)})") from None
    return model
