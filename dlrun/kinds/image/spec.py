"""The ``images:`` block of project.yaml (kind: image): size, channels, augmentation."""

from typing import Literal

from pydantic import Field, field_validator

from dlrun.spec import StrictModel


class AugmentSpec(StrictModel):
    """Training-time augmentation of images (Keras preprocessing layers, inactive at inference)."""

    flip: Literal["none", "horizontal", "vertical", "both"] = Field(
        "horizontal", description="Random flips ('none' for digits and text-like images)."
    )
    shift: float = Field(0.1, ge=0.0, le=0.5, description="Random shift, as a fraction of height/width.")
    rotation: float = Field(
        0.05, ge=0.0, le=0.5, description="Random rotation, as a fraction of a full turn (0.05 = 18 degrees)."
    )


class ImageSpec(StrictModel):
    """How images are read (kind: image): the size they are resized to, and augmentation."""

    image_size: list[int] | None = Field(
        None, min_length=2, max_length=2,
        description="[height, width] every image is resized to (default: inferred by `dlrun new`).",
    )
    channels: Literal[1, 3] | None = Field(None, description="1 (greyscale) or 3 (colour).")
    augment: bool | AugmentSpec = Field(
        True, description="Augmentation used by the 'augment' view (true: the defaults; false: none)."
    )

    @field_validator("image_size")
    @classmethod
    def _size(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 4 <= v <= 1024 for v in value):
            raise ValueError("each side must be between 4 and 1024 pixels")
        return value


