"""Every file the package writes appears whole or not at all.

A child process rewrites one file again and again, alternating two different
contents, through one of the package's writers (tables, figures, cutouts, JSON
records, model files); it is killed (SIGKILL) at a moment it does not choose. The
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
        from astro_morph import MockSurvey, make_cutouts
        mock = MockSurvey(n_galaxies=2, seed=1)
        cutouts = make_cutouts(mock.source("des"), mock.catalog("des"), size=400)
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
            assert hdul[0].data.shape == (2, 3, 400, 400) and len(hdul["POSITIONS"].data) == 2
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
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout.readline().strip() == "started"
        time.sleep(0.4 + np.random.default_rng().random() * 0.6)  # mid-way, most likely
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert _read_version(kind, path) in (0, 1, None)
