"""The ``astro-morph`` command: a thin layer over the public API."""

import argparse
import functools
import logging
import os
import sys

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

import astro_morph as am
from astro_morph.exceptions import AstroMorphError
from astro_morph.utils.files import atomic_path, check_output_path, write_json


def _demo(args):
    if not args.quiet:
        logging.getLogger("astro_morph").setLevel(logging.INFO)  # the demo's step lines
    summary = am.run_demo(output_dir=args.out, n_galaxies=args.n_galaxies, seed=args.seed,
                       progress=not args.quiet)
    print(f"astro-morph demo: {summary['n_matched']} of {summary['n_galaxies']} mock galaxies "
          f"matched between the SDSS-like and DES-like catalogs; median r-band correlation "
          f"of their cutouts {summary['median_r_correlation']:.3f}; "
          f"{summary['seconds']:.1f} s.")
    summary["results"]["test_set", "n", "precision", "recall", "fpr", "accuracy", "f1",
                       "roc_auc"].pprint(max_width=-1)
    for name, path in summary["written"].items():
        if isinstance(path, str):
            print(f"  {name}: {path}")
    return 0


def _classifier(path):
    """The model file named, else the pretrained model."""
    return am.MorphologyClassifier.load(path) if path else am.MorphologyClassifier.pretrained()


def _report(args):
    classifier = _classifier(args.model)
    path = am.write_report(classifier, args.labels, output_dir=args.out,
                        name=os.path.basename(args.labels), max_embedded=args.max_embedded)
    print(f"astro-morph report: written to {path}")
    return 0


def _train(args):
    # A bad output path fails now, not after training.
    check_output_path(args.out, ".keras", am.ModelFileError)
    root = True
    if args.engine != "auto" and not args.distributed:
        raise am.InputError(f"--engine {args.engine} chooses how --distributed training "
                            "shares gradients: add --distributed (under a launcher).")
    if args.distributed:
        # Checks the engine and the launcher first, before any model is built.
        root = am.distributed.init(engine=args.engine).rank() == 0
    budget = None if args.time_budget is None else args.time_budget * u.min
    epochs = {} if args.epochs is None else {"epochs": args.epochs}  # else the default's
    options = {"input_size": args.input_size, "crop_fraction": args.crop_fraction}
    classifier = am.MorphologyClassifier(
        backbone=args.backbone, weights=args.weights, time_budget=budget, seed=args.seed,
        schema=args.schema,
        verbose=0 if args.quiet else 2, **epochs,
        **{key: value for key, value in options.items() if value is not None})
    history_png = args.out[:-len(".keras")] + "_history.png" if args.out.endswith(".keras") \
        else None
    checkpoint = args.checkpoint_dir or args.out + ".checkpoint"
    if os.path.isdir(checkpoint) and root:
        print(f"astro-morph train: resuming from {checkpoint}", file=sys.stderr)
    fit = functools.partial(classifier.fit_distributed, engine=args.engine) \
        if args.distributed else classifier.fit
    X, y, images_dir = args.labels, None, args.images
    if args.schema:  # a CSV of files and vote columns; its paths are whole already
        paths, y = am.inputs.read_votes_csv(args.labels, images_dir=args.images)
        X, images_dir = Table({"filename": paths}), None
    fit(X, y, images_dir=images_dir, history_path=history_png, checkpoint_dir=checkpoint)
    if not root:
        return 0  # rank 0 writes the model (identical on every rank)
    classifier.save(args.out, training_data=args.description or args.labels)
    info = classifier.training_info_
    print(f"astro-morph train: {info['n_train']} training / {info['n_validation']} validation "
          f"images, {info['epochs_run']} epochs in {info['seconds']:.0f} s; best validation "
          f"accuracy {max(classifier.history_.get('val_accuracy', [float('nan')])):.4f}; "
          f"model written to {args.out}")
    return 0


def _evaluate(args):
    classifier = am.MorphologyClassifier.load(args.model)
    classes = classifier.classes_
    paths, labels = am.inputs.read_labels_csv(args.labels, images_dir=args.images, classes=classes)
    positive = am.catalogs.positive_index(classes)
    proba = classifier.predict_proba(paths)
    truth = (am.inputs.encode_labels(labels, classes) == positive).astype(int)
    table = am.evaluate(truth, proba[:, positive], name=args.labels)
    table.pprint(max_width=-1)
    if args.out:
        if args.out.endswith(".json"):
            row = {name: table[name][0].item() if hasattr(table[name][0], "item")
                   else str(table[name][0]) for name in table.colnames}
            write_json(args.out, row)
        else:
            with atomic_path(args.out, overwrite=True) as tmp:  # any format astropy writes
                table.write(tmp)
    return 0


def _fits_source(args):
    """The image source of the ``--fits BAND=FILE`` options."""
    images = {}
    for item in args.fits:
        band, sep, path = item.partition("=")
        if not sep:
            raise am.InputError(f"--fits takes BAND=FILE, got {item!r}.")
        images[band] = path
    return am.FITSImageSource(images, survey=args.survey)


