"""The project file: anchors, schema, path resolution, one-line errors, dump/new, and
property tests that no input makes the loader raise anything but InputError."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from douga.errors import InputError
from douga.music.musicmap import MusicMap
from douga.project import (
    Anchor,
    Keyframe,
    OutputSpec,
    Project,
    dump_project,
    load_project,
    natural_key,
    new_project,
    parse_anchor,
)

CONTRACT = """\
audio: song.wav                  # wav, flac, mp3, ogg, m4a; any rate, mono or stereo
keyframes:
  - image: kf/01.png
    text: "she looks up at the falling petals"   # optional
  - image: kf/02.png
    at: "5:1"                    # optional pin
    cut: true                    # optional: hard cut
lyrics: lyrics.lrc               # optional, LRC or SRT
style: "soft watercolor anime"   # optional global text
output: {width: 1280, height: 720, fps: 24}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A project folder with the files the contract example names (contents unused)."""
    (tmp_path / "kf").mkdir()
    for name in ("song.wav", "lyrics.lrc", "kf/01.png", "kf/02.png", "kf/03.png"):
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def _usable(folder: Path) -> Path:
    """Give the folder's files real contents: `new_project` checks that they can be read."""
    import soundfile as sf
    from PIL import Image

    sf.write(folder / "song.wav", np.zeros(2205, np.float32), 22050)
    for name in ("kf/01.png", "kf/02.png", "kf/03.png"):
        Image.new("RGB", (8, 8)).save(folder / name)
    (folder / "lyrics.lrc").write_text("[00:00.00]la\n")
    return folder


def _load(folder: Path, text: str) -> Project:
    path = folder / "project.yaml"
    path.write_text(text, encoding="utf-8")
    return load_project(path)


def _error(folder: Path, text: str) -> str:
    with pytest.raises(InputError) as e:
        _load(folder, text)
    message = str(e.value)
    assert "\n" not in message, message
    assert "pydantic" not in message and "errors.pydantic.dev" not in message
    return message


MINIMAL = "audio: song.wav\nkeyframes:\n  - image: kf/01.png\n"


# ---------------------------------------------------------------------------- anchors
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("5:1", Anchor(bar=5, beat=1.0)),
        ("9:2.5", Anchor(bar=9, beat=2.5)),
        (" 12:3 ", Anchor(bar=12, beat=3.0)),
        ("12.5s", Anchor(seconds=12.5)),
        ("12.5", Anchor(seconds=12.5)),
        ("0s", Anchor(seconds=0.0)),
        (".5s", Anchor(seconds=0.5)),
        (12.5, Anchor(seconds=12.5)),
        (3, Anchor(seconds=3.0)),
    ],
)
def test_parse_anchor(text: str | float, want: Anchor) -> None:
    got = parse_anchor(text, field="at")
    assert got == want
    assert parse_anchor(str(got), field="at") == got


def test_anchor_text_is_canonical() -> None:
    assert str(parse_anchor("5:1", field="at")) == "5:1"
    assert str(parse_anchor("9:2.50", field="at")) == "9:2.5"
    assert str(parse_anchor(12, field="at")) == "12s"
    assert str(parse_anchor("12.25", field="at")) == "12.25s"
    assert parse_anchor("5:1", field="at").is_musical
    assert not parse_anchor("5s", field="at").is_musical


@pytest.mark.parametrize("bad", ["0:1", "5:0", "5:0.5", "-1s", "soon", "5:1:2", "", "1e3", True,
                                 float("inf"), float("nan"), -2, None, [1]])
def test_parse_anchor_errors_name_field_and_forms(bad: object) -> None:
    with pytest.raises(InputError) as e:
        parse_anchor(bad, field="--at")  # type: ignore[arg-type]
    assert str(e.value).startswith("--at: got ")
    assert "bar:beat" in str(e.value) and "12.5s" in str(e.value)


def test_anchor_needs_one_form() -> None:
    with pytest.raises(ValueError, match="either"):
        Anchor()
    with pytest.raises(ValueError, match="either"):
        Anchor(bar=1, beat=1.0, seconds=2.0)
    with pytest.raises(ValueError, match="either"):
        Anchor(bar=1)


