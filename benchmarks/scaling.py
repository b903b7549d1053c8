"""Benchmark: data-parallel scaling of the default recipe (the seed's scaling table),
on each engine.

Usage: python benchmarks/scaling.py [--ranks 1 2 4 8] [--engine horovod tensorflow]
                                    [--images 1024] [--batch-size 32]

For each engine (default: both where installed; Horovod needs TensorFlow <= 2.18)
and each number of ranks it starts this script as N local ranks
(``horovodrun --gloo -np N -H localhost:N``, or ``python -m
astro_morph.distributed.launch -np N``), trains the default compact network at 64 px on the same
number of images per epoch (shared among the ranks, ``--batch-size`` per rank
and step; synthetic images: throughput does not depend on their content) and
measures on rank 0:

- images/s and seconds per epoch (median of the epochs after the first,
  which pays for tracing);
- the fraction of a training step spent in the gradient allreduce (the
  engine's allreduce of all gradients, as the training step calls it, timed
  alone, over the step time).

On a GPU node use ``--ranks 1 2 4 8`` (one rank per GPU). On a CPU machine
the ranks share the cores, so the table shows the overhead of the allreduce
rather than a speed-up.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
parser.add_argument("--engine", nargs="+", choices=["horovod", "tensorflow"],
                    help="engines to measure (default: both where installed)")
parser.add_argument("--images", type=int, default=1024, help="images per epoch (all ranks)")
parser.add_argument("--batch-size", type=int, default=32, help="images per rank and step")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--worker", help=argparse.SUPPRESS)  # rank mode: write results here
parser.add_argument("--worker-engine", help=argparse.SUPPRESS)
args = parser.parse_args()


def worker(out, engine_name):
    import keras
    import tensorflow as tf

    from astro_morph.distributed import init
    from astro_morph.distributed.data_parallel import AllreduceModel
    from astro_morph.models import build_network

    engine = init(engine=engine_name)
    keras.utils.set_random_seed(0)
    model, _ = build_network("compact", 64, 2, augment=True, seed=0)
    trainer = AllreduceModel(model)
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    engine.broadcast_variables(trainer.variables)
    per_rank = args.images // engine.size()
    rng = np.random.default_rng(engine.rank())
    x = rng.random((per_rank, 64, 64, 3), dtype=np.float32)
    y = rng.integers(0, 2, per_rank)

    epoch_seconds = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)

    trainer.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
                callbacks=[Clock()])
    steps = int(np.ceil(per_rank / args.batch_size))
    epoch = float(np.median(epoch_seconds[1:]))

    # The allreduce of one step's gradients, alone (same tensors, same call as a step's).
    gradients = [tf.random.normal(v.shape) for v in trainer.trainable_variables]

    @tf.function
    def reduce(tensors):
        return engine.allreduce(tensors, name="bench.gradients")

    for _ in range(3):
        reduce(gradients)
    repeats = 20
    start = time.perf_counter()
    for _ in range(repeats):
        out_tensors = reduce(gradients)
    float(np.asarray(out_tensors[0]).ravel()[0])
    allreduce = (time.perf_counter() - start) / repeats
    if engine.rank() == 0:
        n_weights = sum(int(np.prod(v.shape)) for v in trainer.trainable_variables)
        result = {"ranks": engine.size(), "epoch_seconds": epoch, "step_seconds": epoch / steps,
                  "images_per_second": per_rank * engine.size() / epoch,
                  "allreduce_seconds": allreduce, "gradient_floats": n_weights}
        pathlib.Path(out).write_text(json.dumps(result))


def launch(engine, n_ranks, folder):
    out = os.path.join(folder, f"{engine}{n_ranks}.json")
    if engine == "horovod":
        horovodrun = pathlib.Path(sys.executable).with_name("horovodrun")
        horovodrun = str(horovodrun) if horovodrun.exists() else shutil.which("horovodrun")
        start = [horovodrun, "--gloo", "-np", str(n_ranks), "-H", f"localhost:{n_ranks}"]
    else:
        start = [sys.executable, "-m", "astro_morph.distributed.launch", "-np", str(n_ranks)]
    command = [*start, sys.executable, __file__, "--worker", out, "--worker-engine", engine,
               "--images", str(args.images), "--batch-size", str(args.batch_size),
               "--epochs", str(args.epochs)]
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**env, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if done.returncode:
        sys.exit(f"{engine} -np {n_ranks} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return json.loads(pathlib.Path(out).read_text())


def installed_engines():
    from astro_morph.distributed import horovod_installed

    return ["horovod", "tensorflow"] if horovod_installed() else ["tensorflow"]


if args.worker:
    worker(args.worker, args.worker_engine)
    sys.exit(0)

print(f"compact CNN, 64 px, {args.images} images per epoch, batch {args.batch_size} per rank, "
      f"{os.cpu_count()} CPU cores on this host")
results = {}
with tempfile.TemporaryDirectory() as folder:
    for engine in args.engine or installed_engines():
        for n in args.ranks:
            results.setdefault(engine, []).append(launch(engine, n, folder))
            print(f"  {engine} np={n}: {results[engine][-1]['epoch_seconds']:.2f} s/epoch",
                  flush=True)
print(f"{'engine':>10} {'ranks':>5} {'images/s':>9} {'s/epoch':>8} {'speed-up':>8} "
      f"{'efficiency':>10} {'step (s)':>8} {'allreduce (s)':>13} {'allreduce %':>11}")
for engine, rows in results.items():
    base = rows[0]
    for r in rows:
        r["speedup"] = r["images_per_second"] / base["images_per_second"]
        r["efficiency"] = r["speedup"] * base["ranks"] / r["ranks"]
        r["fraction"] = r["allreduce_seconds"] / r["step_seconds"]
        print(f"{engine:>10} {r['ranks']:>5} {r['images_per_second']:>9.1f} "
              f"{r['epoch_seconds']:>8.2f} {r['speedup']:>8.2f} {r['efficiency']:>10.2f} "
              f"{r['step_seconds']:>8.3f} {r['allreduce_seconds']:>13.4f} "
              f"{100 * r['fraction']:>10.1f}%")
    last = rows[-1]
    print(f"{engine}: gradient size {last['gradient_floats']:,} floats; at np={last['ranks']}: "
          f"scaling efficiency {last['efficiency']:.2f}, allreduce fraction "
          f"{last['fraction']:.3f}")
