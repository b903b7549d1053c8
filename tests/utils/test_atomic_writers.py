"""Every file the package writes appears whole or not at all.

A child process rewrites one file again and again, alternating two different
contents, through one of the package's writers (tables, figures, cutouts, JSON
records); it is killed (SIGKILL) at a moment it does not choose. The
file left behind must then be one of the two complete versions: a writer that wrote
in place would, most of the time, leave a truncated file.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

#: The child: set up ``write(version)`` for one writer, then loop forever.
CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from astropy.table import Table
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "table":
        from astro_morph import write_table
        def write(version):
            write_table(Table({"x": np.full(300_000, version, float)}), path, overwrite=True)
    elif kind == "figure":
        from astro_morph.utils.plotting import figure, save_figure
        def write(version):
            fig = figure((12, 12))
            fig.add_subplot().imshow(np.random.default_rng(version).random((800, 800)))
            save_figure(fig, path, dpi=100)
    elif kind == "cutouts":
        from astropy.coordinates import SkyCoord
        from astro_morph import FITSImageSource, make_cutouts
        from astro_morph.utils.wcs import tan_wcs
        centre = SkyCoord(150.0, 2.0, unit="deg")
        image = (np.ones((1200, 1200)), tan_wcs(centre, 1200, 0.4))
        source = FITSImageSource({"g": image, "r": image, "i": image}, survey="sdss")
        offsets = np.linspace(-0.03, 0.03, 6)
        grid = SkyCoord(150.0 + np.repeat(offsets, 6), 2.0 + np.tile(offsets, 6), unit="deg")
        cutouts = make_cutouts(source, grid, size=64)
        def write(version):
            cutouts.data[...] = version
            cutouts.write(path, overwrite=True)
    elif kind == "json":
        from astro_morph.utils.files import write_json
        def write(version):
            write_json(path, {"version": version, "payload": [version] * 400_000})
    write(0)
    print("started", flush=True)
    version = 0
    while True:
        version = 1 - version
        write(version)
""")


def _read_version(kind, path):
    if kind == "table":
        values = np.unique(Table.read(path)["x"])
        assert len(Table.read(path)) == 300_000 and len(values) == 1
        return int(values[0])
    if kind == "figure":
        with open(path, "rb") as handle:
            png = handle.read()
        assert png.startswith(b"\x89PNG") and png.endswith(b"IEND\xaeB`\x82")
        return None
    if kind == "cutouts":
        with fits.open(path) as hdul:
            values = np.unique(hdul[0].data)
            assert hdul[0].data.shape == (36, 3, 64, 64) and len(hdul["POSITIONS"].data) == 36
        assert len(values) == 1
        return int(values[0])
    import json
    with open(path) as handle:
        record = json.load(handle)
    assert len(record["payload"]) == 400_000
    return record["version"]


@pytest.mark.parametrize("kind, name", [("table", "t.fits"), ("figure", "f.png"),
                                        ("cutouts", "c.fits"), ("json", "r.json")])
def test_a_killed_writer_leaves_the_old_file_or_the_new_one(kind, name, tmp_path):
    path = tmp_path / name
    child = subprocess.Popen([sys.executable, "-c", CHILD, kind, str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = child.stdout.readline().strip()
        if started == "started":
            time.sleep(0.4 + np.random.default_rng().random() * 0.6)  # mid-way, most likely
    finally:
        os.kill(child.pid, signal.SIGKILL)
        _, errors = child.communicate()
    assert started == "started", errors
    assert _read_version(kind, path) in (0, 1, None)
