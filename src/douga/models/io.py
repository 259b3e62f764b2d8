"""Model folders: ``config.json`` + ``model.safetensors``, loaded strictly.

A constructor never loads weights; :func:`save_model` / :func:`load_model` move a
model's config and weights to and from a folder (the ``save_pretrained`` /
``from_pretrained`` convention). Training checkpoints with optimiser state are a
separate, resumable format (see :mod:`douga.training.loop`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol, TypeVar

from torch import nn

from douga.errors import InputError

CONFIG = "config.json"
WEIGHTS = "model.safetensors"


class _Config(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


M = TypeVar("M", bound=nn.Module)


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
