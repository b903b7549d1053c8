"""Catalogs: sky positions, crossmatching, Galaxy Zoo labels and schemas, table files."""

from astro_morph.catalogs.crossmatch import crossmatch
from astro_morph.catalogs.galaxyzoo import (
    CLEAN_THRESHOLD,
    HP_THRESHOLDS,
    curate_galaxy_zoo,
    split_sets,
    summarize_sets,
)
from astro_morph.catalogs.labels import (
    CLASSES,
    NEITHER,
    POSITIVE_CLASS,
    THRESHOLD,
    classes_from_probability,
    positive_index,
)
from astro_morph.catalogs.positions import parse_positions
from astro_morph.catalogs.schema import Question, Schema
from astro_morph.catalogs.tableio import read_table, write_table
from astro_morph.catalogs.trees import GZ1, GZ2, SCHEMAS, combine, get_schema

__all__ = ["parse_positions", "crossmatch", "read_table", "write_table", "curate_galaxy_zoo",
           "split_sets", "summarize_sets", "HP_THRESHOLDS", "CLEAN_THRESHOLD", "CLASSES",
           "POSITIVE_CLASS", "NEITHER", "THRESHOLD", "positive_index", "classes_from_probability",
           "Schema", "Question", "GZ2", "GZ1", "SCHEMAS", "get_schema", "combine"]
