"""A rank of a catalogue run whose chunk 3 fails on its rank (started by
tests/distributed/test_distributed.py).

Usage: ``python -m astro_morph.distributed.launch -np 2 python runner_worker.py WORK OUT``;
each rank writes what it raised to ``OUT/rank<r>.txt``.
"""

import os
import sys

import numpy as np

from astro_morph.classification.runner import CatalogRunner


def compute(rows):
    if rows.start == 3:
        raise ValueError("chunk 3 cannot be computed")
    return {"value": np.arange(6)[rows]}


def main(work, out):
    runner = CatalogRunner(6, chunk_size=1, distributed=True)
    try:
        runner.run(compute, work=work, key="k")
        outcome = "finished"
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    with open(os.path.join(out, f"rank{runner.rank}.txt"), "w") as handle:
        handle.write(outcome)
    return 1 if outcome != "finished" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
