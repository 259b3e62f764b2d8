"""The ``effects:`` key of the project file: :class:`EffectStyle`, its validation and colours.

Kept apart from the drawing code (and light to import) because the project file model
embeds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from PIL import ImageColor
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from douga.errors import InputError

__all__ = ["EffectStyle"]


def _color_from(value: object) -> tuple[int, int, int]:
    """An RGB colour from a name ('white'), '#rrggbb' or [r, g, b]."""
    if isinstance(value, str):
        try:
            rgb = ImageColor.getrgb(value.strip())
        except ValueError:
            raise ValueError(
                "expected a colour: a name such as 'white', '#rrggbb' or [r, g, b]"
            ) from None
        return (int(rgb[0]), int(rgb[1]), int(rgb[2]))
    if (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        return (int(value[0]), int(value[1]), int(value[2]))
    raise ValueError("expected a colour: a name such as 'white', '#rrggbb' or [r, g, b] (0-255)")


def _color_text(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


Color = Annotated[
    tuple[int, int, int],
    PlainValidator(_color_from),
    PlainSerializer(_color_text, return_type=str),
    WithJsonSchema({"type": ["string", "array"], "description": "name, #rrggbb or [r, g, b]"}),
]

Multiplier = Annotated[float, Field(ge=0.0, le=3.0)]
_NONE_WORDS = ("none", "off")


class EffectStyle(BaseModel):
    """How effects look: the ``effects:`` key of the project file.

    ``effects: none`` (or ``off``, ``false``) switches every effect and the lyric text
    off; an empty ``effects:`` means the defaults. Unknown keys are errors.

    Attributes
    ----------
    flash, zoom, shake : float
        Strength multiplier per kind, 0 (off) to 3; ``true``/``false`` mean 1/0.
    flash_color : colour
        What a flash blends toward; default white.
    lyric_text : bool
        Draw the lyrics (when the project has a lyrics file).
    font : Path or None
        A TrueType/OpenType font (.ttf, .otf, .ttc); None uses the bundled DejaVu Sans
        Bold, which has no CJK glyphs.
    font_index : int
        Face index inside a font collection (.ttc).
    font_size : float
        Text height as a share of the frame height (0.06 = 43 px at 720p).
    text_color, outline_color : colour
        Fill and outline of the letters.
    outline_width : float
        Outline thickness as a share of the font size; 0 for none.
    position : {"bottom", "top", "center"}
        Where the text block sits.
    fade_in, fade_out : float
        Seconds a lyric line takes to appear and to disappear.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    flash: Multiplier = 1.0
    zoom: Multiplier = 1.0
    shake: Multiplier = 1.0
    flash_color: Color = (255, 255, 255)
    lyric_text: bool = True
    font: Path | None = None
    font_index: int = Field(default=0, ge=0, le=255)
    font_size: float = Field(default=0.06, gt=0.0, le=0.5)
    text_color: Color = (255, 255, 255)
    outline_color: Color = (0, 0, 0)
    outline_width: float = Field(default=0.1, ge=0.0, le=0.5)
    position: Literal["bottom", "top", "center"] = "bottom"
    fade_in: float = Field(default=0.15, ge=0.0, le=10.0)
    fade_out: float = Field(default=0.4, ge=0.0, le=10.0)

    @model_validator(mode="before")
    @classmethod
    def _switch(cls, data: Any) -> Any:
        # `effects: none`, `effects: off` (YAML 1.1 reads it as false) and `effects: false`
        # turn everything off; `effects:` alone or `true` keeps the defaults
        if data is None or data is True:
            return {}
        if data is False or (isinstance(data, str) and data.strip().lower() in _NONE_WORDS):
            return _NONE_FIELDS
        if not isinstance(data, dict | EffectStyle):
            raise ValueError("expected 'none' or a mapping of effect options such as {zoom: 0.5}")
        return data

    @field_validator("flash", "zoom", "shake", mode="before")
    @classmethod
    def _on_off(cls, v: object) -> object:
        if isinstance(v, bool):
            return 1.0 if v else 0.0
        return v

    @field_validator("font", mode="before")
    @classmethod
    def _font_path(cls, v: object) -> object:
        if v is None or isinstance(v, Path):
            return v
        if isinstance(v, str) and v.strip():
            return Path(v.strip()).expanduser()
        raise ValueError("expected a font file path (.ttf, .otf, .ttc), or nothing for the default")

    @classmethod
    def none(cls) -> EffectStyle:
        """The style of ``effects: none``: no flash, zoom, shake or lyric text."""
        return cls.model_validate(_NONE_FIELDS)

    @classmethod
    def from_value(cls, value: object, *, source: str = "effects") -> EffectStyle:
        """Validate what the project file gives for ``effects:``.

        Parameters
        ----------
        value : mapping, str, bool or None
            ``"none"``/``"off"``/``False`` → :meth:`none`; None/``True`` → defaults;
            a mapping of the attributes above.
        source : str, keyword-only
            Names the field in error messages (for example ``"project.yaml: effects"``).

        Raises
        ------
        InputError
            An unknown key (with a did-you-mean), a wrong type or a value out of range,
            naming the field, the value and what was expected.
        """
        if isinstance(value, EffectStyle):
            return value
        bad_word = isinstance(value, str) and value.strip().lower() not in _NONE_WORDS
        if bad_word or not (value is None or isinstance(value, bool | str | dict)):
            raise InputError(
                f"{source}: got {value!r}; expected 'none' or a mapping of effect options "
                "such as {zoom: 0.5, position: top}"
            )
        try:
            return cls.model_validate(value)
        except ValidationError as e:
            # imported here: project.py embeds this model, so it imports this module
            from douga.project import format_validation_error

            raise InputError(format_validation_error(e, source=source, root=cls)) from None

    @property
    def is_none(self) -> bool:
        """True when nothing would be drawn (no effect kind on, no lyric text)."""
        return self.flash == self.zoom == self.shake == 0.0 and not self.lyric_text

    def multiplier(self, kind: str) -> float:
        """The strength multiplier for an effect kind (``flash``, ``zoom`` or ``shake``)."""
        return float(getattr(self, kind))

    def with_base(self, base_dir: Path) -> EffectStyle:
        """This style with a relative ``font`` path made absolute against ``base_dir``."""
        if self.font is None or self.font.is_absolute():
            return self
        return self.model_copy(update={"font": base_dir / self.font})


_NONE_FIELDS: dict[str, Any] = {"flash": 0.0, "zoom": 0.0, "shake": 0.0, "lyric_text": False}