def _classify(args):
    source = _fits_source(args)
    classifier = _classifier(args.model)
    # Only what the user asked for changes the model's own framing.
    framing = {name: value for name, value in (
        ("field", None if args.field is None else args.field * u.arcsec),
        ("size", args.size), ("resampling", args.resampling)) if value is not None}
    table = am.classify_catalog(args.table, source, args.out, classifier=classifier,
                                prefix=args.prefix, chunk_size=args.chunk_size,
                                framing=framing, radius_column=args.radius_column,
                                schema=args.schema, overwrite=args.overwrite, progress=True)
    column = table[args.prefix + "morphology"]
    counts = {name: int(np.sum((column == name) & ~np.ma.getmaskarray(column)))
              for name in classifier.classes_}
    votes = table.meta.get("AMSCHEMA") or "no"
    print(f"astro-morph classify: {len(table)} rows, {counts}, {votes} vote columns; "
          f"written to {args.out}")
    return 0


def _similar(args):
    if not args.query and not args.position:  # before any work
        raise am.InputError("give the query galaxies: --query ROW (catalogue row, from 0) "
                            "or --position RA DEC (degrees), once or more.")
    source = _fits_source(args)
    classifier = _classifier(args.model)
    os.makedirs(args.out, exist_ok=True)
    embedded = os.path.join(args.out, "embeddings.ecsv")
    if os.path.exists(embedded) and not args.overwrite:
        print(f"astro-morph similar: using the embeddings in {embedded}", file=sys.stderr)
        table = am.read_table(embedded)
        wanted = am.parse_positions(am.read_table(args.table), allow_empty=True)
        held = am.parse_positions(table, allow_empty=True)
        if len(wanted) != len(held) or np.any(wanted.separation(held) > 0.01 * u.arcsec):
            raise am.InputError(f"{embedded} holds the embeddings of another catalogue: "
                                "choose another --out, or pass --overwrite to embed this one.")
    else:
        table = am.embed_catalog(args.table, source, embedded, classifier=classifier,
                                 chunk_size=args.chunk_size, overwrite=args.overwrite,
                                 progress=True)
    index = am.SimilarityIndex(table, classifier=classifier)
    queries = list(args.query or [])
    for ra, dec in args.position or []:
        queries += index.rows_at(SkyCoord([ra] * u.deg, [dec] * u.deg)).tolist()
    neighbours = index.search(queries, k=args.k)
    am.write_table(neighbours, os.path.join(args.out, "neighbours.ecsv"), overwrite=True)
    index.save(os.path.join(args.out, "index.zip"), overwrite=True)
    page = am.evaluation.write_similarity_report(index, args.out, queries=queries, k=args.k,
                                                 n_odd=args.n_odd, source=source,
                                                 classifier=classifier)
    print(f"astro-morph similar: {len(index)} of {index.n_rows} galaxies embedded; "
          f"{len(queries)} queries x {args.k} neighbours in "
          f"{os.path.join(args.out, 'neighbours.ecsv')}; page {page}")
    return 0


