"""Helpers shared by the tests: toy galaxies, and killing a command mid-run."""

import importlib.util
import os
import pathlib
import signal
import subprocess
import time

import numpy as np
from astropy import units as u

from astro_morph import Framing
from astro_morph.catalogs import GZ2

#: 32 pixels of 0.396 arcsec (SDSS's pixel): small cutouts for fast tests.
SMALL = Framing(field=32 * 0.396 * u.arcsec, size=32)


#: Small, fast classifier settings for tests.
TINY = {"input_size": 16, "crop_fraction": 1.0, "batch_size": 8, "verbose": 0}


def toy_images(n=48, seed=0, contrast=0.8, side=16, ring=4.0, ring_width=1.2, blob=3.0):
    """``n`` toy galaxies of ``side`` pixels and their labels, learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    images = rng.random((n, side, side, 3)).astype("float32") * 0.2
    labels = np.array(["spiral", "elliptical"] * (n // 2))
    yy, xx = np.mgrid[:side, :side]
    radius = np.hypot(xx - (side - 1) / 2, yy - (side - 1) / 2)
    images[labels == "spiral", :, :, 2] += (np.abs(radius - ring) < ring_width) * contrast
    images[labels == "elliptical", :, :, 0] += (radius < blob) * contrast
    return np.clip(images, 0, 1), labels


def large_toy_images(n=48, seed=0):
    """32-pixel toy galaxies."""
    return toy_images(n, seed, side=32, ring=7, ring_width=2, blob=5)


def kill_when(command, log_path, count, progress, timeout=240):
    """Start ``command``; SIGKILL it once ``progress()`` reaches ``count``. Returns the
    progress read last (the command must still be running then)."""
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    deadline, reached = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            reached = progress()
        except (OSError, ValueError, KeyError):
            reached = 0  # the progress file is not written yet
        if reached >= count:
            break
        time.sleep(0.01)
    assert process.poll() is None, log_path.read_text()[-2000:]
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return reached


def benchmark_sets():
    """The module of the benchmarks' real-data splits (benchmarks/realdata.py): the
    tests check the shipped model on the same held-out galaxies the benchmarks use."""
    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "realdata.py"
    spec = importlib.util.spec_from_file_location("realdata", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic_gz2_votes(labels, seed=0):
    """GZ2 vote counts for labelled galaxies: ellipticals mostly smooth, spirals mostly
    featured, and random answers to every later question as 40 volunteers would reach it."""
    rng = np.random.default_rng(seed)
    fractions = np.concatenate([rng.dirichlet(np.ones(b - a), len(labels))
                                for a, b in GZ2.bounds], axis=1)
    spiral = np.asarray(labels) == "spiral"
    fractions[:, :3] = np.where(spiral[:, None], [0.1, 0.85, 0.05], [0.85, 0.1, 0.05])
    return GZ2.counts_from_fractions(fractions, np.full(len(labels), 40.0))
