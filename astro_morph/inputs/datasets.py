"""tf.data input pipelines: the one image-file decoder, caching, shuffling, prefetching.

Every image file astro_morph reads (training, prediction, evaluation) is
decoded here: JPEGs by TensorFlow inside their crop window, other files
by `~astro_morph.inputs.Preprocessing.read_crop`, then resized by the same
`~astro_morph.inputs.Preprocessing`, so the network sees the same pixels in
training and in use. Augmentation runs inside the network (the
`~astro_morph.models.GalaxyAugmentation` layer). With the distributed runtime,
the only TensorFlow-specific module of astro_morph.
"""

import os
import re

import numpy as np
import tensorflow as tf

from astro_morph.exceptions import InputError

__all__ = ["decode_images", "array_dataset", "file_dataset"]


def decode_images(paths, preprocessing, *, batch_size=256):
    """Read, crop and resize image files into one (N, S, S, 3) float32 batch.

    The pixels of ``preprocessing.load`` file by file, decoded in parallel
    by `file_dataset` (no shuffling, no cache).

    Parameters
    ----------
    paths : sequence of str
    preprocessing : `~astro_morph.inputs.Preprocessing`
    batch_size : int
        Images decoded per step.
    """
    size = preprocessing.input_size
    if not len(paths):
        return np.zeros((0, size, size, 3), dtype=np.float32)
    dataset = file_dataset(paths, None, preprocessing, batch_size=batch_size, shuffle=False,
                           cache=False)
    try:
        return np.concatenate([batch.numpy() for batch in dataset])
    except tf.errors.OpError as exc:
        # A file only PIL could try (not a complete JPEG) failed inside the pipeline:
        # give the user our message naming it, not TensorFlow's traceback.
        found = re.search(r"InputError: (.*)", exc.message)
        raise InputError(found.group(1) if found else
                         f"could not decode the image files ({exc.message.splitlines()[0]}); "
                         "check that they are JPEG or PNG images.") from None


def _finish(dataset, n, batch_size, shuffle, seed):
    if shuffle:
        dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def array_dataset(images, y=None, *, batch_size=32, shuffle=True, seed=0):
    """A shuffled, batched, prefetched `tf.data.Dataset` over in-memory images.

    Examples
    --------
    >>> import numpy as np
    >>> ds = array_dataset(np.zeros((10, 8, 8, 3), "float32"), np.arange(10) % 2,
    ...                    batch_size=4)
    >>> [tuple(x.shape) for x, _ in ds]
    [(4, 8, 8, 3), (4, 8, 8, 3), (2, 8, 8, 3)]
    """
    images = np.asarray(images, dtype=np.float32)
    tensors = images if y is None else (images, np.asarray(y))
    return _finish(tf.data.Dataset.from_tensor_slices(tensors), len(images), batch_size,
                   shuffle, seed)


_MARGIN = 16  # pixels: the largest JPEG block (MCU) side
_GROUP = 32  # crops resized per call into Python


def _sniff_files(paths):
    """Check every file before any work starts; True where it is a complete JPEG.

    Complete JPEGs (start and end markers) are decoded and cropped by
    TensorFlow; anything else goes through PIL, which names the file if it
    cannot read it.
    """
    missing, unreadable, jpeg = [], [], np.zeros(len(paths), dtype=bool)
    for index, path in enumerate(paths):
        try:
            with open(path, "rb") as handle:
                head = handle.read(2)
                if not head:
                    unreadable.append(path)
                    continue
                handle.seek(-2, os.SEEK_END)
                jpeg[index] = head == b"\xff\xd8" and handle.read(2) == b"\xff\xd9"
        except (FileNotFoundError, NotADirectoryError):
            missing.append(path)
        except OSError:  # a folder, no permission...
            unreadable.append(path)
    if missing:
        raise InputError(f"{len(missing)} image file(s) do not exist, e.g. {missing[:3]}.")
    if unreadable:
        raise InputError(f"image file(s) {unreadable[:3]} are empty or not a readable JPEG/PNG, "
                         f"or cannot be read ({len(unreadable)} in all); replace or remove "
                         "them.")
    return jpeg


