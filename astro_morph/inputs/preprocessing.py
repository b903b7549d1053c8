"""How images become network inputs: the central crop and the resize."""

import os
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from astro_morph.exceptions import InputError
from astro_morph.utils.validate import check_integer, check_number

__all__ = ["Preprocessing"]


@dataclass(frozen=True, kw_only=True)
class Preprocessing:
    """How images become network inputs; stored with the model so prediction cannot drift.

    Attributes
    ----------
    input_size : int
        Side of the square network input.
    crop_fraction : float
        Central fraction of each image kept before resizing (Galaxy Zoo
        JPEGs frame a galaxy in about ten times its Petrosian R90; keeping the
        central 35% frames it in 3.5 R90, so the network sees the galaxy).
    """

    input_size: int = 64
    crop_fraction: float = 0.35

    def __post_init__(self):
        check_integer("input_size", self.input_size, low=8)
        check_number("crop_fraction", self.crop_fraction, 0, 1, low_inclusive=False)

    def to_dict(self):
        return asdict(self)

    def _box(self, height, width):
        side = max(1, int(round(min(height, width) * self.crop_fraction)))
        top, left = (height - side) // 2, (width - side) // 2
        return slice(top, top + side), slice(left, left + side), side

    def _resize(self, crop_uint8):
        pil = Image.fromarray(crop_uint8).resize((self.input_size,) * 2, Image.BILINEAR)
        return np.asarray(pil, dtype=np.float32) / 255.0

    def resize_crop(self, crop_uint8):
        """Resize one (side, side, 3) 8-bit crop to the network input, in [0, 1].

        The last step of `load`, for pipelines that crop the files themselves.
        """
        crop_uint8 = np.ascontiguousarray(crop_uint8, dtype=np.uint8)
        if crop_uint8.shape[0] == self.input_size:
            return crop_uint8.astype(np.float32) / 255.0
        return self._resize(crop_uint8)

    def crop_mask(self, height, width):
        """Boolean (height, width) mask of the pixels that `crop` keeps.

        Examples
        --------
        >>> int(Preprocessing(crop_fraction=0.5).crop_mask(8, 8).sum())
        16
        """
        mask = np.zeros((height, width), dtype=bool)
        rows, cols, _ = self._box(height, width)
        mask[rows, cols] = True
        return mask

    def crop(self, images):
        """The central ``crop_fraction`` of each image of a (N, H, W, C) batch (a view)."""
        rows, cols, _ = self._box(*np.shape(images)[1:3])
        return images[:, rows, cols]

    def resize(self, cropped):
        """Resize a batch of crops in [0, 1] to the network input."""
        cropped = np.asarray(cropped, dtype=np.float32)
        if cropped.shape[1] == self.input_size:
            return np.ascontiguousarray(cropped)
        out = np.empty((len(cropped), self.input_size, self.input_size, 3), dtype=np.float32)
        for i in range(len(cropped)):
            out[i] = self._resize(np.round(cropped[i] * 255).astype(np.uint8))
        return out

    def apply(self, images):
        """Centre-crop and resize a (N, H, W, 3) batch in [0, 1] to the network input."""
        return self.resize(self.crop(np.asarray(images, dtype=np.float32)))

    def read_crop(self, path):
        """Read one JPEG/PNG file and return its central crop, 8-bit RGB."""
        try:
            with Image.open(path) as image:
                array = np.asarray(image.convert("RGB"))
        except FileNotFoundError:
            raise InputError(f"image file {os.fspath(path)!r} does not exist.") from None
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise InputError(f"image file {os.fspath(path)!r} is empty or not a readable "
                             f"JPEG/PNG ({exc}); replace or remove it.") from exc
        rows, cols, _ = self._box(*array.shape[:2])
        return np.ascontiguousarray(array[rows, cols])

    def load(self, path):
        """Read one JPEG/PNG file and return it cropped and resized, in [0, 1]."""
        # The same pixels as apply(array / 255): 8-bit values survive the round trip,
        # so cropping the 8-bit array first only skips converting pixels never used.
        return self.resize_crop(self.read_crop(path))