def test_anchor_to_seconds() -> None:
    beats = [0.5 * i for i in range(32)]
    music = MusicMap(
        duration=16.0, tempo=120.0, tempo_curve=[], beats=beats, downbeats=beats[::4], meter=4,
        onsets=[], onset_strength=[], sections=[], beat_intensity=[0.5] * len(beats),
    )
    assert parse_anchor("3:2", field="at").to_seconds(music) == pytest.approx(4.5)
    assert parse_anchor("7.25s", field="at").to_seconds(music) == 7.25


# ----------------------------------------------------------------------------- loading
def test_contract_example_loads_with_absolute_paths(folder: Path) -> None:
    project = _load(folder, CONTRACT)
    base = folder.resolve()
    assert project.base_dir == base
    assert project.audio == base / "song.wav"
    assert project.lyrics == base / "lyrics.lrc"
    assert project.style == "soft watercolor anime"
    assert project.output == OutputSpec(width=1280, height=720, fps=24.0)
    first, second = project.keyframes
    assert first.image == base / "kf/01.png"
    assert first.text == "she looks up at the falling petals"
    assert first.at is None and first.cut is False and first.beats is None
    assert second.at == Anchor(bar=5, beat=1.0) and second.cut is True
    assert project.keyframe_images() == [base / "kf/01.png", base / "kf/02.png"]


def test_minimal_project_gets_defaults(folder: Path) -> None:
    project = _load(folder, MINIMAL)
    assert project.output == OutputSpec()
    assert (project.output.width, project.output.height, project.output.fps) == (1280, 720, 24.0)
    assert project.lyrics is None and project.style is None


def test_unquoted_positions_are_not_base_60_numbers(folder: Path) -> None:
    # YAML 1.1 reads 5:1 as 301 and 9:2.5 as 542.5; a pin must stay bar:beat
    text = MINIMAL + "  - image: kf/02.png\n    at: 5:1\n  - image: kf/03.png\n    at: 9:2.5\n"
    kfs = _load(folder, text).keyframes
    assert kfs[1].at == Anchor(bar=5, beat=1.0)
    assert kfs[2].at == Anchor(bar=9, beat=2.5)


def test_bare_number_and_beats(folder: Path) -> None:
    text = MINIMAL + "    at: 12.5\n    beats: 8\n"
    kf = _load(folder, text).keyframes[0]
    assert kf.at == Anchor(seconds=12.5) and kf.beats == 8.0


def test_numbers_and_dates_are_accepted_as_text(folder: Path) -> None:
    kf = _load(folder, MINIMAL + "    text: 2024-04-01\n").keyframes[0]
    assert kf.text == "2024-04-01"
    assert _load(folder, MINIMAL + "style: 1999\n").style == "1999"


def test_empty_output_means_defaults(folder: Path) -> None:
    assert _load(folder, MINIMAL + "output:\n").output == OutputSpec()


def test_folder_path_loads_its_project_yaml(folder: Path) -> None:
    (folder / "project.yaml").write_text(MINIMAL)
    assert load_project(folder).audio == folder.resolve() / "song.wav"


