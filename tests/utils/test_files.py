"""Atomic writes and shared JSON records: concurrent processes never lose or corrupt."""

import json
import os
import pathlib
import subprocess
import sys

import pytest
from astropy.coordinates import SkyCoord

from astro_morph import InputError
from astro_morph.utils.files import atomic_path, read_json, write_json

_WRITER = """
import sys
from astro_morph.utils.files import update_json
path, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    update_json(path, {f"{worker}-{i}": [worker, i]})
"""


def test_processes_filling_one_record_keep_every_entry(tmp_path):
    path = tmp_path / "index.json"
    workers, entries = 4, 40
    processes = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(w),
                                   str(entries)]) for w in range(workers)]
    assert [p.wait(timeout=120) for p in processes] == [0] * workers
    record = json.loads(path.read_text())
    assert len(record) == workers * entries
    assert all(record[f"{w}-{i}"] == [w, i] for w in range(workers) for i in range(entries))
    leftovers = [name for name in os.listdir(tmp_path) if name.startswith(".")]
    assert leftovers == []  # no temporary file left behind


def test_sdss_position_index_is_merged_not_rewritten(tmp_path, monkeypatch):
    pytest.importorskip("astroquery")
    from astro_morph.surveys import SDSS
    from astro_morph.surveys import sdss as sdss_module
    from astro_morph.surveys.base import position_key

    index = tmp_path / "fields.json"
    monkeypatch.setattr(SDSS, "_index_path", str(index), raising=False)
    write_json(index, {"written-by-another-rank": [1, 301, 1, 11]})
    monkeypatch.setattr(SDSS, "_query_fields",
                        lambda self, coords: {position_key(c): [94, 301, 1, 12] for c in coords})
    monkeypatch.setattr(sdss_module.conf, "offline", False)
    SDSS().fields_for(SkyCoord(27.952, 0.2635, unit="deg"))
    record = read_json(index)
    assert "written-by-another-rank" in record and len(record) == 2


def test_atomic_path_leaves_nothing_on_failure_and_refuses_to_clobber(tmp_path):
    target = tmp_path / "table.fits.gz"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.endswith(".fits.gz") and os.path.dirname(tmp) == str(tmp_path)
            pathlib.Path(tmp).write_text("half")
            raise RuntimeError("killed mid-write")
    assert os.listdir(tmp_path) == []
    write_json(target, {"a": 1})
    with pytest.raises(InputError, match="exists"):
        with atomic_path(target):
            pass
    assert read_json(target) == {"a": 1}
    assert oct(os.stat(target).st_mode & 0o777) != oct(0o600)  # a normal file, not private
