"""Public taming-transformers VQGAN checkpoints (``vqgan_imagenet_f16_16384``) in douga's VQ-GAN.

The VQGAN-CLIP notebooks use the checkpoints released with Esser et al. (2021): a
PyTorch Lightning ``.ckpt`` (its ``state_dict``) and a ``.yaml`` whose
``model.params`` hold ``ddconfig`` (the encoder/decoder shape), ``n_embed`` and
``embed_dim``. douga's :class:`~douga.models.vqgan.VQGAN` has the same architecture,
so such a checkpoint loads into it through a key map:

=====================================  ==========================================
taming-transformers                    douga
=====================================  ==========================================
``encoder.down.L.block.j``             ``encoder.down.L.<j-th ResBlock>``
``encoder.down.L.attn.j``              ``encoder.down.L.<j-th AttnBlock>``
``encoder.down.L.downsample``          ``encoder.down.L.<last>``
``encoder.mid.block_1/attn_1/block_2`` ``encoder.mid.0/1/2``
``decoder.up.L`` (level L)             ``decoder.up.<levels-1-L>`` (run order)
``*.nin_shortcut``                     ``*.skip``
``*.q``, ``*.k``, ``*.v`` (1x1 convs)  ``*.qkv`` (the three stacked)
``*.proj_out``                         ``*.proj``
``quantize.embedding.weight``          ``quantizer.codebook``
=====================================  ==========================================

The discriminator and perceptual-loss weights in the checkpoint (``loss.*``) are not
needed for inference and are skipped. :func:`to_taming` is the inverse map, so a
douga VQ-GAN can be written in the taming format too (tests use it on a tiny model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from douga.errors import InputError
from douga.models.statedict import read_checkpoint_state
from douga.models.vqgan import VQGAN, AttnBlock, Downsample, ResBlock, Upsample, VQGANConfig

__all__ = ["config_from_taming", "load_taming_vqgan", "taming_yaml", "to_taming"]

WEIGHTS_HELP = (
    "get a taming-transformers VQGAN once, on a machine with network, such as "
    "vqgan_imagenet_f16_16384 (its last.ckpt and model.yaml from the taming-transformers "
    "README), save them as NAME.ckpt and NAME.yaml side by side and set "
    "`guidance: {vqgan: NAME.ckpt}`; or give a VQ-GAN folder from `douga train vqgan`"
)


def config_from_taming(params: dict[str, Any], *, source: str = "model.yaml") -> VQGANConfig:
    """douga's VQ-GAN config from a taming yaml's ``model.params`` mapping."""
    try:
        dd = params["ddconfig"]
        res = int(dd["resolution"])
        cfg = VQGANConfig(
            resolution=(res, res), channels=int(dd["ch"]),
            channel_mult=tuple(int(m) for m in dd["ch_mult"]),
            num_res_blocks=int(dd["num_res_blocks"]),
            attention_resolutions=tuple(int(r) for r in dd["attn_resolutions"]),
            z_channels=int(dd["z_channels"]), embedding_dim=int(params["embed_dim"]),
            num_embeddings=int(params["n_embed"]), dropout=float(dd.get("dropout", 0.0)),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{source}: model.params is not a taming VQModel config ({e}); "
                         "expected ddconfig, n_embed and embed_dim") from None
    if dd.get("double_z", False) or int(dd.get("in_channels", 3)) != 3 or int(
            dd.get("out_ch", 3)) != 3:
        raise InputError(f"{source}: expected an RGB VQModel (double_z false, 3 channels "
                         "in and out)")
    return cfg


def taming_yaml(cfg: VQGANConfig) -> dict[str, Any]:
    """The taming yaml mapping for ``cfg`` (square resolutions only)."""
    h, w = cfg.resolution
    if h != w:
        raise ValueError("taming-transformers configs describe square resolutions")
    return {"model": {"target": "taming.models.vqgan.VQModel", "params": {
        "embed_dim": cfg.embedding_dim, "n_embed": cfg.num_embeddings,
        "ddconfig": {"double_z": False, "z_channels": cfg.z_channels, "resolution": h,
                     "in_channels": 3, "out_ch": 3, "ch": cfg.channels,
                     "ch_mult": list(cfg.channel_mult), "num_res_blocks": cfg.num_res_blocks,
                     "attn_resolutions": list(cfg.attention_resolutions),
                     "dropout": cfg.dropout}}}}


def _stage_names(stage: nn.Sequential, prefix: str) -> dict[str, tuple[str, nn.Module]]:
    """douga sub-module path -> (taming path, module) inside one down/up level."""
    names: dict[str, tuple[str, nn.Module]] = {}
    blocks = attns = 0
    for i, module in enumerate(stage):
        if isinstance(module, ResBlock):
            names[str(i)] = (f"{prefix}.block.{blocks}", module)
            blocks += 1
        elif isinstance(module, AttnBlock):
            names[str(i)] = (f"{prefix}.attn.{attns}", module)
            attns += 1
        elif isinstance(module, Downsample):
            names[str(i)] = (f"{prefix}.downsample", module)
        elif isinstance(module, Upsample):
            names[str(i)] = (f"{prefix}.upsample", module)
    return names


def _module_map(model: VQGAN) -> dict[str, tuple[str, nn.Module]]:
    """douga module path -> (taming module path, module), for every block of the model."""
    out: dict[str, tuple[str, nn.Module]] = {}
    levels = len(model.config.channel_mult)
    for part in ("encoder", "decoder"):
        coder = getattr(model, part)
        for i, name in enumerate(("block_1", "attn_1", "block_2")):
            out[f"{part}.mid.{i}"] = (f"{part}.mid.{name}", coder.mid[i])
        stages = coder.down if part == "encoder" else coder.up
        for i, stage in enumerate(stages):
            level = i if part == "encoder" else levels - 1 - i
            kind = "down" if part == "encoder" else "up"
            for j, (taming, module) in _stage_names(stage, f"{part}.{kind}.{level}").items():
                out[f"{part}.{kind}.{i}.{j}"] = (taming, module)
    return out


_RENAMES = {"skip": "nin_shortcut", "proj": "proj_out"}


def _split_key(key: str, blocks: dict[str, tuple[str, nn.Module]]) -> tuple[str, str] | None:
    """douga key -> (block path, rest) when the key lies inside a mapped block."""
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in blocks:
            return head, ".".join(parts[cut:])
    return None


def to_taming(model: VQGAN) -> dict[str, torch.Tensor]:
    """douga VQ-GAN weights under taming-transformers' names (the inverse of loading)."""
    blocks = _module_map(model)
    out: dict[str, torch.Tensor] = {}
    for key, value in model.state_dict().items():
        if key.startswith("quantizer."):
            if key == "quantizer.codebook":
                out["quantize.embedding.weight"] = value.clone()
            continue
        split = _split_key(key, blocks)
        if split is None:
            out[key] = value.clone()
            continue
        head, rest = split
        taming = blocks[head][0]
        first, _, tail = rest.partition(".")
        if first == "qkv":
            for name, part in zip("qkv", value.chunk(3, dim=0), strict=True):
                out[f"{taming}.{name}.{tail}"] = part.clone()
        else:
            name = f"{taming}.{_RENAMES.get(first, first)}" + (f".{tail}" if tail else "")
            out[name] = value.clone()
    return out