def test_absolute_and_home_paths(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(folder))
    text = f"audio: {folder / 'song.wav'}\nkeyframes:\n  - image: ~/kf/01.png\n"
    project = _load(folder, text)
    assert project.audio == folder / "song.wav"
    assert project.keyframes[0].image == folder / "kf/01.png"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL.replace("image:", "imag:"),
         "project.yaml: keyframes[0].imag: unknown key; did you mean 'image'?"),
        (MINIMAL + "    txt: hello\n",
         "project.yaml: keyframes[0].txt: unknown key; did you mean 'text'?"),
        (MINIMAL.replace("keyframes", "keyframe"),
         "project.yaml: keyframe: unknown key; did you mean 'keyframes'?"),
        (MINIMAL + "output: {width: 640, heigth: 480}\n",
         "project.yaml: output.heigth: unknown key; did you mean 'height'?"),
        (MINIMAL + "zzz: 1\n", "project.yaml: zzz: unknown key; expected one of: audio, keyframes"),
        (MINIMAL + "base_dir: /\n", "project.yaml: base_dir: unknown key"),
    ],
)
def test_unknown_keys_get_a_did_you_mean(folder: Path, text: str, expected: str) -> None:
    assert expected in _error(folder, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("keyframes:\n  - image: kf/01.png\n", "project.yaml: audio: missing; expected a path"),
        ("audio: song.wav\n", "project.yaml: keyframes: missing; expected a list of keyframes"),
        ("audio: song.wav\nkeyframes: kf/01.png\n",
         "project.yaml: keyframes: got 'kf/01.png'; expected a list of keyframes"),
        ("audio: song.wav\nkeyframes: []\n", "keyframes: got an empty list; expected a list"),
        ("audio: song.wav\nkeyframes:\n  - kf/01.png\n",
         "keyframes[0]: got 'kf/01.png'; expected a mapping such as {image: kf/01.png}"),
        ("audio: song.wav\nkeyframes:\n  - text: hi\n",
         "project.yaml: keyframes[0].image: missing; expected a path to an image file"),
        ("audio: 5\nkeyframes:\n  - image: kf/01.png\n", "audio: got 5; expected a file path"),
        (MINIMAL + "    at: '5:0'\n",
         "project.yaml: keyframes[0].at: got '5:0'; expected beat 1 or later"),
        (MINIMAL + "    at: later\n",
         "project.yaml: keyframes[0].at: got 'later'; expected a position, 'bar:beat'"),
        (MINIMAL + "    at: -3\n", "keyframes[0].at: got -3; expected a time of 0 seconds or more"),
        (MINIMAL + "    cut: maybe\n", "keyframes[0].cut: got 'maybe'; expected true or false"),
        (MINIMAL + "    beats: 0\n", "keyframes[0].beats: got 0; expected a positive number"),
        (MINIMAL + "    text: yes\n", "keyframes[0].text: got True; expected a text (put it in"),
        (MINIMAL + "output: {width: 1281}\n", "yaml: output.width: got 1281; expected an even"),
        (MINIMAL + "output: {height: 8}\n", "height: got 8; expected an even whole number of"),
        (MINIMAL + "output: {width: wide}\n", "output.width: got 'wide'; expected an even whole"),
        (MINIMAL + "output: {fps: 500}\n", "output.fps: got 500; expected frames per second"),
        (MINIMAL + "output: {fps: .nan}\n", "output.fps: got nan; expected frames per second"),
        (MINIMAL + "output: 720p\n", "output: got '720p'; expected a mapping such as {width: 1280"),
        (MINIMAL + "lyrics: words.txt\n", "lyrics: got "),
        (MINIMAL + "style: [a, b]\n", "style: got a list of 2; expected a text"),
        ("audio: 5\nkeyframes: 3\noutput: 2\n", "(and 2 more problems)"),
    ],
)
def test_validation_errors_are_one_clear_line(folder: Path, text: str, expected: str) -> None:
    assert expected in _error(folder, text)


def test_lyrics_extension(folder: Path) -> None:
    message = _error(folder, MINIMAL + "lyrics: words.txt\n")
    assert "expected a lyrics file ending in .lrc or .srt" in message


def test_missing_files_name_field_and_absolute_path(folder: Path) -> None:
    text = MINIMAL + "  - image: kf/02.png\n  - image: kf/04.png\n"
    expected = f"project.yaml: keyframes[2].image: file not found: {folder.resolve() / 'kf/04.png'}"
    assert _error(folder, text).endswith(expected)
    assert "audio: file not found" in _error(folder, MINIMAL.replace("song.wav", "nope.mp3"))
    assert "lyrics: file not found" in _error(folder, MINIMAL + "lyrics: gone.srt\n")
    assert "keyframes[0].image: not a file" in _error(folder, MINIMAL.replace("kf/01.png", "kf"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("audio: song.wav\nkeyframes:\n  - image: kf/01.png\n   text: [\n",
         "project.yaml: line 4, column 4: invalid YAML"),
        ("audio: song.wav\nkeyframes:\n\t- image: kf/01.png\n", "line 3, column 1: invalid YAML"),
        ("audio: 'song.wav\n", "project.yaml: line 2, column 1: invalid YAML"),
        ("audio: song.wav\naudio: other.wav\nkeyframes: []\n",
         "line 2, column 1: invalid YAML: key 'audio' appears twice"),
        ("", "project.yaml: file is empty; expected a mapping"),
        ("# only a comment\n", "file is empty"),
        ("- a\n- b\n", "project.yaml: got a list of 2 at the top level; expected a mapping"),
        ("just words\n", "got 'just words' at the top level"),
        ("1: x\n", "project.yaml: top level: key 1 is not text"),
    ],
)
def test_malformed_files(folder: Path, text: str, expected: str) -> None:
    assert expected in _error(folder, text)


