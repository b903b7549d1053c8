"""Make docs/_static/sn2006bh_des_ps1.png from the real DES and Pan-STARRS files.

Usage: python docs/scripts/make_sn2006bh_figure.py [../shared/data]
"""

import pathlib
import sys

import numpy as np
from astropy.coordinates import SkyCoord

import astro_morph as am
from astro_morph.evaluation import save_mosaic

data = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data") / "fits" / "SN2006bh"
position = SkyCoord(27.9520, 0.26352, unit="deg")
images = []
for survey in ("DES", "PS1"):
    source = am.FITSImageSource({b: data / f"{survey}_{b}.fits" for b in "gri"},
                                survey=survey.lower())
    images.append(am.bands_to_rgb(am.make_cutouts(source, position, size=96, recenter=True)))
out = pathlib.Path(__file__).parents[1] / "_static" / "sn2006bh_des_ps1.png"
# Side by side: one row, DES on the left, Pan-STARRS on the right, same 0.396"/pix grid.
save_mosaic([np.concatenate(images)], out, titles=["DES g, r, i", "Pan-STARRS g, r, i"],
            panel_size=3.0)
print(out)