def from_taming(state: dict[str, torch.Tensor], cfg: VQGANConfig, *,
                source: str = "checkpoint") -> VQGAN:
    """A douga VQ-GAN (eval, frozen) from a taming-transformers state dict, strictly.

    Raises
    ------
    InputError
        When a weight the architecture needs is missing or has the wrong shape, or the
        file holds model weights the architecture does not have.
    """
    model = VQGAN(cfg)
    blocks = _module_map(model)
    own = model.state_dict()
    new: dict[str, torch.Tensor] = {}
    used: set[str] = set()

    def take(name: str) -> torch.Tensor:
        if name not in state:
            raise InputError(f"{source}: missing weight {name!r}; the checkpoint does not fit "
                             "its yaml config")
        used.add(name)
        return state[name]

    for key, _value in own.items():
        if key.startswith("quantizer."):
            continue
        split = _split_key(key, blocks)
        if split is None:
            new[key] = take(key)
            continue
        head, rest = split
        taming = blocks[head][0]
        first, _, tail = rest.partition(".")
        if first == "qkv":
            new[key] = torch.cat([take(f"{taming}.{n}.{tail}") for n in "qkv"], dim=0)
        else:
            new[key] = take(f"{taming}.{_RENAMES.get(first, first)}" + (f".{tail}" if tail else ""))
    codebook = take("quantize.embedding.weight")
    new["quantizer.codebook"] = codebook
    new["quantizer.embed_sum"] = codebook.clone()
    new["quantizer.cluster_size"] = torch.ones(cfg.num_embeddings)
    new["quantizer.initialized"] = torch.tensor(1.0)
    wrong = [f"{k} {tuple(v.shape)} (expected {tuple(own[k].shape)})"
             for k, v in new.items() if v.shape != own[k].shape]
    if wrong:
        raise InputError(f"{source}: weights of the wrong shape for its yaml config: {wrong[0]}")
    extra = sorted(k for k in state if k not in used and not k.startswith("loss."))
    if extra:
        raise InputError(f"{source}: unexpected weights {extra[:3]}; expected a taming VQModel")
    model.load_state_dict(new, strict=True)
    return model.eval().requires_grad_(False)


def load_taming_vqgan(ckpt: str | Path, config: str | Path | None = None) -> VQGAN:
    """A taming-transformers VQGAN (``NAME.ckpt`` + ``NAME.yaml`` beside it) as a douga VQ-GAN.

    Parameters
    ----------
    ckpt
        The Lightning checkpoint; read without running pickled code.
    config
        Its yaml; default: the same path with the suffix ``.yaml``.
    """
    import yaml

    ckpt = Path(ckpt)
    config = Path(config) if config is not None else ckpt.with_suffix(".yaml")
    if not ckpt.is_file():
        raise InputError(f"{ckpt}: VQGAN weights not found; {WEIGHTS_HELP}")
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        params = data["model"]["params"]
    except FileNotFoundError:
        raise InputError(f"{config}: not found; expected the taming yaml config beside "
                         f"{ckpt.name}") from None
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise InputError(f"{config}: cannot read model.params ({str(e).splitlines()[0]}); "
                         "expected a taming-transformers model yaml") from None
    cfg = config_from_taming(params, source=str(config))
    state = read_checkpoint_state(ckpt, what="a taming-transformers VQGAN checkpoint")
    return from_taming(state, cfg, source=str(ckpt))
