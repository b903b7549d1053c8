"""Sharded inference: each rank classifies its block of rows, every rank gets the whole."""

import numpy as np
from astropy.table import Table, vstack

from astro_morph.distributed.runtime import allgather_object, init

__all__ = ["sharded_classification_columns"]


def sharded_classification_columns(classifier, source, coords, fields, **kwargs):
    """`~astro_morph.models.classification_columns` split across Horovod ranks.

    Rank ``r`` makes the cutouts of and classifies the ``r``-th contiguous
    block of rows; the blocks are gathered in rank order, so the columns
    come back in the original row order, on every rank. Call it on every
    rank with the same inputs.

    Returns
    -------
    columns : dict of `~astropy.table.MaskedColumn`
    """
    hvd = init()
    rows = np.array_split(np.arange(len(coords)), hvd.size())[hvd.rank()]
    from astro_morph.models.classify import classification_columns
    mine = Table(classification_columns(classifier, source, coords[rows], fields[rows],
                                        **kwargs))
    blocks = allgather_object(mine, name="astro_morph.classify")
    whole = vstack(blocks, join_type="exact", metadata_conflicts="silent")
    return {name: whole[name] for name in whole.colnames}
