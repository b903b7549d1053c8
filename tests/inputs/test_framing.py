"""Framing: the cutout settings a model learned with, checked, stored and overridden."""

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from astro_morph import Framing, InputError, MorphologyClassifier
from astro_morph.inputs.framing import parse_framing


def test_defaults_units_and_round_trip():
    framing = Framing()
    assert (framing.field, framing.size, framing.resampling) == (100.0, 128, "fast")
    assert framing.pixel_scale.unit == u.arcsec / u.pixel
    assert framing.pixel_scale.value == pytest.approx(100 / 128)
    assert Framing(field=1 * u.arcmin, size=64 * u.pixel).field == 60.0
    custom = Framing(field=30, size=48, resampling="exact", background=None, bands="gri")
    assert custom.bands == ("g", "r", "i")
    assert Framing.from_dict(custom.to_dict()) == custom
    kwargs = custom.cutout_kwargs(30.0)
    assert kwargs["size"] == 48 and kwargs["pixel_scale"] == 30.0 / 48 * u.arcsec / u.pixel


@pytest.mark.parametrize("settings, message", [
    ({"field": -5}, "field must be a Quantity above 0 arcsec"),
    ({"field": 5 * u.kg}, "field must be a Quantity convertible to arcsec"),
    ({"size": 4}, "at least 8"),
    ({"size": 32.5}, "whole number"),
    ({"size": 32 * u.arcsec}, "number of pixels"),
    ({"resampling": "cubic"}, "resampling must be one of"),
    ({"background": "median"}, "background must be one of"),
    ({"radius_factor": 0}, "radius_factor"),
])
def test_bad_settings_name_the_argument(settings, message):
    with pytest.raises(InputError, match=message):
        Framing(**settings)


def test_fields_follow_the_radius_column():
    table = Table({"ra": [1.0, 2.0], "dec": [0.0, 0.0], "r90": [5.0, 8.0] * u.arcsec})
    np.testing.assert_allclose(Framing(radius_column="r90").fields(table, 2), [50.0, 80.0])
    np.testing.assert_allclose(Framing().fields(table, 2), [100.0, 100.0])
    with pytest.raises(InputError, match="not a column"):
        Framing(radius_column="petroR90").fields(table, 2)
    table["r90"][1] = -1.0
    with pytest.raises(InputError, match="positive"):
        Framing(radius_column="r90").fields(table, 2)


def test_overrides_change_only_what_is_given():
    model = Framing(field=25, size=64)
    assert parse_framing(None, model) is model
    assert parse_framing(80 * u.arcsec, model) == Framing(field=80, size=64)
    assert parse_framing({"resampling": "exact"}, model).field == 25.0
    with pytest.raises(InputError, match="framing must be"):
        parse_framing("100 arcsec", model)


def test_shipped_model_frames_as_documented():
    # Trained on Galaxy Zoo JPEGs (ten R90 across): survey images get the default framing.
    clf = MorphologyClassifier.pretrained()
    assert clf.framing_ == Framing()
    assert clf.training_info_.get("inputs", "image files") == "image files"
