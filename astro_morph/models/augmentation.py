"""Data augmentation suited to galaxies, as one Keras layer."""

import keras
from keras import layers, ops

__all__ = ["GalaxyAugmentation"]


@keras.saving.register_keras_serializable(package="astro_morph")
class GalaxyAugmentation(layers.Layer):
    """Random galaxy-preserving transformations, active only in training.

    A galaxy's class does not change under the 8 rotations by 90 degrees and
    reflections (the dihedral group), nor under rotations by any angle, small
    shifts and zooms. Each image of a batch gets its own transformation.

    Parameters
    ----------
    shift : float
        Largest shift as a fraction of the image side (0 disables).
    zoom : float
        Largest relative zoom in or out (0 disables).
    colour_jitter : float
        Largest relative change of each colour channel's brightness (0 disables).
    seed : int, optional
        Seed of the random transformations.
    rotation : bool
        Also rotate by a random angle of up to 45 degrees either way (with the
        dihedral group: any angle).

    Examples
    --------
    >>> import numpy as np
    >>> layer = GalaxyAugmentation(shift=0, zoom=0, seed=1)
    >>> images = np.random.default_rng(0).random((4, 8, 8, 3)).astype("float32")
    >>> out = np.asarray(layer(images, training=True))
    >>> bool(np.allclose(np.sort(out, axis=None), np.sort(images, axis=None)))
    True
    """

    def __init__(self, *, shift=0.06, zoom=0.1, colour_jitter=0.0, seed=None, rotation=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.shift, self.zoom, self.colour_jitter, self.seed = shift, zoom, colour_jitter, seed
        self.rotation = bool(rotation)
        self._generator = keras.random.SeedGenerator(seed)
        self._rotate = (layers.RandomRotation(0.125, fill_mode="reflect", seed=seed)
                        if rotation else None)
        self._translate = (layers.RandomTranslation(shift, shift, fill_mode="reflect", seed=seed)
                           if shift else None)
        self._zoom = (layers.RandomZoom(zoom, zoom, fill_mode="reflect", seed=seed)
                      if zoom else None)

    def build(self, input_shape):
        """Build the shift and zoom sub-layers."""
        for layer in (self._rotate, self._translate, self._zoom):
            if layer is not None:
                layer.build(input_shape)
        super().build(input_shape)

    def _dihedral(self, images):
        batch = ops.shape(images)[0]
        bits = keras.random.uniform((3, batch, 1, 1, 1), seed=self._generator) < 0.5
        # Transpose, then flip rows and/or columns: together all 8 symmetries of a square.
        images = ops.where(bits[0], ops.transpose(images, (0, 2, 1, 3)), images)
        images = ops.where(bits[1], ops.flip(images, axis=1), images)
        return ops.where(bits[2], ops.flip(images, axis=2), images)

    def call(self, images, training=None):
        """Transform ``images`` when ``training``; return them unchanged otherwise."""
        if not training:
            return images
        images = self._dihedral(images)
        if self._rotate is not None:
            images = self._rotate(images, training=True)
        if self._translate is not None:
            images = self._translate(images, training=True)
        if self._zoom is not None:
            images = self._zoom(images, training=True)
        if self.colour_jitter:
            batch = ops.shape(images)[0]
            gain = 1.0 + keras.random.uniform((batch, 1, 1, 3), -self.colour_jitter,
                                              self.colour_jitter, seed=self._generator)
            images = ops.clip(images * gain, 0.0, 1.0)
        return images

    def compute_output_shape(self, input_shape):
        """The output has the input's shape."""
        return input_shape

    def get_config(self):
        """Serialisable configuration (for .keras files)."""
        return {**super().get_config(), "shift": self.shift, "zoom": self.zoom,
                "colour_jitter": self.colour_jitter, "seed": self.seed, "rotation": self.rotation}
