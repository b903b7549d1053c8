"""Benchmark: Horovod data-parallel scaling of the default recipe (the seed's scaling table).

Usage: python benchmarks/scaling.py [--ranks 1 2 4 8] [--images 1024] [--batch-size 32]

For each number of ranks it starts ``horovodrun --gloo -np N -H localhost:N``
on this script, trains the default compact network at 64 px on the same
number of images per epoch (shared among the ranks, ``--batch-size`` per rank
and step; synthetic images: throughput does not depend on their content) and
measures on rank 0:

- images/s and seconds per epoch (median of the epochs after the first,
  which pays for tracing);
- the fraction of a training step spent in the gradient allreduce (the
  grouped allreduce of all gradients, timed alone, over the step time).

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
parser.add_argument("--images", type=int, default=1024, help="images per epoch (all ranks)")
parser.add_argument("--batch-size", type=int, default=32, help="images per rank and step")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--worker", help=argparse.SUPPRESS)  # rank mode: write results here
args = parser.parse_args()


def worker(out):
    import keras
    import tensorflow as tf

    from astro_morph.distributed import init
    from astro_morph.distributed.training import AllreduceModel
    from astro_morph.models import build_network

    hvd = init()
    keras.utils.set_random_seed(0)
    model, _ = build_network("compact", 64, 2, augment=True, seed=0)
    trainer = AllreduceModel(model)
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hvd.broadcast_variables([v.value for v in trainer.variables], root_rank=0)
    per_rank = args.images // hvd.size()
    rng = np.random.default_rng(hvd.rank())
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

    # The allreduce of one step's gradients, alone (same tensors, same grouping).
    gradients = [tf.random.normal(v.shape) for v in trainer.trainable_variables]

    @tf.function
    def reduce(tensors):
        return hvd.grouped_allreduce(tensors, op=hvd.Average)

    for _ in range(3):
        reduce(gradients)
    repeats = 20
    start = time.perf_counter()
    for _ in range(repeats):
        out_tensors = reduce(gradients)
    float(np.asarray(out_tensors[0]).ravel()[0])
    allreduce = (time.perf_counter() - start) / repeats
    if hvd.rank() == 0:
        n_weights = sum(int(np.prod(v.shape)) for v in trainer.trainable_variables)
        result = {"ranks": hvd.size(), "epoch_seconds": epoch, "step_seconds": epoch / steps,
                  "images_per_second": per_rank * hvd.size() / epoch,
                  "allreduce_seconds": allreduce, "gradient_floats": n_weights}
        pathlib.Path(out).write_text(json.dumps(result))


def launch(n_ranks, folder):
    out = os.path.join(folder, f"np{n_ranks}.json")
    horovodrun = pathlib.Path(sys.executable).with_name("horovodrun")
    horovodrun = str(horovodrun) if horovodrun.exists() else shutil.which("horovodrun")
    command = [horovodrun, "--gloo", "-np", str(n_ranks), "-H", f"localhost:{n_ranks}",
               sys.executable, __file__, "--worker", out, "--images", str(args.images),
               "--batch-size", str(args.batch_size), "--epochs", str(args.epochs)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        sys.exit(f"horovodrun -np {n_ranks} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return json.loads(pathlib.Path(out).read_text())


if args.worker:
    worker(args.worker)
    sys.exit(0)

print(f"compact CNN, 64 px, {args.images} images per epoch, batch {args.batch_size} per rank, "
      f"{os.cpu_count()} CPU cores on this host")
rows = []
with tempfile.TemporaryDirectory() as folder:
    for n in args.ranks:
        rows.append(launch(n, folder))
        r = rows[-1]
        print(f"  np={n}: {r['epoch_seconds']:.2f} s/epoch", flush=True)
base = rows[0]
print(f"{'ranks':>5} {'images/s':>9} {'s/epoch':>8} {'speed-up':>8} {'efficiency':>10} "
      f"{'step (s)':>8} {'allreduce (s)':>13} {'allreduce %':>11}")
for r in rows:
    r["speedup"] = r["images_per_second"] / base["images_per_second"]
    r["efficiency"] = r["speedup"] * base["ranks"] / r["ranks"]
    r["fraction"] = r["allreduce_seconds"] / r["step_seconds"]
    print(f"{r['ranks']:>5} {r['images_per_second']:>9.1f} {r['epoch_seconds']:>8.2f} "
          f"{r['speedup']:>8.2f} {r['efficiency']:>10.2f} {r['step_seconds']:>8.3f} "
          f"{r['allreduce_seconds']:>13.4f} {100 * r['fraction']:>10.1f}%")
last = rows[-1]
print(f"gradient size {last['gradient_floats']:,} floats; at np={last['ranks']}: "
      f"scaling efficiency {last['efficiency']:.2f}, allreduce fraction {last['fraction']:.3f}")
