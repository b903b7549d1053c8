"""The built-in schemas: the Galaxy Zoo 2 tree and the Galaxy Zoo 1 question.

`get_schema` is the one place a schema name (``"gz2"``, ``"gz1"``,
``"gz1+gz2"``) becomes a `~astro_morph.catalogs.Schema`.
"""

from astro_morph.catalogs.schema import Question, Schema
from astro_morph.exceptions import InputError

__all__ = ["GZ2", "GZ1", "SCHEMAS", "get_schema", "combine"]

#: Galaxy Zoo 2 (Willett et al. 2013; Hart et al. 2016), tasks t01-t11, with the
#: column names of the GZ2 catalogue (without ``_weighted_fraction``).
GZ2 = Schema(
    "gz2",
    [Question("t01_smooth_or_features", ("a01_smooth", "a02_features_or_disk",
                                         "a03_star_or_artifact"),
              text="Is the galaxy simply smooth and rounded, with no sign of a disk?"),
     Question("t02_edgeon", ("a04_yes", "a05_no"), text="Could this be a disk viewed edge-on?"),
     Question("t03_bar", ("a06_bar", "a07_no_bar"),
              text="Is there a sign of a bar feature through the centre of the galaxy?"),
     Question("t04_spiral", ("a08_spiral", "a09_no_spiral"),
              text="Is there any sign of a spiral arm pattern?"),
     Question("t05_bulge_prominence", ("a10_no_bulge", "a11_just_noticeable", "a12_obvious",
                                       "a13_dominant"),
              text="How prominent is the central bulge, compared with the rest of the galaxy?"),
     Question("t06_odd", ("a14_yes", "a15_no"), text="Is there anything odd?"),
     Question("t07_rounded", ("a16_completely_round", "a17_in_between", "a18_cigar_shaped"),
              text="How rounded is it?"),
     Question("t08_odd_feature", ("a19_ring", "a20_lens_or_arc", "a21_disturbed",
                                  "a22_irregular", "a23_other", "a24_merger", "a38_dust_lane"),
              text="Is the odd feature a ring, or is the galaxy disturbed or irregular?"),
     Question("t09_bulge_shape", ("a25_rounded", "a26_boxy", "a27_no_bulge"),
              text="Does the galaxy have a bulge at its centre? If so, what shape?"),
     Question("t10_arms_winding", ("a28_tight", "a29_medium", "a30_loose"),
              text="How tightly wound do the spiral arms appear?"),
     Question("t11_arms_number", ("a31_1", "a32_2", "a33_3", "a34_4", "a36_more_than_4",
                                  "a37_cant_tell"),
              text="How many spiral arms are there?")],
    leads_to={
        "t01_smooth_or_features_a01_smooth": "t07_rounded",
        "t01_smooth_or_features_a02_features_or_disk": "t02_edgeon",
        "t02_edgeon_a04_yes": "t09_bulge_shape",
        "t02_edgeon_a05_no": "t03_bar",
        "t03_bar_a06_bar": "t04_spiral",
        "t03_bar_a07_no_bar": "t04_spiral",
        "t04_spiral_a08_spiral": "t10_arms_winding",
        "t04_spiral_a09_no_spiral": "t05_bulge_prominence",
        "t10_arms_winding_a28_tight": "t11_arms_number",
        "t10_arms_winding_a29_medium": "t11_arms_number",
        "t10_arms_winding_a30_loose": "t11_arms_number",
        **{f"t11_arms_number_{a}": "t05_bulge_prominence"
           for a in ("a31_1", "a32_2", "a33_3", "a34_4", "a36_more_than_4", "a37_cant_tell")},
        **{f"t05_bulge_prominence_{a}": "t06_odd"
           for a in ("a10_no_bulge", "a11_just_noticeable", "a12_obvious", "a13_dominant")},
        **{f"t07_rounded_{a}": "t06_odd"
           for a in ("a16_completely_round", "a17_in_between", "a18_cigar_shaped")},
        **{f"t09_bulge_shape_{a}": "t06_odd" for a in ("a25_rounded", "a26_boxy",
                                                       "a27_no_bulge")},
        "t06_odd_a14_yes": "t08_odd_feature",
    },
    # GZ2's own answer to "spiral or elliptical": featured or disk against smooth.
    spiral_rule=("t01_smooth_or_features", ["a01_smooth"], ["a02_features_or_disk"]),
)

#: Galaxy Zoo 1 (Lintott et al. 2008, 2011): one question, six answers
#: (the catalogue's P_EL, P_CW, P_ACW, P_EDGE, P_DK, P_MG).
GZ1 = Schema(
    "gz1",
    [Question("gz1", ("elliptical", "clockwise_spiral", "anticlockwise_spiral", "edge_on",
                      "dont_know", "merger"), text="What type of galaxy is this?")],
    # The shared GZ1 set's rule: clockwise, anticlockwise and edge-on are spirals.
    spiral_rule=("gz1", ["elliptical"], ["clockwise_spiral", "anticlockwise_spiral", "edge_on"]),
)

#: The built-in schemas by name (``"a+b"`` combines them: `get_schema`).
SCHEMAS = {"gz2": GZ2, "gz1": GZ1}


def combine(*schemas, name=None):
    """One schema asking the questions of all ``schemas`` (distinct question names).

    The spiral rule (``p_spiral``) is the first schema's that has one.

    Examples
    --------
    >>> both = combine(GZ1, GZ2)
    >>> both.name, len(both.questions), both.spiral_rule[0]
    ('gz1+gz2', 12, 'gz1')
    """
    questions = [q for s in schemas for q in s.questions]
    leads = {a: q for s in schemas for a, q in s.leads_to.items()}
    rule = next((s.spiral_rule for s in schemas if s.spiral_rule is not None), None)
    return Schema(name or "+".join(s.name for s in schemas), questions, leads_to=leads,
                  spiral_rule=rule)


def get_schema(schema):
    """A `~astro_morph.catalogs.Schema` from itself, a built-in name or names joined by ``+``.

    Raises
    ------
    InputError
        An unknown name.

    See Also
    --------
    astro_morph.catalogs.Schema : a tree of one's own.

    Examples
    --------
    >>> get_schema("gz1+gz2").n_answers
    43
    """
    if isinstance(schema, Schema):
        return schema
    if not isinstance(schema, str):
        raise InputError(f"schema must be a Schema or one of {sorted(SCHEMAS)} (joined by "
                         f"'+' to combine), got {type(schema).__name__}.")
    parts = [part.strip().lower() for part in schema.split("+")]
    unknown = [part for part in parts if part not in SCHEMAS]
    if unknown:
        raise InputError(f"unknown schema {schema!r}: the built-in schemas are "
                         f"{sorted(SCHEMAS)} (joined by '+' to combine), or give a Schema.")
    return SCHEMAS[parts[0]] if len(parts) == 1 else combine(*(SCHEMAS[p] for p in parts))
