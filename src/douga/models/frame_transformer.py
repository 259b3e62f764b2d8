"""GANime's stage 2: a GPT-2 that writes a clip's next frame as VQ-GAN tokens.

To make frame i+1 of a clip whose last frame is n, the model reads (GANime eq. 10)::

    [text prefix (k vectors)] [I_n: last frame's L tokens] [I_i, I_{i-1}, ... I_{i-M+1}]

and predicts the L tokens of frame i+1 one by one, left to right, row-major. The
remaining-frame count n-(i+1) is its own learned embedding added to every input
position (GANime's "own embedding" method, its best). The text prefix is the
sentence vector of the clip's caption, projected to ``text_tokens`` input vectors,
or (``text_input: words``) the encoder's states of the caption's first
``text_tokens`` word pieces, each projected to one input vector: self-attention over
text and frame tokens is the MAD framework's multi-modal integration. ``use_text``
and ``use_counter`` switch those inputs off, for ablations.

The transformer is transformers' ``GPT2Model`` (randomly initialised, or its blocks
taken from a pretrained GPT-2 folder by :meth:`FrameTransformer.load_gpt2`), fed
``inputs_embeds``; token, spatial-position and segment embeddings and the output head
are this model's own, sized for the VQ-GAN codebook.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from douga.errors import InputError
from douga.models.io import Range, check_config, hf_model_type

_RANGES: dict[str, Range] = {
    "token_shape": (1, 256), "codebook_size": (2, 2**20), "n_prev": (1, 64),
    "n_layer": (1, 256), "n_head": (1, 256), "n_embd": (1, 2**16), "max_frames": (1, 10**5),
    "text_dim": (1, 2**16), "text_tokens": (1, 512), "dropout": (0, 1),
}


@dataclass(frozen=True)
class FrameTransformerConfig:
    """Shape of a frame transformer; saved as ``config.json`` beside the weights."""

    token_shape: tuple[int, int] = (8, 8)  # (h, w) of a frame's VQ-GAN token grid
    codebook_size: int = 1024
    n_prev: int = 1  # M: previous frames read
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    max_frames: int = 64  # remaining-frame counts are clamped to this
    text_dim: int = 384
    text_tokens: int = 2
    text_input: str = "sentence"  # or "words": one prefix vector per word piece
    use_text: bool = True
    use_counter: bool = True
    dropout: float = 0.1
    text_encoder: str = "all-MiniLM-L6-v2"  # or a BERT checkpoint folder (its sentence vectors)

    def __post_init__(self) -> None:
        check_config(self, _RANGES)
        if self.text_input not in ("sentence", "words"):
            raise ValueError(f"text_input {self.text_input!r}: expected 'sentence' or 'words'")
        if len(self.token_shape) != 2 or self.n_embd % self.n_head:
            raise ValueError(f"token_shape {list(self.token_shape)}, n_embd {self.n_embd}, "
                             f"n_head {self.n_head}: expected [height, width] and n_embd a "
                             "multiple of n_head")

    @property
    def text_words(self) -> int | None:
        """How many word states the text encoder gives (None: one sentence vector)."""
        return self.text_tokens if self.text_input == "words" else None

    @property
    def text_shape(self) -> tuple[int, ...]:
        """Shape of one caption's encoding: (text_dim,) or (text_tokens, text_dim)."""
        words = self.text_words
        return (self.text_dim,) if words is None else (words, self.text_dim)

    @property
    def frame_tokens(self) -> int:
        return self.token_shape[0] * self.token_shape[1]

    @property
    def prefix_length(self) -> int:
        text = self.text_tokens if self.use_text else 0
        return text + self.frame_tokens * (1 + self.n_prev)

    @property
    def max_length(self) -> int:
        return self.prefix_length + self.frame_tokens

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["token_shape"] = list(self.token_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrameTransformerConfig:
        d = dict(d)
        if isinstance(d.get("token_shape"), list):
            d["token_shape"] = tuple(d["token_shape"])
        return cls(**d)


def _cache_keyword(model: nn.Module) -> str:
    """transformers 5 calls the KV cache argument ``cache``; 4.x ``past_key_values``."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


class FrameTransformer(nn.Module):
    """Next-frame token prediction conditioned on text, remaining frames, last and previous frames.

    Shapes: ``text`` (B, *config.text_shape) caption encodings (ignored when ``use_text``
    is off);
    ``remaining`` (B,) int; ``last`` (B, L) tokens; ``prev`` (B, M, L) tokens, most
    recent first; ``target`` (B, L) tokens. L = tokens per frame.
    """

    # segment ids: 0 text, 1 last frame, 2.. previous frames, then the frame being written
    def __init__(self, config: FrameTransformerConfig) -> None:
        super().__init__()
        from transformers import GPT2Config, GPT2Model

        self.config = c = config
        gpt_config = GPT2Config(
            vocab_size=1, n_positions=c.max_length, n_embd=c.n_embd, n_layer=c.n_layer,
            n_head=c.n_head, resid_pdrop=c.dropout, embd_pdrop=c.dropout, attn_pdrop=c.dropout,
            bos_token_id=0, eos_token_id=0,
        )
        self.gpt = GPT2Model(gpt_config)
        self.tok_emb = nn.Embedding(c.codebook_size, c.n_embd)
        self.spatial_emb = nn.Embedding(c.frame_tokens, c.n_embd)
        self.segment_emb = nn.Embedding(3 + c.n_prev, c.n_embd)
        self.counter_emb = nn.Embedding(c.max_frames + 1, c.n_embd)
        per_vector = c.text_tokens if c.text_words is None else 1
        self.text_proj = nn.Linear(c.text_dim, per_vector * c.n_embd)
        self.head = nn.Linear(c.n_embd, c.codebook_size, bias=False)
        self._cache_kw = _cache_keyword(self.gpt)
        nn.init.normal_(self.tok_emb.weight, std=0.02)
        nn.init.normal_(self.spatial_emb.weight, std=0.02)
        nn.init.normal_(self.segment_emb.weight, std=0.02)
        nn.init.zeros_(self.counter_emb.weight)

    # ------------------------------------------------------------------ inputs
    def _frame(self, tokens: torch.Tensor, segment: int) -> torch.Tensor:
        """(B, n) tokens at spatial positions 0..n-1 -> (B, n, E)."""
        n = tokens.shape[1]
        pos = torch.arange(n, device=tokens.device)
        seg = self.segment_emb.weight[segment]
        return self.tok_emb(tokens) + self.spatial_emb(pos)[None] + seg

    def _prefix(self, text: torch.Tensor | None, last: torch.Tensor,
                prev: torch.Tensor) -> torch.Tensor:
        c = self.config
        parts = []
        if c.use_text:
            if text is None:
                raise ValueError("this model reads text: pass the caption's sentence vector")
            t = self.text_proj(text).view(text.shape[0], c.text_tokens, c.n_embd)
            parts.append(t + self.segment_emb.weight[0])
        parts.append(self._frame(last, 1))
        for j in range(c.n_prev):
            parts.append(self._frame(prev[:, j], 2 + j))
        return torch.cat(parts, dim=1)

    def _counter(self, remaining: torch.Tensor) -> torch.Tensor:
        if not self.config.use_counter:
            return torch.zeros(remaining.shape[0], 1, self.config.n_embd, device=remaining.device)
        return self.counter_emb(remaining.clamp(0, self.config.max_frames))[:, None]

    # ------------------------------------------------------------------ training
    def forward(self, text: torch.Tensor | None, remaining: torch.Tensor, last: torch.Tensor,
                prev: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, L, codebook_size) for every token of ``target``."""
        c = self.config
        prefix = self._prefix(text, last, prev)
        body = self._frame(target[:, :-1], 2 + c.n_prev)  # target token j sits at position j
        x = torch.cat([prefix, body], dim=1) + self._counter(remaining)
        h = self.gpt(inputs_embeds=x).last_hidden_state
        return self.head(h[:, prefix.shape[1] - 1:])  # (B, L, K)

    def loss(self, text: torch.Tensor | None, remaining: torch.Tensor, last: torch.Tensor,
             prev: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Token cross-entropy and the logits."""
        logits = self(text, remaining, last, prev, target)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        return ce, logits

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def generate_frame(
        self,
        text: torch.Tensor | None,
        remaining: torch.Tensor,
        last: torch.Tensor,
        prev: torch.Tensor,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Sample the next frame's (B, L) tokens, one token at a time with a KV cache.

        ``temperature`` 0 takes the most likely token (greedy).
        """
        c = self.config
        counter = self._counter(remaining)
        x = self._prefix(text, last, prev) + counter
        out = self.gpt(inputs_embeds=x, use_cache=True)
        cache = out.cache if hasattr(out, "cache") else out.past_key_values
        h = out.last_hidden_state[:, -1]
        tokens = []
        seg = self.segment_emb.weight[2 + c.n_prev]
        for j in range(c.frame_tokens):
            logits = self.head(h)
            nxt = _sample(logits, temperature=temperature, top_k=top_k, generator=generator)
            tokens.append(nxt)
            if j == c.frame_tokens - 1:
                break
            e = self.tok_emb(nxt) + self.spatial_emb.weight[j] + seg
            step = self.gpt(inputs_embeds=(e[:, None] + counter), use_cache=True,
                            **{self._cache_kw: cache})
            cache = step.cache if hasattr(step, "cache") else step.past_key_values
            h = step.last_hidden_state[:, -1]
        return torch.stack(tokens, dim=1)

    # ------------------------------------------------------------------ pretrained GPT-2
    def load_gpt2(self, path: str | Path) -> None:
        """Take the transformer blocks from a pretrained GPT-2 folder (same n_embd/n_layer/n_head).

        Position embeddings are copied for the positions this model uses; the word
        embeddings and head of the language model are not used (the vocabulary here is
        the VQ-GAN codebook).
        """
        from transformers import GPT2Model

        folder = Path(path)
        model_type = hf_model_type(folder)
        if model_type != "gpt2":
            raise InputError(f"{folder}: no GPT-2 config.json (model_type {model_type!r}); "
                             "expected a GPT-2 checkpoint folder (config.json and its weights)")
        try:
            pre = GPT2Model.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError) as e:
            raise InputError(f"{folder}: cannot load a GPT-2 checkpoint ({e})") from None
        pc = pre.config
        c = self.config
        if (pc.n_embd, pc.n_layer, pc.n_head) != (c.n_embd, c.n_layer, c.n_head):
            raise InputError(
                f"{folder}: GPT-2 with n_embd={pc.n_embd}, n_layer={pc.n_layer}, "
                f"n_head={pc.n_head}; expected {c.n_embd}, {c.n_layer}, {c.n_head} "
                "(set the transformer config to match the checkpoint)"
            )
        if pc.n_positions < c.max_length:
            raise InputError(
                f"{folder}: GPT-2 has {pc.n_positions} positions; this model needs {c.max_length}"
            )
        state = {k: v for k, v in pre.state_dict().items() if not k.startswith("wte.")}
        state["wpe.weight"] = state["wpe.weight"][: c.max_length]
        missing, unexpected = self.gpt.load_state_dict(state, strict=False)
        bad = [k for k in missing if not k.startswith("wte.")] + list(unexpected)
        if bad:
            raise InputError(f"{folder}: GPT-2 weights do not fit ({', '.join(bad[:3])} ...)")


def _sample(logits: torch.Tensor, *, temperature: float, top_k: int | None,
            generator: torch.Generator | None) -> torch.Tensor:
    """(B, K) logits -> (B,) tokens."""
    if temperature <= 0:
        return logits.argmax(-1)
    logits = logits / temperature
    if top_k is not None and 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits.float(), dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


@torch.no_grad()
def generate_tokens(model: FrameTransformer, first: torch.Tensor, last: torch.Tensor, n: int,
                    text: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Tokens of the n frames between a first and a last frame, for a batch of B pairs.

    ``first``, ``last``: (B, L) tokens; ``text``: (B, *text_shape). Returns (B, n, L).
    """
    m = model.config.n_prev
    dev = next(model.parameters()).device
    first, last, text = first.to(dev), last.to(dev), text.to(dev)
    frames = [first]
    for i in range(1, n + 1):
        prev = torch.stack([frames[max(i - 1 - j, 0)] for j in range(m)], dim=1)  # (B, M, L)
        remaining = torch.full((first.shape[0],), n + 1 - i, device=dev)
        frames.append(model.generate_frame(text, remaining, last, prev, temperature=temperature,
                                           top_k=top_k, generator=generator))
    if n == 0:
        return first.new_zeros((first.shape[0], 0, first.shape[1]))
    return torch.stack(frames[1:], dim=1).cpu()
