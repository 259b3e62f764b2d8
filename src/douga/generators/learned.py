"""The ``learned`` generator: GANime's VQ-GAN + frame transformer, conditioned on text.

Given keyframes A and B, it resizes them to the model's frame size, encodes them to
VQ-GAN tokens, and lets the transformer write the frames between them one at a time
(each from the caption, the frames left until B, B's tokens and the previous frames),
sampling tokens with a KV cache (temperature, top-k, the pair's seed). The frames are
decoded and redrawn at the keyframes' size with the keyframes' own pixels, moved as the
model moved them, wherever they fit (:func:`draw_with_keyframes`): the VQ-GAN redraws
a keyframe only approximately (colours off, lines soft, and at a small model size, a
blur once resized), so without it every in-between would jump away from its keyframes'
look. The model decides the motion; the keyframes give the look.

The in-betweens are generated at whole-frame steps: for positions ``ts`` it makes
N-1 frames with N = round(1 / min(ts)) (the pair's frame count when the ts are k/N)
and returns, for each t, the frame nearest t·N. The caption is the pair's texts
(A's, then B's), else the project's style.

Needs the ``learned`` extra (torch, transformers) and a checkpoint folder made by
``douga train transformer`` (``OUT/model``: ``vqgan/`` + ``transformer/``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from douga.errors import InputError, MissingDependency
from douga.generators.base import Generator, PairContext, check_pair, pair_texts
from douga.generators.flow import dense_flow

MAX_CACHED_PAIRS = 8
# mean high-pass difference (levels) at which a keyframe pulled along the model's motion
# no longer fits an in-between, and the Gaussian (model pixels) that the high-pass removes
STRUCTURE_TOLERANCE = 32.0
STRUCTURE_SIGMA = 3.0
FLOW_SIDE = 256  # model frames are enlarged to about this short side for the flow


def _upsize(img: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``img`` resized (cubic) to ``shape``'s height and width, unless it has them."""
    if img.shape[:2] == shape[:2]:
        return img
    return cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _structure(img: np.ndarray) -> np.ndarray:
    """What is left of an image without its smooth colour (a high-pass): edges and
    shapes, which the VQ-GAN keeps better than its colours."""
    return img - cv2.GaussianBlur(img, (0, 0), STRUCTURE_SIGMA)


