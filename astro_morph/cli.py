"""The ``astro-morph`` command: a thin layer over the public API."""

import argparse
import logging
import sys

from astro_morph.exceptions import AstroMorphError


def _demo(args):
    from astro_morph.workflows import run_demo

    summary = run_demo(args.out, n_galaxies=args.n_galaxies, seed=args.seed,
                       progress=not args.quiet)
    print(f"astro-morph demo: {summary['n_matched']} of {summary['n_galaxies']} mock galaxies "
          f"matched between the SDSS-like and DES-like catalogs; median r-band correlation "
          f"of their cutouts {summary['median_r_correlation']:.3f}; "
          f"{summary['seconds']:.1f} s.")
    for name, path in summary["written"].items():
        if isinstance(path, str):
            print(f"  {name}: {path}")
    return 0


def build_parser():
    """The argument parser of the ``astro-morph`` command."""
    parser = argparse.ArgumentParser(
        prog="astro-morph",
        description="Galaxy morphology with deep transfer learning, at survey scale.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run the pipeline offline on the embedded GalSim mock survey")
    demo.add_argument("--out", default="astro_morph_demo", help="output folder")
    demo.add_argument("--n-galaxies", type=int, default=60, help="mock galaxies to render")
    demo.add_argument("--seed", type=int, default=0, help="random seed of the mock survey")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(run=_demo)
    return parser


def main(argv=None):
    """Entry point of ``astro-morph``; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except AstroMorphError as exc:
        print(f"astro-morph: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
