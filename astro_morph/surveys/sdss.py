"""SDSS frames and Galaxy Zoo 1 labels through astroquery.sdss."""

import os

import numpy as np
from astropy import units as u
from astropy.config import paths
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astro_morph.catalogs.labels import labels_from_votes
from astro_morph.catalogs.positions import parse_positions
from astro_morph.exceptions import InputError
from astro_morph.logger import log
from astro_morph.surveys.archive import (
    ArchiveSource,
    EmptyResultError,
    NetworkError,
    cached_download,
    conf,
    require,
    with_retries,
)
from astro_morph.surveys.base import BandImage, each_position, position_key
from astro_morph.surveys.fits import parse_image_input
from astro_morph.surveys.info import NANOMAGGY_ZERO_POINT
from astro_morph.utils.files import read_json, update_json

__all__ = ["SDSS", "galaxy_zoo_labels"]

_SERVICE = "SDSS SkyServer"
_FIELD_KEYS = ("run", "rerun", "camcol", "field")
_ZOO_COLUMNS = ("objid", "dr7objid", "ra", "dec", "nvote", "p_el", "p_cw", "p_acw", "p_edge",
                "p_dk", "p_mg", "p_cs", "p_el_debiased", "p_cs_debiased", "spiral",
                "elliptical", "uncertain")


def _astroquery_sdss():
    return require("astroquery.sdss", "SDSS access").SDSS


def _describe(coords):
    shown = ", ".join(f"({c.ra.deg:.5f}, {c.dec.deg:+.5f})" for c in coords[:5])
    return shown + (f" and {len(coords) - 5} more" if len(coords) > 5 else "")


class SDSS(ArchiveSource):
    """SDSS corrected frames (nanomaggies) around positions, from the SDSS archive.

    For each position the frame holding its nearest primary object is found
    with ``astroquery.sdss.SDSS.query_crossid``; that frame is downloaded in
    each band from the SDSS Science Archive Server (the files
    ``SDSS.get_images`` reads) into astropy's download cache, so later runs
    reuse it. The position-to-frame index is kept too, so that with
    ``astro_morph.surveys.conf.offline = True`` everything comes from the cache.

    Parameters
    ----------
    bands : str or sequence of str
        SDSS bands to provide (default g, r, i).
    radius : `~astropy.units.Quantity`
        Largest distance of the object that identifies the frame (SkyServer
        allows at most 3 arcmin).
    data_release : int, optional
        Default ``astro_morph.surveys.conf.sdss_release``.
    progress : bool
        Progress bars for frame downloads.

    Examples
    --------
    An SDSS source is used wherever a `~astro_morph.FITSImageSource` is
    (this needs the network)::

        from astro_morph import make_cutouts
        from astro_morph.surveys import SDSS
        cutouts = make_cutouts(SDSS(), my_table, size=64)
    """

    def __init__(self, *, bands="gri", radius=10 * u.arcsec, data_release=None,
                 progress=False):
        super().__init__("sdss", bands=bands, progress=progress)
        self.radius = u.Quantity(radius, u.arcsec)
        if not 0 < self.radius.value <= 180:
            raise InputError("radius must be between 0 and 3 arcmin (the SkyServer limit).")
        self.data_release = int(data_release or conf.sdss_release)
        self._frames = {}

    # -- which frames ----------------------------------------------------------------
    @property
    def _index_path(self):
        folder = os.path.join(paths.get_cache_dir(), "astro_morph")
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, f"sdss_dr{self.data_release}_fields.json")

    def _load_index(self):
        return read_json(self._index_path, {})

    def fields_for(self, positions):
        """The frames (run, rerun, camcol, field) holding each position.

        Returns
        -------
        fields : `~astropy.table.Table`
            One row per distinct frame.
        """
        return self._fields(parse_positions(positions))

    def _fields(self, coords):
        """`fields_for` of a parsed SkyCoord."""
        coords = each_position(coords)
        index = self._load_index()
        missing = [c for c in coords if position_key(c) not in index]
        if missing:
            if conf.offline:
                raise NetworkError(
                    f"{_SERVICE}: offline mode, and the frames of {_describe(missing)} were "
                    "never looked up; set astro_morph.surveys.conf.offline = False once.")
            found = self._query_fields(_stack(missing))
            # Merged under a lock: ranks filling one cache keep each other's entries.
            index = update_json(self._index_path, found)
        rows = {tuple(index[position_key(c)]) for c in coords if index.get(position_key(c))}
        if not rows:
            raise EmptyResultError(f"{_SERVICE} has no imaging of {_describe(coords)} (no "
                                   f"primary object within {self.radius}); the positions may "
                                   "lie outside the SDSS footprint.")
        return Table(rows=sorted(rows), names=_FIELD_KEYS)

    def _query_fields(self, coords):
        sdss = _astroquery_sdss()
        table = with_retries(lambda: sdss.query_crossid(
            coords, radius=self.radius, photoobj_fields=["ra", "dec", *_FIELD_KEYS],
            data_release=self.data_release, timeout=float(conf.timeout),
            cache=bool(conf.cache)), _SERVICE, what="frame look-up (query_crossid)")
        found = {position_key(c): None for c in coords}
        if table is None:
            return found
        # query_crossid names each input row 'obj_<index>' in its 'name' column.
        for row in table:
            index = int(str(row["name"]).split("_")[-1])
            if 0 <= index < len(coords):
                found[position_key(coords[index])] = [int(row[k]) for k in _FIELD_KEYS]
        return found

    # -- frames ----------------------------------------------------------------------
    def frame_url(self, field, band):
        """URL of one corrected frame on the SDSS Science Archive Server."""
        sdss = _astroquery_sdss()
        from astroquery.sdss import conf as sdss_conf
        release = self.data_release
        instrument = ("boss" if release <= 12 else "eboss" if release <= 17
                      else "prior-surveys/sdss4-dr17-eboss")
        run, rerun, camcol, number = (int(field[k]) for k in _FIELD_KEYS)
        return sdss.IMAGING_URL_SUFFIX.format(base=sdss_conf.sas_baseurl, dr=release,
                                              instrument=instrument, run=run, rerun=rerun,
                                              camcol=camcol, field=number, band=band)

    def _frame(self, field, band):
        key = (*(int(field[k]) for k in _FIELD_KEYS), band)
        if key not in self._frames:
            url = self.frame_url(field, band)
            path = cached_download(url, "SDSS Science Archive Server",
                                   progress=self.progress)
            data, wcs, header, _ = parse_image_input(path, hdu=0)
            unit = str(header.get("BUNIT", "nanomaggy")).lower()
            if "nanomagg" not in unit:
                log.warning("%s: unexpected BUNIT %r; assuming nanomaggies", url, unit)
            label = "SDSS frame run {} rerun {} camcol {} field {} ({})".format(*key)
            self._frames[key] = BandImage(data, wcs, band, NANOMAGGY_ZERO_POINT, label)
        return self._frames[key]

    def prefetch(self, coords, bands):
        """Look up the frames of all positions in one query (misses are left to
        ``images_for``, which raises `~astro_morph.surveys.EmptyResultError`)."""
        try:
            self._fields(coords)
        except EmptyResultError:
            pass

    def images_for(self, band, coords):
        """The frames in ``band`` that hold ``coords`` (downloaded once, then cached)."""
        self.check_bands((band,))
        return [self._frame(row, band) for row in self._fields(coords)]

    def identity(self):
        """The release and bands (frames are immutable archive files)."""
        return f"SDSS DR{self.data_release} frames {''.join(self.bands)}"


