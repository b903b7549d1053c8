"""Galaxy Zoo curation: HP and FO sets, their labels and splits."""


import numpy as np
import pytest
from astropy.table import Table

from astro_morph import (
    InputError,
    curate_galaxy_zoo,
    split_sets,
    summarize_sets,
)
from astro_morph.catalogs import HP_THRESHOLDS


# -- Galaxy Zoo curation -------------------------------------------------------------
def test_hp_and_fo_membership_at_the_thresholds():
    gz = Table({"p_cs_debiased": [0.985, 0.9849, 0.80, 0.79, 0.0, 0.0, 0.0],
                "p_el_debiased": [0.0, 0.0, 0.0, 0.0, 0.926, 0.9259, 0.5]})
    curated = curate_galaxy_zoo(gz)
    assert curated["label"].tolist() == ["spiral", "spiral", "spiral", "uncertain",
                                         "elliptical", "elliptical", "uncertain"]
    assert curated["hp"].tolist() == [True, False, False, False, True, False, False]
    assert curated["fo"].tolist() == [True, True, True, False, True, True, False]
    assert curated.meta["galaxy_zoo"]["spiral_threshold"] == HP_THRESHOLDS["spiral"] == 0.985
    assert "label" not in gz.colnames  # the input is not modified
    stricter = curate_galaxy_zoo(gz, spiral_threshold=0.99, elliptical_threshold=0.95)
    assert not stricter["hp"].any()


def test_curation_reads_raw_fractions_and_names_missing_columns():
    curated = curate_galaxy_zoo(Table({"P_CS": [0.9], "P_EL": [0.05]}))
    assert curated["label"][0] == "spiral" and curated.meta["galaxy_zoo"]["spiral_column"] == "P_CS"
    with pytest.raises(InputError, match="p_cs_debiased"):
        curate_galaxy_zoo(Table({"ra": [1.0]}))
    with pytest.raises(InputError, match="vote fraction"):
        curate_galaxy_zoo(Table({"P_CS": [0.9], "P_EL": [0.05]}), clean_threshold=1.5)


def test_split_sets_is_stratified_and_summarised():
    labels = np.array(["spiral"] * 30 + ["elliptical"] * 70)
    split = split_sets(labels, fractions=(0.6, 0.2, 0.2), seed=3)
    assert (split == "train").sum() == 60 and (split == "test").sum() == 20
    assert ((split == "test") & (labels == "spiral")).sum() == 6
    summary = summarize_sets({name: labels[split == name] for name in ("train", "test")})
    assert summary["spirals"].tolist() == [18, 6] and summary["total"].tolist() == [60, 20]
    with pytest.raises(InputError, match="summing to 1"):
        split_sets(labels, fractions=(0.5, 0.2, 0.2))
