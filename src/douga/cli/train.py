"""``douga train ...``: train the learned generator's two stages (VQ-GAN, then transformer).

Both commands run the same code on a CPU, on one GPU, or on many GPUs or nodes with
``accelerate launch -m douga train ...``; rerunning a command resumes from its last
checkpoint. Configs are YAML (presets in ``configs/``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from douga.cli.common import _console, _examples, _guarded, _progress

train_app = typer.Typer(
    help="Train the learned generator: `vqgan` (stage 1), then `transformer` (stage 2).",
    no_args_is_help=True,
)

_CONFIG = typer.Argument(help="Training config (YAML); see configs/ for presets.")
_MAX_STEPS = typer.Option(
    "--max-steps", min=1, help="Stop after this many steps (the schedule is unchanged).")


@train_app.command("vqgan", epilog=_examples(
    "douga dataset moving-digits --out data/digits",
    "douga train vqgan configs/digits-vqgan-tiny.yaml",
    "accelerate launch -m douga train vqgan configs/digits-vqgan-base.yaml   # GPUs",
))
@_guarded
def train_vqgan_command(
    config: Annotated[Path, _CONFIG],
    max_steps: Annotated[int | None, _MAX_STEPS] = None,
) -> None:
    """Stage 1: train the VQ-GAN (frames -> tokens -> frames) on a clip data set."""
    from douga.training.train_vqgan import train_vqgan

    with _progress("training the VQ-GAN", eta=True) as progress:
        folder = train_vqgan(config, progress=progress, max_steps=max_steps)
    _console().print(f"VQ-GAN saved to {escape(str(folder))}/ (samples and metrics.jsonl "
                     f"in {escape(str(folder.parent))}/)")


@train_app.command("transformer", epilog=_examples(
    "douga train transformer configs/digits-transformer-tiny.yaml",
    "douga inbetween a.png b.png --frames 19 --out between/ --generator learned "
    "--checkpoint runs/digits-tf-tiny/model",
))
@_guarded
def train_transformer_command(
    config: Annotated[Path, _CONFIG],
    max_steps: Annotated[int | None, _MAX_STEPS] = None,
) -> None:
    """Stage 2: train the frame transformer on the VQ-GAN's tokens; exports the learned model."""
    from douga.training.train_transformer import train_transformer

    with _progress("training the transformer", eta=True) as progress:
        folder = train_transformer(config, progress=progress, max_steps=max_steps)
    _console().print(f"learned model saved to {escape(str(folder))}/ "
                     f"(use: --generator learned --checkpoint {escape(str(folder))})")
