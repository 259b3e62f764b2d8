"""Strict loading of published torch weights by path: bare state dicts and training checkpoints.

Third-party weights (the FID Inception, I3D) come as a bare state dict saved with
``torch.save(model.state_dict())``. They are loaded strictly: every parameter and
buffer of the model must be in the file with its shape, and nothing else may be.
The one allowance is BatchNorm's ``num_batches_tracked`` counter, which files saved
by PyTorch before 0.4.1 lack; it only matters for training and is kept at the
model's own value.
"""

from __future__ import annotations

import pickle
import types
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from douga.errors import InputError

__all__ = ["load_state_dict_file", "read_checkpoint_state"]

_OPTIONAL_SUFFIX = "num_batches_tracked"

M = TypeVar("M", bound=nn.Module)


def _listing(keys: list[str], limit: int = 3) -> str:
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def load_state_dict_file(model: M, path: str | Path, *, what: str,
                         prefix: str | None = None) -> M:
    """Load the state dict saved at ``path`` into ``model``, strictly, and return it in eval mode.

    Parameters
    ----------
    model
        A freshly constructed model of the architecture the file was saved from.
    path
        A file written by ``torch.save(state_dict)``; read with ``weights_only=True``
        (no code in the file is run) onto the CPU.
    what
        What the file should hold, for error messages (e.g. ``"FID InceptionV3
        weights (pt_inception-2015-12-05-6726825d.pth)"``).

    Returns
    -------
    torch.nn.Module
        ``model`` with the weights, in eval mode, gradients off.

    Raises
    ------
    InputError
        Naming the file: it is missing or unreadable, is not a state dict, lacks
        keys, has unexpected keys, or holds tensors of the wrong shape.
    """
    p = Path(path)
    _require_file(p, what)
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds on a corrupt or foreign file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"{p}: cannot read it as a torch state dict ({first}); "
                         f"expected {what}") from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise InputError(f"{p}: not a state dict (name -> tensor); expected {what}")
    if prefix is not None:
        state = {k: v for k, v in state.items() if k.startswith(prefix)}

    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith(_OPTIONAL_SUFFIX)]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {_listing(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_listing(unexpected)}")
        raise InputError(f"{p}: does not fit the architecture ({'; '.join(parts)}); "
                         f"expected {what}")
    wrong = [f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
             for k, v in own.items() if k in state and state[k].shape != v.shape]
    if wrong:
        raise InputError(f"{p}: tensors of the wrong shape: {_listing(wrong)}; expected {what}")
    full = {**{k: v for k, v in own.items() if k not in state}, **state}
    model.load_state_dict(full, strict=True)
    model.eval().requires_grad_(False)
    return model


# ------------------------------------------------------------------ training checkpoints
_TENSOR_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("collections", "OrderedDict"),
}


class _Opaque:
    """Stands in for any class a checkpoint names that is not a tensor (trainer callbacks,
    hyper-parameter containers): it takes whatever it is given and runs no code."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        pass

    # containers pickled as dict or list subclasses are filled item by item
    def __setitem__(self, key: object, value: object) -> None:
        pass

    def append(self, value: object) -> None:
        pass

    def extend(self, values: object) -> None:
        pass


class _TensorsOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _TENSOR_GLOBALS or (
            module == "torch" and isinstance(getattr(torch, name, None), torch.dtype)
        ):
            return super().find_class(module, name)
        return _Opaque


def _load_tensors_only(file: Any, **kwargs: Any) -> Any:
    return _TensorsOnlyUnpickler(file, **kwargs).load()


# every unpickling torch.load does with it (the legacy format's header too) goes through
# the restricted unpickler
_tensors_only = types.SimpleNamespace(Unpickler=_TensorsOnlyUnpickler, load=_load_tensors_only,
                                      __name__="douga_tensors_only")


def read_checkpoint_state(path: str | Path, *, what: str) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of a training checkpoint (PyTorch Lightning ``.ckpt`` or a bare one).

    Research checkpoints pickle more than tensors (trainer callbacks, hyper-parameters
    with their classes). They are read without running any of it: first with
    ``weights_only=True``; if the file names other classes, with an unpickler that
    rebuilds tensors and replaces every other class by an inert placeholder.

    Raises
    ------
    InputError
        Naming the file: missing, unreadable, or without a name -> tensor mapping.
    """
    p = Path(path)
    _require_file(p, what)
    try:
        data = torch.load(p, map_location="cpu", weights_only=True)
    except Exception:
        try:
            data = torch.load(p, map_location="cpu", weights_only=False,
                              pickle_module=_tensors_only)
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise InputError(f"{p}: cannot read it as a torch checkpoint ({first}); "
                             f"expected {what}") from None
    state = data.get("state_dict", data) if isinstance(data, dict) else None
    if not isinstance(state, dict) or not state:
        raise InputError(f"{p}: no state_dict in it; expected {what}")
    tensors = {k: v for k, v in state.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    if not tensors:
        raise InputError(f"{p}: its state_dict holds no tensors; expected {what}")
    return tensors


def _require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise InputError(f"{path}: {'is a folder' if path.is_dir() else 'file not found'}; "
                         f"expected {what}")