def build_parser():
    """The argument parser of the ``astro-morph`` command."""
    parser = argparse.ArgumentParser(
        prog="astro-morph",
        description="Galaxy morphology with deep transfer learning, at survey scale.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run the seed's workflow offline on the embedded GalSim mock survey "
                     "and write an HTML report")
    demo.add_argument("--out", default="astro_morph_demo", help="output folder")
    demo.add_argument("--n-galaxies", type=int, default=400, help="mock galaxies to render")
    demo.add_argument("--seed", type=int, default=0, help="random seed of the mock survey")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(run=_demo)

    train = commands.add_parser("train", help="train a classifier on labelled images")
    train.add_argument("--labels", required=True, help="CSV with filename,label columns")
    train.add_argument("--images", help="folder of the images (default: the CSV's folder)")
    train.add_argument("--out", required=True, help="model file to write (.keras)")
    train.add_argument("--backbone", default="compact",
                       help="network backbone: compact (the default, from scratch), "
                            "xception (the seed's), mobilenet, resnet50, inception_v3, "
                            "densenet121, efficientnet_b0")
    train.add_argument("--weights",
                       help="starting weights: 'imagenet' (a local copy is used when "
                            "astro_morph.conf.weights_dir or $ASTRO_MORPH_WEIGHTS names "
                            "one), a backbone weights file (.h5), or a model file (.keras) "
                            "to continue from; default random")
    train.add_argument("--input-size", type=int,
                       help="network input side in pixels (default: the recipe's)")
    train.add_argument("--crop-fraction", type=float,
                       help="central fraction of each image kept (default 0.35)")
    train.add_argument("--epochs", type=int,
                       help="largest number of epochs (default: MorphologyClassifier's)")
    train.add_argument("--time-budget", type=float, help="wall-clock limit in minutes")
    train.add_argument("--seed", type=int, default=0, help="random seed")
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel training: start the command with `horovodrun -np "
                            "N astro-morph train --distributed ...` (Horovod) or `python -m "
                            "astro_morph.distributed.launch -np N astro-morph train "
                            "--distributed ...` (TensorFlow); --epochs and the time budget "
                            "are shared by all ranks")
    train.add_argument("--engine", choices=["auto", "horovod", "tensorflow"], default="auto",
                       help="with --distributed: what carries the gradients (default: "
                            "TensorFlow when TF_CONFIG is set, else Horovod where installed, "
                            "else TensorFlow)")
    train.add_argument("--schema",
                       help="learn the votes of a decision tree (gz2, gz1, gz1+gz2): --labels "
                            "is then a CSV of filename and vote columns (a Galaxy Zoo "
                            "catalogue's fractions with total_classifications, or counts); "
                            "default: class labels")
    train.add_argument("--description", help="training-data provenance stored in the model")
    train.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    train.add_argument("--checkpoint-dir",
                       help="training state saved after each epoch (default: OUT.checkpoint); "
                            "rerunning a killed command resumes from it")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="metrics of a model on labelled images")
    evaluate.add_argument("model", help="model file (.keras)")
    evaluate.add_argument("--labels", required=True, help="CSV with filename,label columns")
    evaluate.add_argument("--images", help="folder of the images (default: the CSV's folder)")
    evaluate.add_argument("--out", help="write the metrics table (.ecsv or .json)")
    evaluate.set_defaults(run=_evaluate)

    report = commands.add_parser(
        "report", help="HTML report of a model on labelled images: metrics, ROC, confusion, "
                       "training curves, t-SNE, galleries")
    report.add_argument("model", nargs="?", help="model file (default: the pretrained model)")
    report.add_argument("--labels", required=True, help="CSV with filename,label columns")
    report.add_argument("--out", default="astro_morph_report", help="output folder")
    report.add_argument("--max-embedded", type=int, default=2000,
                        help="most galaxies in the t-SNE")
    report.set_defaults(run=_report)

    classify = commands.add_parser("classify", help="add morphology columns to a catalog")
    classify.add_argument("table", help="catalog with RA/Dec columns (any astropy format)")
    classify.add_argument("--fits", action="append", required=True, metavar="BAND=FILE",
                          help="one FITS image per band, e.g. --fits g=DES_g.fits")
    classify.add_argument("--survey", default=None, help="survey of the images (sdss, des...)")
    classify.add_argument("--out", required=True, help="output table (ECSV, FITS, VOTable)")
    classify.add_argument("--model", help="model file (default: the pretrained model)")
    classify.add_argument("--prefix", default="", help="prefix of the new columns")
    classify.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    classify.add_argument("--field", type=float,
                          help="width of the sky shown, arcsec (default: the model's framing; "
                               "the pretrained model's is 100)")
    classify.add_argument("--size", type=int,
                          help="cutout side in pixels (default: the model's framing)")
    classify.add_argument("--radius-column",
                          help="column of Petrosian R90: frame each galaxy in 10 R90")
    classify.add_argument("--resampling", choices=("fast", "exact"),
                          help="cutout resampling: all galaxies at once (fast, the default "
                               "framing's) or reproject_exact galaxy by galaxy (exact)")
    classify.add_argument("--schema",
                          help="questions whose predicted vote fractions become columns "
                               "(gz2, gz1...; default: every question the model answers)")
    classify.add_argument("--chunk-size", type=int, default=10_000,
                          help="rows per chunk; a killed run resumes after its last chunk")
    classify.set_defaults(run=_classify)

    similar = commands.add_parser(
        "similar", help="galaxies like given ones, and the oddest galaxies of a catalog: "
                        "embeddings, a similarity index and an HTML gallery")
    similar.add_argument("table", help="catalog with RA/Dec columns (any astropy format)")
    similar.add_argument("--fits", action="append", required=True, metavar="BAND=FILE",
                         help="one FITS image per band, e.g. --fits g=DES_g.fits")
    similar.add_argument("--survey", default=None, help="survey of the images (sdss, des...)")
    similar.add_argument("--out", required=True,
                         help="output folder: embeddings.ecsv (reused when there for the "
                              "same catalogue), index.zip, neighbours.ecsv, similar.html and "
                              "its PNGs (these four rewritten at each run)")
    similar.add_argument("--model", help="model file (default: the pretrained model)")
    similar.add_argument("--query", type=int, action="append", metavar="ROW",
                         help="catalogue row of a query galaxy (from 0); repeatable")
    similar.add_argument("--position", nargs=2, type=float, action="append",
                         metavar=("RA", "DEC"),
                         help="position of a query galaxy in degrees (the nearest catalogue "
                              "galaxy within 1 arcsec); repeatable")
    similar.add_argument("--k", type=int, default=8, help="neighbours per query")
    similar.add_argument("--n-odd", type=int, default=12,
                         help="oddest galaxies shown (0: none)")
    similar.add_argument("--chunk-size", type=int, default=10_000,
                         help="rows per chunk of the embedding run (resumed after a kill)")
    similar.add_argument("--overwrite", action="store_true",
                         help="embed again even if OUT/embeddings.ecsv exists")
    similar.set_defaults(run=_similar)
    return parser


def main(argv=None):
    """Entry point of ``astro-morph``; returns the exit status."""
    # TensorFlow's C++ start-up chatter (CUDA probes on CPU machines) is noise on a terminal.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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