def _motion_to(frame: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Where each pixel of ``frame`` lies in ``ref`` (frame(x) ≈ ref(x + flow)), in model
    pixels; the tiny model frames are enlarged for the flow so that DIS has room."""
    h, w = frame.shape[:2]
    up = max(1, -(-FLOW_SIDE // min(h, w)))
    if up == 1:
        return dense_flow(frame, ref)
    size = (w * up, h * up)
    big = [cv2.resize(x, size, interpolation=cv2.INTER_CUBIC) for x in (frame, ref)]
    return cv2.resize(dense_flow(big[0], big[1]), (w, h), interpolation=cv2.INTER_AREA) / up


def _tracked(frames: np.ndarray, start: np.ndarray) -> list[np.ndarray]:
    """For each frame, where its pixels lie in ``start``: the flow to the frame before,
    followed back through the earlier frames' flows to ``start``. Frame to frame the
    model moves things a little, which dense flow follows; straight to a keyframe many
    frames away a small figure may have moved further than its own size, which it does
    not."""
    flows: list[np.ndarray] = []
    before = start
    for frame in frames:
        step = _motion_to(frame, before)
        flows.append(step if not flows else step + _pull(flows[-1], step))
        before = frame
    return flows


@functools.lru_cache(maxsize=4)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x, y) of an h × w image, float32; shared, never written to."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    gx.flags.writeable = gy.flags.writeable = False
    return gx, gy


def _pull(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``img`` sampled at x + flow(x); ``flow`` (model pixels, at the model's size) is
    scaled up to ``img``'s size first."""
    h, w = img.shape[:2]
    fh, fw = flow.shape[:2]
    if (fh, fw) != (h, w):
        flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
    gx, gy = _grid(h, w)
    return cv2.remap(img, gx + flow[..., 0] * (w / fw), gy + flow[..., 1] * (h / fh),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def draw_with_keyframes(made: np.ndarray, a: np.ndarray, b: np.ndarray,
                        rec_a: np.ndarray, rec_b: np.ndarray, *, window: int = 9,
                        tolerance: float = STRUCTURE_TOLERANCE) -> np.ndarray:
    """In-betweens (n-1, h, w, 3) uint8 as decoded at the model's size, redrawn at the
    keyframes' size with the keyframes' own pixels, moved as the model moved them.

    ``a``/``b`` are the keyframes (H, W, 3) and ``rec_a``/``rec_b`` their VQ-GAN round
    trips at the model's size (h, w, 3): what the decoder draws for them. For frame k
    (of n, t = k/n), optical flow from the frame to each round trip says where each of
    its pixels comes from; each keyframe, pulled along that flow, is used wherever the
    round trip pulled the same way looks like the frame over ``window`` × ``window``
    model pixels (a token's cell and a pixel), judged on shapes and edges, not colour
    (the decoder's colours drift): fully where they agree, not at all from
    ``tolerance`` levels of mean difference. Where both keyframes fit, they mix as a
    crossfade would ((1 - t) A, t B); where neither does (the model drew something no
    keyframe shows, or a figure the flow did not follow), the decoded frame stays, so
    no keyframe is left behind as a ghost. A still picture comes back exactly.
    """
    n = len(made) + 1
    size = (a.shape[1], a.shape[0])
    ends = [np.asarray(r, dtype=np.float32) for r in (rec_a, rec_b)]
    keys = [img.astype(np.float32) for img in (a, b)]
    flows = (_tracked(made, rec_a), _tracked(made[::-1], rec_b)[::-1])
    out = np.empty((len(made), a.shape[0], a.shape[1], 3), dtype=np.uint8)
    for i, frame8 in enumerate(made):
        frame, t = frame8.astype(np.float32), (i + 1) / n
        fits, pulled = [], []
        shapes = _structure(frame)
        for rec, key, flow in zip(ends, keys, (flows[0][i], flows[1][i]), strict=True):
            miss = np.abs(shapes - _structure(_pull(rec, flow))).mean(axis=2)
            fits.append(np.clip(1.0 - cv2.blur(miss, (window, window)) / tolerance, 0.0, 1.0))
            pulled.append(_pull(key, flow))
        wa, wb, share = (cv2.resize(x, size, interpolation=cv2.INTER_LINEAR)[..., None]
                         for x in ((1.0 - t) * fits[0], t * fits[1], np.maximum(*fits)))
        mix = (wa * pulled[0] + wb * pulled[1]) / np.maximum(wa + wb, 1e-6)
        out[i] = np.clip(_upsize(frame, a.shape) * (1.0 - share) + share * mix + 0.5, 0, 255)
    return out


class LearnedGenerator(Generator):
    """In-betweens from a trained VQ-GAN + frame transformer checkpoint.

    Parameters
    ----------
    checkpoint
        The model folder (``vqgan/`` and ``transformer/`` inside).
    temperature
        Sampling temperature; 0 takes the most likely token (deterministic).
    top_k
        Sample only among the k most likely tokens (None or 0: among all).
    device
        ``"cpu"``, ``"cuda"``...; default: CUDA when available.
    keep_detail
        Redraw the in-betweens with the keyframes' own pixels, moved as the model
        moves them, where they fit (:func:`draw_with_keyframes`); False: the decoded
        frames as they are, resized.
    """

    name = "learned"

    def __init__(self, checkpoint: str | Path | None = None, *, temperature: float = 1.0,
                 top_k: int | None = 100, device: str | None = None,
                 keep_detail: bool = True) -> None:
        if checkpoint is None:
            raise InputError(
                "generator 'learned': needs a model folder: --checkpoint DIR (or `checkpoint:` "
                "in the project file), made by `douga train transformer` (its OUT/model)"
            )
        try:
            import torch
        except ImportError:
            raise MissingDependency(
                "generator 'learned' needs torch: pip install 'douga[learned]'"
            ) from None
        from douga.models.frame_transformer import FrameTransformer, FrameTransformerConfig
        from douga.models.io import load_config, load_weights
        from douga.models.vqgan import load_vqgan

        folder = Path(checkpoint)
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder; expected a learned model (vqgan/ + "
                             "transformer/) from `douga train transformer`")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.vqgan = load_vqgan(folder / "vqgan").to(self.device)
        cfg = load_config(folder / "transformer", FrameTransformerConfig,
                          kind="frame-transformer")
        self.model = load_weights(FrameTransformer(cfg), folder / "transformer")
        self.model.to(self.device).eval().requires_grad_(False)
        if cfg.token_shape != self.vqgan.config.token_shape:
            raise InputError(f"{folder}: the transformer and the VQ-GAN disagree on the token grid")
        self.text_encoder = None
        if cfg.use_text:
            from douga.models.text_encoder import TextEncoder

            self.text_encoder = TextEncoder(cfg.text_encoder)
        self.temperature, self.top_k = float(temperature), top_k
        self.keep_detail = bool(keep_detail)
        digest = hashlib.sha1()
        for part in ("vqgan", "transformer"):
            digest.update((folder / part / "model.safetensors").read_bytes()[:1 << 20])
        self.version = (f"3-{digest.hexdigest()[:12]}-t{self.temperature:g}-k{top_k}"
                        f"-d{int(self.keep_detail)}")
        self._cache: dict[tuple[str, ...], np.ndarray] = {}

    # ------------------------------------------------------------------ helpers
    def _caption(self, context: PairContext) -> str:
        return " ".join(pair_texts(context))

    def _to_model(self, img: np.ndarray) -> np.ndarray:
        h, w = self.vqgan.config.resolution
        if img.shape[:2] == (h, w):
            return img
        return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)

    def frames_between(self, a: np.ndarray, b: np.ndarray, n: int,
                       context: PairContext) -> np.ndarray:
        """The n-1 frames between A and B when they are n frames apart: (n-1, H, W, 3) uint8."""
        caption = self._caption(context)
        key = (hashlib.sha1(a.tobytes()).hexdigest(), hashlib.sha1(b.tobytes()).hexdigest(),
               str(a.shape), str(n), caption, str(context.seed))
        if key in self._cache:
            return self._cache[key]
        images = self.frames_for_captions(a, b, n, [caption], seed=context.seed)[0]
        if len(self._cache) >= MAX_CACHED_PAIRS:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = images
        return images

    def frames_for_captions(self, a: np.ndarray, b: np.ndarray, n: int, captions: list[str], *,
                            seed: int = 0) -> np.ndarray:
        """In-betweens of one pair for several captions at once (one batch, one seed).

        Returns (len(captions), n-1, H, W, 3) uint8 at the keyframes' size.
        """
        import torch

        from douga.models.frame_transformer import generate_tokens
        from douga.models.frames import to_tensor, to_uint8

        count = len(captions)
        ends = to_tensor(np.stack([self._to_model(a), self._to_model(b)])).to(self.device)
        tokens = self.vqgan.tokenize(ends).flatten(1)  # (2, L)
        cfg = self.model.config
        if self.text_encoder is not None:
            text = self.text_encoder(captions, words=cfg.text_words).to(self.device)
        else:
            text = torch.zeros(count, *cfg.text_shape, device=self.device)
        gen = torch.Generator(device=self.device).manual_seed(int(seed))
        made = generate_tokens(self.model, tokens[:1].expand(count, -1),
                               tokens[1:].expand(count, -1), n - 1, text,
                               temperature=self.temperature, top_k=self.top_k, generator=gen)
        h, w = self.vqgan.config.token_shape
        with torch.no_grad():
            images = to_uint8(self.vqgan.decode_tokens(made.reshape(-1, h, w).to(self.device)))
            rec_a, rec_b = to_uint8(self.vqgan.decode_tokens(tokens.reshape(2, h, w)))
        images = images.reshape(count, n - 1, *images.shape[1:])
        if self.keep_detail:
            window = self.vqgan.config.resolution[0] // h + 1
            return np.stack([draw_with_keyframes(x, a, b, rec_a, rec_b, window=window)
                             for x in images])
        return np.stack([[_upsize(f, a.shape) for f in x] for x in images])

    # ------------------------------------------------------------------ the interface
    def inbetween(self, a: np.ndarray, b: np.ndarray, ts: Sequence[float], *,
                  context: PairContext | None = None) -> Iterator[np.ndarray]:
        check_pair(a, b, ts)
        if not ts:
            return
        context = context or PairContext()
        n = int(np.clip(round(1.0 / min(float(t) for t in ts)), 2, self.model.config.max_frames))
        frames = self.frames_between(a, b, n, context)
        for t in ts:
            k = int(np.clip(round(float(t) * n), 1, n - 1))
            yield frames[k - 1]