def _stack(coords):
    return SkyCoord([c.ra for c in coords], [c.dec for c in coords], frame="icrs")


def galaxy_zoo_labels(positions=None, *, objids=None, radius=3 * u.arcsec, data_release=None):
    """Galaxy Zoo 1 classifications (Lintott et al. 2011) for positions or SDSS objids.

    Reads the SDSS ``zooSpec`` table (the GZ1 spectroscopic sample): raw and
    debiased vote fractions and the clean ``spiral`` / ``elliptical`` /
    ``uncertain`` flags (debiased fraction above 0.8).

    Parameters
    ----------
    positions : Table or SkyCoord, optional
        Galaxies to look up (matched to SDSS objects within ``radius``).
    objids : sequence of int, optional
        SDSS object IDs (DR8+ ``objid`` or DR7 ``dr7objid``, as in the Galaxy Zoo
        image sets) instead of positions.
    radius : `~astropy.units.Quantity`
        Matching radius for positions.
    data_release : int, optional
        Default ``astro_morph.surveys.conf.sdss_release``.

    Returns
    -------
    labels : `~astropy.table.Table`
        Columns of ``zooSpec`` plus ``label`` (``"spiral"``, ``"elliptical"`` or
        ``"uncertain"``); for positions also ``input_row``, the row of
        ``positions`` each line belongs to.
    """
    if (positions is None) == (objids is None):
        raise InputError("give either positions or objids to galaxy_zoo_labels.")
    sdss = _astroquery_sdss()
    release = int(data_release or conf.sdss_release)
    rows_of = None
    if positions is not None:
        coords = parse_positions(positions)
        found = with_retries(lambda: sdss.query_crossid(
            coords, radius=radius, photoobj_fields=["objid"], data_release=release,
            timeout=float(conf.timeout), cache=bool(conf.cache)), _SERVICE,
            what="object look-up (query_crossid)")
        if found is None:
            raise EmptyResultError(f"{_SERVICE}: no SDSS object within {radius} of "
                                   f"{_describe(coords)}.")
        rows_of = {int(o): int(str(n).split("_")[-1]) for o, n in zip(found["objid"],
                                                                      found["name"])}
        objids = list(rows_of)
    objids = [int(o) for o in np.atleast_1d(objids)]
    if not objids:
        raise InputError("objids is empty; give at least one SDSS object ID.")
    listed = ", ".join(str(o) for o in objids)
    sql = (f"SELECT {', '.join('zoo.' + c for c in _ZOO_COLUMNS)} FROM zooSpec AS zoo "
           f"WHERE zoo.objid IN ({listed}) OR zoo.dr7objid IN ({listed})")
    table = with_retries(lambda: sdss.query_sql(sql, data_release=release,
                                                timeout=float(conf.timeout),
                                                cache=bool(conf.cache)),
                         _SERVICE, what="Galaxy Zoo query (zooSpec)")
    if table is None or len(table) == 0:
        raise EmptyResultError(f"{_SERVICE}: none of the {len(objids)} object(s) is in the "
                               "Galaxy Zoo 1 spectroscopic sample (zooSpec).")
    table["label"] = labels_from_votes(table["spiral"], table["elliptical"], 1, 1)
    if rows_of is not None:
        table["input_row"] = [rows_of[int(o)] for o in table["objid"]]
        table.sort("input_row")
    table.meta["source"] = "Galaxy Zoo 1 (Lintott et al. 2011), SDSS zooSpec"
    return table
