"""The learned generator's models and trainers, on tiny CPU configs.

Shapes, the quantiser's behaviour, strict save/load, two training steps per stage
(and resuming), conditioning that changes the output, the KV-cached sampler, and the
command line around them. The generator contract is in test_generators.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from douga.cli import app
from douga.errors import InputError
from douga.generators import PairContext
from douga.models.frame_transformer import FrameTransformer, FrameTransformerConfig
from douga.models.io import load_weights, read_config, save_model
from douga.models.perceptual import PerceptualLoss, VGG16Features, ms_ssim
from douga.models.vqgan import (
    VQGAN,
    EMAQuantizer,
    PatchDiscriminator,
    VQGANConfig,
    adaptive_gan_weight,
    codebook_usage,
)
from tests.tiny_models import TINY_TRANSFORMER, TINY_VQGAN, tiny_checkpoint, tiny_clip_set

torch.set_num_threads(1)


def _vqgan() -> VQGAN:
    torch.manual_seed(0)
    return VQGAN(VQGANConfig.from_dict(TINY_VQGAN))


def _transformer(**over: object) -> FrameTransformer:
    torch.manual_seed(0)
    cfg = FrameTransformerConfig(token_shape=(4, 4), codebook_size=32,
                                 **{**TINY_TRANSFORMER, **over})  # type: ignore[arg-type]
    return FrameTransformer(cfg).eval()


# ---------------------------------------------------------------- VQ-GAN


def test_vqgan_shapes() -> None:
    model = _vqgan()
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    recon, tokens, commit = model(x)
    assert recon.shape == x.shape
    assert tokens.shape == (3, 4, 4) and tokens.dtype == torch.long
    assert int(tokens.max()) < 32 and commit.ndim == 0
    assert model.decode_tokens(tokens).shape == x.shape
    logits, feats = PatchDiscriminator(2, 8)(x)
    assert logits.shape[:2] == (3, 1) and len(feats) == 3
    with pytest.raises(ValueError, match="multiples of 4"):
        VQGANConfig(resolution=(18, 16), channel_mult=(1, 2, 2))


def test_quantiser_kmeans_init_ema_and_dead_code_restart() -> None:
    torch.manual_seed(0)
    q = EMAQuantizer(8, 2, beta=0.25, decay=0.5, dead_threshold=0.05)
    centres = torch.tensor([[5.0, 5.0], [-5.0, 5.0], [5.0, -5.0], [-5.0, -5.0]])
    data = (centres[torch.randint(0, 4, (400,))] + 0.1 * torch.randn(400, 2))
    z = data.T.reshape(1, 2, 20, 20)
    q.train()
    _, tokens, _ = q(z)
    assert bool(q.initialized)
    # k-means put a code near every cluster centre
    dist = torch.cdist(centres, q.codebook).min(dim=1).values
    assert float(dist.max()) < 0.5
    # the nearest code is what the tokens say
    flat = z.permute(0, 2, 3, 1).reshape(-1, 2)
    np.testing.assert_array_equal(tokens.flatten().numpy(), q.nearest(flat).numpy())
    # a code nobody uses decays below the threshold and is restarted on the data
    q.codebook[7] = torch.tensor([100.0, 100.0])
    q.embed_sum[7] = q.codebook[7]
    for _ in range(8):
        q(z)
    assert float(torch.cdist(q.codebook[7:8], centres).min()) < 2.0  # back among the data
    used, perplexity = codebook_usage(tokens, 8)
    assert 0 < used <= 1 and perplexity >= 3.5


def test_quantiser_straight_through_gradient_and_eval_freezes_codebook() -> None:
    model = _vqgan()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    model.train()
    recon, _, commit = model(x)
    (recon.abs().mean() + commit).backward()
    assert model.encoder.conv_in.weight.grad is not None
    assert float(model.encoder.conv_in.weight.grad.abs().sum()) > 0
    model.eval()
    before = model.quantizer.codebook.clone()
    model(x)
    torch.testing.assert_close(model.quantizer.codebook, before)


def test_adaptive_weight_is_a_ratio_of_gradient_norms() -> None:
    w = torch.ones(3, requires_grad=True)
    lam = adaptive_gan_weight((4 * w).sum(), (2 * w).sum(), w)
    assert float(lam) == pytest.approx(2.0, rel=1e-3)


def test_save_load_round_trip_is_strict(tmp_path: Path) -> None:
    model = _vqgan().eval()
    save_model(model, model.config, tmp_path / "vq", kind="vqgan")
    cfg = VQGANConfig.from_dict(read_config(tmp_path / "vq", kind="vqgan"))
    again = load_weights(VQGAN(cfg), tmp_path / "vq").eval()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(again(x)[0], model(x)[0])
    other = VQGAN(VQGANConfig.from_dict({**TINY_VQGAN, "num_embeddings": 16}))
    with pytest.raises(InputError, match="do not fit"):
        load_weights(other, tmp_path / "vq")
    with pytest.raises(InputError, match="'frame-transformer' model"):
        read_config(tmp_path / "vq", kind="frame-transformer")
    tf = _transformer()
    save_model(tf, tf.config, tmp_path / "tf", kind="frame-transformer")
    cfg2 = FrameTransformerConfig.from_dict(read_config(tmp_path / "tf", kind="frame-transformer"))
    assert cfg2 == tf.config
    load_weights(FrameTransformer(cfg2), tmp_path / "tf")


# ---------------------------------------------------------------- transformer


def _inputs(b: int = 2) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {
        "text": torch.randn(b, 384, generator=g),
        "remaining": torch.tensor([3, 7][:b]),
        "last": torch.randint(0, 32, (b, 16), generator=g),
        "prev": torch.randint(0, 32, (b, 1, 16), generator=g),
        "target": torch.randint(0, 32, (b, 16), generator=g),
    }


def test_transformer_shapes_and_kv_cache_matches_teacher_forcing() -> None:
    model = _transformer()
    x = _inputs()
    logits = model(x["text"], x["remaining"], x["last"], x["prev"], x["target"])
    assert logits.shape == (2, 16, 32)
    made = model.generate_frame(x["text"], x["remaining"], x["last"], x["prev"], temperature=0)
    assert made.shape == (2, 16)
    again = model(x["text"], x["remaining"], x["last"], x["prev"], made).argmax(-1)
    torch.testing.assert_close(again, made)


@pytest.mark.parametrize("text_input", ["sentence", "words"])
def test_text_and_counter_change_the_output_and_the_switches_turn_them_off(
        text_input: str) -> None:
    words = {"text_input": text_input, "text_tokens": 3}
    x = _inputs()
    if text_input == "words":  # one 384-d state per word piece
        x["text"] = torch.randn(2, 3, 384, generator=torch.Generator().manual_seed(2))
    for switch, key, other in (("use_text", "text", torch.randn_like(x["text"])),
                               ("use_counter", "remaining", torch.tensor([12, 1]))):
        model = _transformer(**words)
        for p in model.parameters():  # the counter embedding starts at zero: wake it up
            torch.nn.init.normal_(p, std=0.05) if p.ndim > 1 else None
        changed = {**x, key: other}
        base = model(x["text"], x["remaining"], x["last"], x["prev"], x["target"])
        moved = model(changed["text"], changed["remaining"], x["last"], x["prev"], x["target"])
        assert float((base - moved).abs().max().detach()) > 1e-3, switch
        off = _transformer(**words, **{switch: False})
        base = off(x["text"], x["remaining"], x["last"], x["prev"], x["target"])
        moved = off(changed["text"], changed["remaining"], x["last"], x["prev"], x["target"])
        torch.testing.assert_close(base, moved)


def test_text_encoder_word_states_tell_directions_apart() -> None:
    from douga.models.text_encoder import TextEncoder

    encoder = TextEncoder()
    with pytest.raises(ValueError, match="text_input"):
        FrameTransformerConfig(text_input="letters")
    up_down = ["the box moves up and comes back", "the box moves down and comes back"]
    pooled = encoder(up_down)
    assert pooled.shape == (2, 384)
    assert float(pooled[0] @ pooled[1]) > 0.95  # one sentence vector barely tells them apart
    words = encoder(up_down, words=12)
    assert words.shape == (2, 12, 384)
    # [CLS] the box moves up|down and comes back [SEP], then zeros
    assert float(words[:, 8].abs().max()) > 0
    assert float(words[:, 9:].abs().max()) == 0
    cos = torch.nn.functional.cosine_similarity(words[0, 4], words[1, 4], dim=0)
    assert float(cos) < 0.9
    assert torch.equal(encoder(up_down[:1], words=12)[0], words[0])  # cached
    assert encoder([], words=12).shape == (0, 12, 384)


def test_sampling_is_seeded() -> None:
    model = _transformer()
    x = _inputs()

    def sample(seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return model.generate_frame(x["text"], x["remaining"], x["last"], x["prev"],
                                    temperature=1.0, top_k=5, generator=g)

    torch.testing.assert_close(sample(3), sample(3))
    assert not torch.equal(sample(3), sample(4))


# ---------------------------------------------------------------- perceptual terms


def test_perceptual_terms(tmp_path: Path) -> None:
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.allclose(ms_ssim(x, x), torch.ones(2), atol=1e-4)
    assert float(ms_ssim(x, -x).max()) < 0.5
    vgg = VGG16Features()
    whole = {f"features.{k}": v for k, v in vgg.features.state_dict().items()}
    whole["classifier.0.weight"] = torch.zeros(4, 4)  # torchvision's file has the head too
    torch.save(whole, tmp_path / "vgg16.pth")
    loss = PerceptualLoss("vgg16", weights=tmp_path / "vgg16.pth")
    assert float(loss(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss(x, -x)) > 0
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(InputError, match=r"bad\.pth"):
        PerceptualLoss("vgg16", weights=tmp_path / "bad.pth")
    with pytest.raises(InputError, match="msssim"):
        PerceptualLoss("vgg16")


# ---------------------------------------------------------------- training, end to end


def _configs(tmp_path: Path) -> tuple[Path, Path]:
    tiny_clip_set(tmp_path / "clips")
    model = json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in TINY_VQGAN.items()})
    (tmp_path / "vq.yaml").write_text(
        f"data: clips\nout: vq\nmodel: {model}\n"
        "train: {steps: 50, batch_size: 4, disc_start: 1, log_every: 1, sample_every: 2, "
        "checkpoint_every: 2, threads: 1}\n")
    (tmp_path / "tf.yaml").write_text(
        f"data: clips\nvqgan: vq/model\nout: tf\nmodel: {json.dumps(TINY_TRANSFORMER)}\n"
        "train: {epochs: 2, batch_size: 8, log_every: 1, sample_every: 2, checkpoint_every: 2, "
        "self_feed_after_epoch: 0, perceptual_weight: 0.1, threads: 1}\n")
    return tmp_path / "vq.yaml", tmp_path / "tf.yaml"


def _steps(run: Path) -> list[int]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["step"] for line in lines]


def test_two_training_steps_per_stage_resume_and_generate(tmp_path: Path) -> None:
    vq_yaml, tf_yaml = _configs(tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, ["train", "vqgan", str(vq_yaml), "--max-steps", "2"])
    assert r.exit_code == 0, r.output
    assert _steps(tmp_path / "vq") == [1, 2]
    assert json.loads((tmp_path / "vq/checkpoint/progress.json").read_text())["step"] == 2
    assert (tmp_path / "vq/samples/step0000002.png").is_file()
    assert (tmp_path / "vq/curves.png").is_file()
    second = json.loads((tmp_path / "vq/metrics.jsonl").read_text().splitlines()[1])
    assert {"rec", "commit", "g", "lam", "d", "codebook_usage", "perplexity"} <= set(second)
    # rerunning resumes where it stopped
    r = runner.invoke(app, ["train", "vqgan", str(vq_yaml), "--max-steps", "1"])
    assert r.exit_code == 0, r.output
    assert _steps(tmp_path / "vq")[-1] == 3
    r = runner.invoke(app, ["train", "transformer", str(tf_yaml), "--max-steps", "2"])
    assert r.exit_code == 0, r.output
    assert _steps(tmp_path / "tf") == [1, 2]
    rec = json.loads((tmp_path / "tf/metrics.jsonl").read_text().splitlines()[-1])
    assert rec["self_feed"] == 1.0 and np.isfinite(rec["ce"])
    model = tmp_path / "tf/model"
    assert (model / "vqgan/model.safetensors").is_file()
    assert (model / "transformer/model.safetensors").is_file()
    # the exported model in-betweens through the command line, text included
    frames = tiny_clip_set(tmp_path / "more", clips=2)
    from douga.training.clips import ClipDataset

    clip = ClipDataset(frames, "test")[0].frames
    Image.fromarray(clip[0]).save(tmp_path / "a.png")
    Image.fromarray(clip[-1]).save(tmp_path / "b.png")
    r = runner.invoke(app, ["inbetween", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                            "--frames", "7", "--out", str(tmp_path / "out"), "--generator",
                            "learned", "--checkpoint", str(model), "--text", "moves right"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[-1] == "0006.png"


def test_training_config_errors(tmp_path: Path) -> None:
    vq_yaml, _ = _configs(tmp_path)
    runner = CliRunner()
    bad = vq_yaml.read_text().replace("disc_start", "disk_start")
    (tmp_path / "bad.yaml").write_text(bad)
    r = runner.invoke(app, ["train", "vqgan", str(tmp_path / "bad.yaml")])
    assert r.exit_code == 2 and "did you mean 'disc_start'" in r.output
    bad = vq_yaml.read_text().replace("channels: 8", "chanels: 8", 1).replace(
        '"channels": 8', '"chanels": 8')
    (tmp_path / "bad2.yaml").write_text(bad)
    r = runner.invoke(app, ["train", "vqgan", str(tmp_path / "bad2.yaml")])
    assert r.exit_code == 2 and "model.chanels" in r.output and "channels" in r.output
    (tmp_path / "null.yaml").write_text("data: null\nout: x\n")
    r = runner.invoke(app, ["train", "vqgan", str(tmp_path / "null.yaml")])
    assert r.exit_code == 2 and "data: got None; expected a file or folder path" in r.output
    r = runner.invoke(app, ["train", "vqgan", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2 and "missing.yaml" in r.output
    wrong = vq_yaml.read_text().replace('"resolution": [16, 16]', '"resolution": [32, 32]')
    (tmp_path / "wrong.yaml").write_text(wrong)
    r = runner.invoke(app, ["train", "vqgan", str(tmp_path / "wrong.yaml")])
    assert r.exit_code == 2 and "16x16" in r.output


@pytest.mark.parametrize("path", sorted(Path(__file__).parents[1].glob("configs/*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_presets_build_their_models(path: Path) -> None:
    from douga.models.io import config_from_dict
    from douga.training.config import TransformerTrainConfig, VQGANTrainConfig, load_train_config

    if "transformer" in path.name:
        tf = load_train_config(path, TransformerTrainConfig)
        cfg = config_from_dict(FrameTransformerConfig, {**tf.model, "token_shape": (8, 8),
                                                        "codebook_size": 256}, source=str(path))
        assert cfg.max_length > cfg.frame_tokens
    else:
        vq = load_train_config(path, VQGANTrainConfig)
        assert config_from_dict(VQGANConfig, vq.model, source=str(path)).token_shape[0] > 0


def test_learned_generator_errors_and_text(tmp_path: Path) -> None:
    from douga.generators import PairContext, get_generator

    with pytest.raises(InputError, match="--checkpoint"):
        get_generator("learned")
    with pytest.raises(InputError, match="not a folder"):
        get_generator("learned", checkpoint=tmp_path / "nothing")
    a = np.zeros((24, 40, 3), np.uint8)
    b = np.full((24, 40, 3), 200, np.uint8)
    for text_input in ("sentence", "words"):
        ckpt = tiny_checkpoint(tmp_path / text_input, use_text=True, text_input=text_input)
        gen = get_generator("learned", checkpoint=ckpt, temperature=0.0)
        frames = list(gen.inbetween(a, b, [0.25, 0.5, 0.75],
                                    context=PairContext(text_a="a ball hops to the right")))
        assert len(frames) == 3
        assert all(f.shape == a.shape and f.dtype == np.uint8 for f in frames)


def test_in_betweens_are_drawn_with_the_keyframes_moved_as_the_model_moved_them() -> None:
    import cv2

    from douga.generators.learned import draw_with_keyframes
    from douga.metrics.inbetween import psnr

    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)  # detail no model can draw
    texture[:2], texture[-2:], texture[:, :2], texture[:, -2:] = 0, 0, 0, 0  # an outline

    def frame(x: int) -> np.ndarray:  # a figure on a flat sky, x px from the left
        img = np.full((48, 96, 3), (40, 60, 90), np.uint8)
        img[16:32, x:x + 16] = texture
        return img

    def decoded(img: np.ndarray) -> np.ndarray:  # what a decoder at 48 x 24 draws of it
        return cv2.resize(img, (48, 24), interpolation=cv2.INTER_AREA)

    a, b = frame(20), frame(60)
    rec_a, rec_b = decoded(a), decoded(b)
    # the model moves the figure 10 px a frame: it comes out as the keyframes' figure
    made = np.stack([decoded(frame(x)) for x in (30, 40, 50)])
    out = draw_with_keyframes(made, a, b, rec_a, rec_b)
    assert out.shape == (3, *a.shape) and out.dtype == np.uint8
    for k, x in enumerate((30, 40, 50)):
        truth = frame(x)
        plain = cv2.resize(made[k], (96, 48), interpolation=cv2.INTER_CUBIC)
        assert psnr(truth, out[k]) > 30.0
        assert psnr(truth, out[k]) > psnr(truth, plain) + 5.0
    # no ghost: where the figure was, the sky (the flow in a flat sky may pull a faint
    # trace of an outline along)
    assert np.abs(out[1, 16:32, 20:36].astype(int) - (40, 60, 90)).mean() <= 2
    # a still picture is every in-between, exactly
    still = draw_with_keyframes(np.repeat(rec_a[None], 5, axis=0), a, a, rec_a, rec_a)
    assert np.abs(still.astype(int) - a).max() <= 1
    # where the model drew something neither keyframe shows, its drawing stays
    new = made.copy()
    new[:, 2:8, 34:44] = 255
    drawn = draw_with_keyframes(new, a, b, rec_a, rec_b)
    plain = cv2.resize(new[0], (96, 48), interpolation=cv2.INTER_CUBIC)
    assert np.abs(drawn[0, 6:14, 72:84].astype(int) - plain[6:14, 72:84]).max() <= 2


@pytest.mark.parametrize("field, value, says", [
    ("channels", 0, "channels: got 0; expected an integer from 1"),
    ("channels", 8.5, "channels: got 8.5"),
    ("channels", True, "channels: got True"),
    ("channel_mult", [], "at least one level"),
    ("num_res_blocks", 0, "num_res_blocks"),
    ("dropout", 2.0, "dropout: got 2.0; expected a number from 0 to 1"),
    ("ema_decay", -0.5, "ema_decay"),
    ("attention_resolutions", ["8"], "attention_resolutions"),
    ("disc_layers", 5, "model.disc_layers 5: too many for 16-pixel frames"),
])
def test_vqgan_model_values_are_checked_before_anything_is_written(
        tmp_path: Path, field: str, value: object, says: str) -> None:
    vq_yaml, _ = _configs(tmp_path)
    import yaml

    data = yaml.safe_load(vq_yaml.read_text())
    data["model"][field] = value
    vq_yaml.write_text(yaml.safe_dump(data))
    r = CliRunner().invoke(app, ["train", "vqgan", str(vq_yaml)])
    assert r.exit_code == 2 and says in r.output, r.output
    assert not (tmp_path / "vq").exists()


@pytest.mark.parametrize("field, value, says", [
    ("n_prev", 0, "n_prev: got 0"), ("n_head", 0, "n_head: got 0"),
    ("n_head", 3, "n_embd a multiple of n_head"), ("max_frames", 0, "max_frames"),
    ("dropout", 2.0, "dropout"), ("n_embd", "big", "n_embd: got 'big'"),
])
def test_transformer_model_values_are_checked(tmp_path: Path, field: str, value: object,
                                               says: str) -> None:
    from douga.models.io import config_from_dict

    values = {**TINY_TRANSFORMER, field: value}
    with pytest.raises(InputError, match=re.escape(says)):
        config_from_dict(FrameTransformerConfig, values, source="tf.yaml", prefix="model.")


def test_broken_checkpoints_and_data_sets_are_named(tmp_path: Path) -> None:
    from douga.models.io import save_model
    from douga.models.vqgan import load_vqgan
    from douga.training.clips import ClipDataset

    folder = save_model(_vqgan(), _vqgan().config, tmp_path / "vq", kind="vqgan")
    config = json.loads((folder / "config.json").read_text())
    for change, says in [({"zzz": 1}, "zzz: unknown key"), ({"channels": -3}, "channels")]:
        (folder / "config.json").write_text(json.dumps({**config, **change}))
        with pytest.raises(InputError, match=rf"config\.json: {says}"):
            load_vqgan(folder)
    clips = tiny_clip_set(tmp_path / "clips")
    shard = next((clips / "train").glob("*.npz"))
    data = shard.read_bytes()
    for broken, says in [(data[: len(data) // 2], "cannot read this shard"),
                         (b"", "cannot read this shard")]:
        shard.write_bytes(broken)
        with pytest.raises(InputError, match=says):
            ClipDataset(clips, "train")
    meta = json.loads((clips / "dataset.json").read_text())
    del meta["splits"]
    (clips / "dataset.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=r"dataset\.json: malformed"):
        ClipDataset(clips, "train")


def test_a_diverging_run_stops_before_saving_a_model(tmp_path: Path) -> None:
    from douga.errors import DougaError
    from douga.training.loop import MetricLog

    with pytest.raises(DougaError, match="training diverged at step 3: rec is inf"):
        MetricLog(tmp_path, enabled=True).write(3, {"rec": float("inf")})
    vq_yaml, _ = _configs(tmp_path)
    vq_yaml.write_text(vq_yaml.read_text().replace("disc_start: 1", "disc_start: 1, "
                                                   "perceptual_weight: .inf"))
    r = CliRunner().invoke(app, ["train", "vqgan", str(vq_yaml)])
    assert r.exit_code == 2 and "perceptual_weight" in r.output, r.output


def test_resuming_with_another_config_is_refused(tmp_path: Path) -> None:
    vq_yaml, _ = _configs(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["train", "vqgan", str(vq_yaml), "--max-steps", "2"]).exit_code == 0
    first = (tmp_path / "vq/config.yaml").read_text()
    wider = vq_yaml.read_text().replace('"channels": 8', '"channels": 16')
    assert wider != vq_yaml.read_text()
    vq_yaml.write_text(wider)
    r = runner.invoke(app, ["train", "vqgan", str(vq_yaml), "--max-steps", "2"])
    assert r.exit_code == 2 and "cannot resume from it" in r.output, r.output
    assert (tmp_path / "vq/config.yaml").read_text() == first


def test_a_folder_of_another_model_is_not_taken_for_clip_or_gpt2(tmp_path: Path) -> None:
    from douga.models.clip import ClipGuide
    from douga.models.io import save_model

    folder = save_model(_vqgan(), _vqgan().config, tmp_path / "vq", kind="vqgan")
    with pytest.raises(InputError, match="not a CLIP model's"):
        ClipGuide(folder)
    with pytest.raises(InputError, match=r"no GPT-2 config\.json"):
        _transformer().load_gpt2(folder)


def test_sampling_settings_reach_the_learned_generator(tmp_path: Path) -> None:
    """`sampling:` in the project and --temperature/--top-k reach the learned generator:
    at temperature 0 every seed draws the same frames, at 1 they differ."""
    from douga.pipeline import make_generator, sampling_for
    from douga.project import SamplingSpec

    ckpt = tiny_checkpoint(tmp_path / "m")
    a = np.zeros((16, 16, 3), np.uint8)
    b = np.full((16, 16, 3), 200, np.uint8)

    def frames(spec: SamplingSpec, seed: int) -> np.ndarray:
        gen = make_generator("learned", ckpt, sampling=spec)
        return np.stack(list(gen.inbetween(a, b, [0.25, 0.5, 0.75],
                                           context=PairContext(seed=seed))))

    greedy = SamplingSpec(temperature=0.0, top_k=0)
    assert np.array_equal(frames(greedy, 1), frames(greedy, 2))
    assert not np.array_equal(frames(SamplingSpec(top_k=0), 1), frames(SamplingSpec(top_k=0), 2))
    gen = make_generator("learned", ckpt, sampling=sampling_for(
        "learned", SamplingSpec(temperature=0.5), top_k=7))
    assert (gen.temperature, gen.top_k) == (0.5, 7)  # type: ignore[attr-defined]
    make_generator("flow", None, sampling=greedy)  # the project's sampling: only for samplers
    with pytest.raises(InputError, match="--top-k: generator 'flow' does not sample"):
        sampling_for("flow", SamplingSpec(), top_k=5)

    runner = CliRunner()
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b).save(tmp_path / "b.png")
    outs = []
    for seed in ("1", "2"):
        r = runner.invoke(app, ["inbetween", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                                "--frames", "3", "--out", str(tmp_path / seed), "--generator",
                                "learned", "--checkpoint", str(ckpt), "--temperature", "0",
                                "--seed", seed])
        assert r.exit_code == 0, r.output
        outs.append([(tmp_path / seed / f"000{k}.png").read_bytes() for k in (1, 2)])
    assert outs[0] == outs[1]
    r = runner.invoke(app, ["inbetween", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                            "--frames", "3", "--out", str(tmp_path / "f"), "--temperature", "0.5"])
    assert r.exit_code == 2 and "--temperature: generator 'flow' does not sample" in r.output
    assert not (tmp_path / "f").exists()
    r = runner.invoke(app, ["inbetween", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                            "--frames", "3", "--out", str(tmp_path / "g"), "--top-k", "-1"])
    assert r.exit_code == 2 and "--top-k" in r.output
    clips = tiny_clip_set(tmp_path / "clips", clips=4)
    r = runner.invoke(app, ["eval", "video", str(clips), "--generators", "flow",
                            "--temperature", "0.5", "--runs", "1"])
    assert r.exit_code == 2 and "temperature 0.5: none of the generators" in r.output