def _crop_decoder(preprocessing):
    """Graph function: (path, is_jpeg) -> the (side, side, 3) uint8 central crop.

    JPEGs are decoded by TensorFlow only inside the crop window, with the
    accurate integer DCT: the same pixels as PIL's full decode (libjpeg-turbo's
    ``JDCT_ISLOW`` in both) at a fraction of the cost, without the interpreter
    lock. PNGs, CMYK JPEGs and damaged files take `Preprocessing.read_crop`.
    """

    def read_crop(path):
        return preprocessing.read_crop(path.decode() if isinstance(path, bytes) else str(path))

    def with_pil(path):
        return tf.numpy_function(read_crop, [path], tf.uint8, stateful=False)

    def with_tf(path):
        contents = tf.io.read_file(path)
        shape = tf.io.extract_jpeg_shape(contents)

        def decode():
            height, width = shape[0], shape[1]
            # As Preprocessing._box: Python's round() and tf.round both round half to even.
            side = tf.cast(tf.round(tf.cast(tf.minimum(height, width), tf.float64)
                                    * preprocessing.crop_fraction), tf.int32)
            side = tf.maximum(side, 1)
            top, left = (height - side) // 2, (width - side) // 2
            # Decode a margin of one 16-pixel block around the window: chroma
            # upsampling at a window's edge reads its neighbours, as in the full image.
            top0, left0 = tf.maximum(top - _MARGIN, 0), tf.maximum(left - _MARGIN, 0)
            bottom, right = (tf.minimum(top + side + _MARGIN, height),
                             tf.minimum(left + side + _MARGIN, width))
            window = tf.stack([top0, left0, bottom - top0, right - left0])
            padded = tf.io.decode_and_crop_jpeg(contents, window, channels=3,
                                                dct_method="INTEGER_ACCURATE")
            return padded[top - top0:top - top0 + side, left - left0:left - left0 + side]

        return tf.cond(shape[2] == 4, lambda: with_pil(path), decode)  # CMYK: PIL's colours

    def crop(path, is_jpeg):
        return tf.cond(is_jpeg, lambda: with_tf(path), lambda: with_pil(path))

    return crop


def file_dataset(paths, y, preprocessing, *, batch_size=32, shuffle=True, seed=0,
                 cache=True, parallel=None):
    """A `tf.data.Dataset` that decodes image files in parallel and caches the result.

    The first pass decodes, crops and resizes the files on ``parallel``
    threads (default: tf.data's autotuning), JPEGs only inside their crop
    window; the pixels are exactly those of `decode_images` and
    `~astro_morph.inputs.Preprocessing.read_crop`. Later epochs read the decoded
    images from the cache (memory, or a file when ``cache`` is a path: for
    sets larger than memory), shuffled and prefetched.

    Parameters
    ----------
    paths : sequence of str
    y : sequence of int, optional
    preprocessing : `~astro_morph.inputs.Preprocessing`
    batch_size : int
    shuffle : bool
    seed : int
    cache : bool or str
        Keep decoded images in memory (True), in files with this prefix (str),
        or not at all (False).
    parallel : int, optional
        Decoding threads.

    Raises
    ------
    InputError
        Before any decoding, when files are missing or empty.
    """
    paths = [os.fspath(p) for p in paths]
    is_jpeg = _sniff_files(paths)
    size = preprocessing.input_size
    crop = _crop_decoder(preprocessing)

    def resize(crops, sides):
        # One call per group of crops (padded to the largest): the interpreter is
        # entered once per group, not once per image.
        out = np.empty((len(crops), size, size, 3), dtype=np.float32)
        for index, side in enumerate(sides):
            out[index] = preprocessing.resize_crop(crops[index, :side, :side])
        return out

    def crop_with_side(path, jpeg):
        image = crop(path, jpeg)
        return image, tf.shape(image)[0]

    def resize_group(crops, sides):
        images = tf.numpy_function(resize, [crops, sides], tf.float32, stateful=False)
        return tf.ensure_shape(images, (None, size, size, 3))

    parallel = parallel or tf.data.AUTOTUNE
    dataset = tf.data.Dataset.from_tensor_slices((paths, is_jpeg))
    dataset = dataset.map(crop_with_side, num_parallel_calls=parallel, deterministic=True)
    dataset = dataset.padded_batch(_GROUP, padded_shapes=([None, None, 3], []))
    dataset = dataset.map(resize_group, num_parallel_calls=parallel, deterministic=True)
    dataset = dataset.unbatch()
    if y is not None:
        dataset = tf.data.Dataset.zip((dataset, tf.data.Dataset.from_tensor_slices(
            np.asarray(y))))
    if cache:
        dataset = dataset.cache("" if cache is True else os.fspath(cache))
    return _finish(dataset, len(paths), batch_size, shuffle, seed)
