"""tf.data input pipelines: parallel decoding, caching, shuffling, prefetching.

Decoding, cropping and resizing go through `~astro_morph.models.Preprocessing`,
exactly as for prediction, so the network sees the same pixels in training
and in use. Augmentation runs inside the network (the
`~astro_morph.models.GalaxyAugmentation` layer), on the accelerator.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from astro_morph.exceptions import InputError
from astro_morph.imaging.batch import default_workers

__all__ = ["decode_images", "array_dataset", "file_dataset"]


def decode_images(paths, preprocessing, workers=None):
    """Read, crop and resize image files on all cores into one (N, S, S, 3) batch.

    The same pixels as ``preprocessing.load`` one file after the other (PIL
    releases the interpreter lock while it decodes and resizes).

    Parameters
    ----------
    paths : sequence of str
    preprocessing : `~astro_morph.models.Preprocessing`
    workers : int, optional
        Threads (default: all cores).
    """
    size = preprocessing.input_size
    out = np.empty((len(paths), size, size, 3), dtype=np.float32)

    def load(index):
        out[index] = preprocessing.load(paths[index])

    workers = workers or default_workers()
    if workers == 1 or len(paths) < 2:
        for index in range(len(paths)):
            load(index)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(load, range(len(paths))))  # list(): raise the first error
    return out


def _finish(dataset, n, batch_size, shuffle, seed):
    import tensorflow as tf
    if shuffle:
        dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def array_dataset(images, labels=None, *, batch_size=32, shuffle=True, seed=0):
    """A shuffled, batched, prefetched `tf.data.Dataset` over in-memory images.

    Examples
    --------
    >>> import numpy as np
    >>> ds = array_dataset(np.zeros((10, 8, 8, 3), "float32"), np.arange(10) % 2,
    ...                    batch_size=4)
    >>> [tuple(x.shape) for x, _ in ds]
    [(4, 8, 8, 3), (4, 8, 8, 3), (2, 8, 8, 3)]
    """
    import tensorflow as tf
    images = np.asarray(images, dtype=np.float32)
    tensors = images if labels is None else (images, np.asarray(labels))
    return _finish(tf.data.Dataset.from_tensor_slices(tensors), len(images), batch_size,
                   shuffle, seed)


def file_dataset(paths, labels, preprocessing, *, batch_size=32, shuffle=True, seed=0,
                 cache=True, parallel=None):
    """A `tf.data.Dataset` that decodes image files in parallel and caches the result.

    The first pass decodes, crops and resizes the files on ``parallel``
    threads (default: tf.data's autotuning); later epochs read the decoded
    images from the cache (memory, or a file when ``cache`` is a path: for
    sets larger than memory), shuffled and prefetched.

    Parameters
    ----------
    paths : sequence of str
    labels : sequence of int, optional
    preprocessing : `~astro_morph.models.Preprocessing`
    batch_size : int
    shuffle : bool
    seed : int
    cache : bool or str
        Keep decoded images in memory (True), in files with this prefix (str),
        or not at all (False).
    parallel : int, optional
        Decoding threads.
    """
    import tensorflow as tf
    paths = [os.fspath(p) for p in paths]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise InputError(f"{len(missing)} image file(s) do not exist, e.g. {missing[:3]}.")
    size = preprocessing.input_size

    def load(path):
        return preprocessing.load(path.decode() if isinstance(path, bytes) else str(path))

    def decode(path):
        image = tf.numpy_function(load, [path], tf.float32, stateful=False)
        return tf.ensure_shape(image, (size, size, 3))

    dataset = tf.data.Dataset.from_tensor_slices(paths)
    dataset = dataset.map(decode, num_parallel_calls=parallel or tf.data.AUTOTUNE,
                          deterministic=True)
    if labels is not None:
        dataset = tf.data.Dataset.zip((dataset, tf.data.Dataset.from_tensor_slices(
            np.asarray(labels))))
    if cache:
        dataset = dataset.cache("" if cache is True else os.fspath(cache))
    return _finish(dataset, len(paths), batch_size, shuffle, seed)