def test_not_utf8_and_missing_project(folder: Path) -> None:
    (folder / "project.yaml").write_bytes("style: 桜\n".encode("shift_jis"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_project(folder / "project.yaml")
    with pytest.raises(InputError, match=r"other\.yaml: file not found"):
        load_project(folder / "other.yaml")


def test_bom_and_cjk(folder: Path) -> None:
    (folder / "project.yaml").write_bytes(("\ufeff" + MINIMAL + "style: 水彩の桜\n").encode())
    assert load_project(folder / "project.yaml").style == "水彩の桜"


def test_models_are_frozen_and_strict(folder: Path) -> None:
    project = _load(folder, MINIMAL)
    with pytest.raises(Exception, match="frozen"):
        project.style = "x"  # type: ignore[misc]
    with pytest.raises(Exception, match="Extra inputs"):
        Keyframe(image=Path("a.png"), txt="x")  # type: ignore[call-arg]


def test_programmatic_project_resolves_against_base_dir(tmp_path: Path) -> None:
    project = Project(audio="song.wav", keyframes=[Keyframe(image=Path("kf/1.png"))],
                      base_dir=tmp_path)
    assert project.audio == tmp_path / "song.wav"
    assert project.keyframes[0].image == tmp_path / "kf/1.png"
    again = Project.model_validate_json(project.model_dump_json())
    assert again == project


# ------------------------------------------------------------------------ dump, new
def test_dump_round_trips_with_relative_paths(folder: Path) -> None:
    project = _load(folder, CONTRACT + "")
    project = project.model_copy(update={"keyframes": [
        *project.keyframes,
        Keyframe(image=folder.resolve() / "kf/03.png", at=Anchor(seconds=12.5), beats=3.5),
    ]})
    out = folder / "copy.yaml"
    dump_project(project, out)
    data = yaml.safe_load(out.read_text())
    assert data["audio"] == "song.wav" and data["lyrics"] == "lyrics.lrc"
    assert [k["image"] for k in data["keyframes"]] == ["kf/01.png", "kf/02.png", "kf/03.png"]
    assert data["keyframes"][1] == {"image": "kf/02.png", "at": "5:1", "cut": True}
    assert data["keyframes"][2] == {"image": "kf/03.png", "at": "12.5s", "beats": 3.5}
    assert data["output"] == {"width": 1280, "height": 720, "fps": 24}
    assert load_project(out) == project


def test_dump_into_another_folder_uses_dot_dot(folder: Path) -> None:
    project = _load(folder, MINIMAL)
    out = folder / "sub" / "project.yaml"
    dump_project(project, out)
    assert yaml.safe_load(out.read_text())["audio"] == "../song.wav"
    assert load_project(out).audio.resolve() == project.audio.resolve()


def test_natural_key() -> None:
    names = ["kf/10.png", "kf/2.png", "kf/01.png", "kf/b.png", "kf/A.png"]
    assert sorted(names, key=natural_key) == [
        "kf/01.png", "kf/2.png", "kf/10.png", "kf/A.png", "kf/b.png",
    ]


def test_new_project_from_glob(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    _usable(folder)
    for name in ("kf/10.png", "kf/9.jpg"):
        Image.new("RGB", (8, 8)).save(folder / name)
    (folder / "kf/notes.txt").write_text("not a keyframe")
    monkeypatch.chdir(folder)
    path = new_project("mv", song="song.wav", images="kf/*", style="ink wash")
    assert path == Path("mv/project.yaml")
    data = yaml.safe_load(path.read_text())
    assert data["audio"] == "../song.wav"
    assert [k["image"] for k in data["keyframes"]] == [
        "../kf/01.png", "../kf/02.png", "../kf/03.png", "../kf/9.jpg", "../kf/10.png",
    ]
    project = load_project(path)
    assert project.style == "ink wash" and len(project.keyframes) == 5
    assert not (folder / "mv" / "kf").exists()  # nothing copied


def test_new_project_from_list_and_options(folder: Path) -> None:
    _usable(folder)
    images = [folder / "kf/03.png", folder / "kf/01.png"]
    output = OutputSpec(width=640, height=360, fps=12)
    path = new_project(folder / "p", song=folder / "song.wav", images=images,
                       lyrics=folder / "lyrics.lrc", output=output)
    project = load_project(path)
    assert [i.name for i in project.keyframe_images()] == ["01.png", "03.png"]
    assert project.lyrics is not None
    assert project.lyrics.resolve() == (folder / "lyrics.lrc").resolve()
    assert project.output.fps == 12


def test_new_project_errors(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _usable(folder)
    monkeypatch.chdir(folder)
    with pytest.raises(InputError, match=r"images: no files match 'art/\*\.png'"):
        new_project("a", song="song.wav", images="art/*.png")
    with pytest.raises(InputError, match=r"matched 1 file.*but no image"):
        new_project("a", song="song.wav", images="*.lrc")
    with pytest.raises(InputError, match="none given"):
        new_project("a", song="song.wav", images=[])
    with pytest.raises(InputError, match=r"missing\.png: file not found"):
        new_project("a", song="song.wav", images=["missing.png"])
    with pytest.raises(InputError, match=r"tune\.mp3: file not found"):
        new_project("a", song="tune.mp3", images="kf/*.png")
    with pytest.raises(InputError, match=r"words\.lrc: file not found"):
        new_project("a", song="song.wav", images="kf/*.png", lyrics="words.lrc")
    new_project("a", song="song.wav", images="kf/*.png")
    with pytest.raises(InputError, match=r"project\.yaml: already exists"):
        new_project("a", song="song.wav", images="kf/*.png")
    new_project("a", song="song.wav", images="kf/0*.png", overwrite=True)
    assert len(load_project("a").keyframes) == 3
    with pytest.raises(InputError, match="is a file"):
        new_project("song.wav", song="song.wav", images="kf/*.png")


# ---------------------------------------------------------------- property tests
KEYS = ["audio", "keyframes", "image", "text", "at", "cut", "beats", "lyrics", "style",
        "output", "width", "height", "fps", "base_dir", "imag", "Audio"]
FILES = ["song.wav", "kf/01.png", "kf/02.png", "lyrics.lrc", "lyrics.srt", "kf", "", "~nobody/x",
         "a\x00b", "x" * 300]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(FILES),
    st.sampled_from(["5:1", "9:2.5", "0:1", "12.5s", "-1s", "1:2:3", "yes", "720p"]),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=20,
)
keyframe = st.fixed_dictionaries(
    {"image": st.sampled_from(FILES)},
    optional={"text": scalars, "at": scalars, "cut": scalars, "beats": scalars},
)
projects = st.fixed_dictionaries(
    {"audio": st.sampled_from(FILES), "keyframes": st.lists(keyframe, max_size=4)},
    optional={
        "lyrics": st.sampled_from(FILES), "style": scalars,
        "output": st.dictionaries(st.sampled_from(["width", "height", "fps", "depth"]), scalars),
        "extra": values,
    },
)


@pytest.fixture(scope="module")
def prop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("prop")
    (base / "kf").mkdir()
    for name in ("song.wav", "kf/01.png", "kf/02.png", "lyrics.lrc", "lyrics.srt"):
        (base / name).write_bytes(b"x")
    return base


def _only_input_errors(folder: Path, data: bytes) -> None:
    path = folder / "project.yaml"
    path.write_bytes(data)
    try:
        project = load_project(path)
    except InputError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert project.keyframes and project.audio.is_absolute()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=projects)
def test_project_like_dicts_only_raise_input_error(prop_dir: Path, data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    _only_input_errors(prop_dir, text.encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(data=values)
def test_any_yaml_value_only_raises_input_error(prop_dir: Path, data: object) -> None:
    _only_input_errors(prop_dir, yaml.safe_dump(data, allow_unicode=True).encode("utf-8"))


yaml_ish = st.lists(
    st.one_of(
        st.sampled_from(["audio: song.wav", "keyframes:", "  - image: kf/01.png", "    at: 5:1",
                         "output: {width: 640", "- [", "&a x", "*a", "? [a]", "!!binary x",
                         "!!python/object:os.system x", "%YAML 1.1", "---", "...", "\t", "{{",
                         ":"]),
        st.text(alphabet=string.printable, max_size=30),
    ),
    max_size=8,
).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(text=yaml_ish)
def test_any_text_only_raises_input_error(prop_dir: Path, text: str) -> None:
    _only_input_errors(prop_dir, text.encode("utf-8"))


@settings(max_examples=50, deadline=None)
@given(raw=st.binary(max_size=200))
def test_any_bytes_only_raise_input_error(prop_dir: Path, raw: bytes) -> None:
    _only_input_errors(prop_dir, raw)


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(scalars, st.text(alphabet="0123456789:.s -", max_size=8)))
def test_parse_anchor_only_raises_input_error_and_round_trips(value: object) -> None:
    try:
        anchor = parse_anchor(value, field="at")  # type: ignore[arg-type]
    except InputError:
        return
    assert parse_anchor(str(anchor), field="at") == anchor


RENDER_KEYS = """\
audio: song.wav
keyframes: [{image: kf/01.png}, {image: kf/02.png}]
generator: crossfade
fit: cover
seed: 7
effects: {zoom: 0.5, shake: false, font: fonts/my.ttf}
output: {width: 640, height: 360, fps: 24, crf: 23}
sampling: {temperature: 0.7, top_k: 0}
"""


def test_render_keys_load_and_round_trip(folder: Path) -> None:
    (folder / "fonts").mkdir()
    (folder / "fonts/my.ttf").write_bytes(b"x")
    project = _load(folder, RENDER_KEYS)
    assert project.generator == "crossfade" and project.fit == "cover" and project.seed == 7
    assert project.output.crf == 23
    assert (project.sampling.temperature, project.sampling.top_k) == (0.7, 0)
    assert project.effects.zoom == 0.5 and project.effects.shake == 0.0
    assert project.effects.font == folder / "fonts/my.ttf"
    out = folder / "copy.yaml"
    dump_project(project, out)
    data = yaml.safe_load(out.read_text())
    assert data["effects"]["font"] == "fonts/my.ttf" and data["fit"] == "cover"
    assert data["sampling"] == {"temperature": 0.7, "top_k": 0}
    assert load_project(out) == project


def test_render_key_defaults_and_effects_none(folder: Path) -> None:
    project = _load(folder, "audio: song.wav\nkeyframes: [{image: kf/01.png}]\neffects: none\n")
    assert project.effects.is_none and project.generator == "flow" and project.fit == "contain"
    dump_project(project, folder / "copy.yaml")
    assert yaml.safe_load((folder / "copy.yaml").read_text())["effects"] == "none"


@pytest.mark.parametrize(("text", "expected"), [
    ("fit: shrink\n", "fit"),
    ("effects: {zom: 1}\n", "did you mean 'zoom'"),
    ("effects: {font: missing.ttf}\n", "effects.font: file not found"),
    ("output: {crf: 80}\n", "crf"),
    ("sampling: {temperature: -1}\n", "sampling.temperature: got -1; expected a number from 0"),
    ("sampling: {top_k: 2.5}\n", "sampling.top_k: got 2.5; expected a whole number from 0"),
    ("sampling: {top: 5}\n", "did you mean 'top_k'"),
])
def test_render_key_errors(folder: Path, text: str, expected: str) -> None:
    message = _error(folder, "audio: song.wav\nkeyframes: [{image: kf/01.png}]\n" + text)
    assert expected in message and "project.yaml" in message
