"""prepare_images and labels CSVs: image files and folders in, network inputs out."""

import os

import numpy as np
import pytest
from PIL import Image

from astro_morph import InputError
from astro_morph.inputs import Preprocessing, prepare_images, read_labels_csv

HALF = Preprocessing(input_size=16, crop_fraction=0.5)
WHOLE = Preprocessing(input_size=16, crop_fraction=1.0)
DEFAULT = Preprocessing(input_size=16)


def _write_images(folder, n=6):
    rng = np.random.default_rng(0)
    rows = ["filename,label"]
    for i in range(n):
        label = ("spiral", "elliptical", "other")[i % 3]
        Image.fromarray((rng.random((40, 40, 3)) * 255).astype(np.uint8)).save(
            folder / f"g{i}.jpeg")
        rows.append(f"g{i}.jpeg,{label}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")


def test_csv_and_folder_inputs(tmp_path):
    _write_images(tmp_path)
    paths, labels = read_labels_csv(tmp_path / "labels.csv", classes=("elliptical", "spiral"))
    assert len(paths) == 4 and "other" not in labels
    images, found, _ = prepare_images(str(tmp_path / "labels.csv"), HALF,
                                      classes=("elliptical", "spiral"))
    assert images.shape == (4, 16, 16, 3) and found == labels
    for label in ("spiral", "elliptical"):
        (tmp_path / "classes" / label).mkdir(parents=True)
        for i in range(2):
            (tmp_path / "classes" / label / f"{i}.png").write_bytes(
                (tmp_path / f"g{i}.jpeg").read_bytes())
    images, found, _ = prepare_images(str(tmp_path / "classes"), WHOLE)
    assert images.shape == (4, 16, 16, 3) and sorted(found) == ["elliptical"] * 2 + ["spiral"] * 2


def test_bad_image_files(tmp_path):
    _write_images(tmp_path)
    (tmp_path / "g0.jpeg").write_bytes(b"")
    with pytest.raises(InputError, match="g0.jpeg.*empty or not a readable"):
        prepare_images(str(tmp_path / "labels.csv"), DEFAULT, classes=("spiral",))
    (tmp_path / "g1.jpeg").unlink()
    with pytest.raises(InputError, match="missing"):
        read_labels_csv(tmp_path / "labels.csv", classes=("elliptical",))
    (tmp_path / "bad.csv").write_text("name,class\nx,y\n")
    with pytest.raises(InputError, match="'filename' and 'label'"):
        read_labels_csv(tmp_path / "bad.csv")
    with pytest.raises(InputError, match="cannot read a dict"):
        prepare_images({"a": 1}, DEFAULT)


def test_a_list_of_image_files_is_read_like_a_folder(tmp_path):
    _write_images(tmp_path)
    paths = sorted(str(p) for p in tmp_path.glob("g*.jpeg"))
    from_list, labels, flags = prepare_images(paths, HALF)
    assert labels is None and flags is None and from_list.shape == (6, 16, 16, 3)
    (tmp_path / "folder").mkdir()
    for path in paths:
        (tmp_path / "folder" / os.path.basename(path)).symlink_to(path)
    from_folder, _, _ = prepare_images(str(tmp_path / "folder"), HALF)
    np.testing.assert_array_equal(from_list, from_folder)
    with pytest.raises(InputError, match="JPEG/PNG file paths"):
        prepare_images(paths + ["notes.txt"], DEFAULT)
