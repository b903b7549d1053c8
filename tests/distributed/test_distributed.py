"""Distributed training and inference on both engines: two CPU ranks, started as a user
would start them (Horovod: horovodrun with gloo; TensorFlow: astro_morph.distributed.launch)."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from astro_morph import DistributedError, MissingDependencyError, MorphologyClassifier
from astro_morph.cli import main
from astro_morph.distributed import (
    horovod_installed,
    init,
    launcher,
    require_horovod,
    shard_indices,
)
from astro_morph.distributed.data_parallel import LearningRateWarmup
from astro_morph.distributed.engines import engine_name
from astro_morph.distributed.launch import worker_environments

WORKER = pathlib.Path(__file__).with_name("distributed_worker.py")


def _horovod_available():
    # CI builds Horovod on its stack: there, its absence is a failure, not a skip.
    if os.environ.get("ASTRO_MORPH_REQUIRE_HOROVOD"):
        require_horovod()
    return horovod_installed()


needs_horovod = pytest.mark.skipif(not _horovod_available(),
                                   reason="Horovod is not installed (astro_morph[distributed])")


def _horovodrun():
    beside = pathlib.Path(sys.executable).with_name("horovodrun")
    return str(beside) if beside.exists() else shutil.which("horovodrun")


def _launch_two_ranks(engine, args):
    """The command that starts ``args`` as two ranks of ``engine``."""
    if engine == "horovod":
        return [_horovodrun(), "--gloo", "-np", "2", "-H", "localhost:2", *args]
    return [sys.executable, "-m", "astro_morph.distributed.launch", "-np", "2", *args]


def _environment():
    env = {k: v for k, v in os.environ.items()
           if k not in ("HOROVOD_RANK", "OMPI_COMM_WORLD_RANK", "TF_CONFIG")}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _run_two_ranks(engine, args, timeout=600):
    done = subprocess.run(_launch_two_ranks(engine, args), capture_output=True, text=True,
                          timeout=timeout, env=_environment())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


#: Each engine's tests; Horovod's skip where it is not installed (TensorFlow > 2.18).
ENGINES = [pytest.param("horovod", marks=needs_horovod), "tensorflow"]


@pytest.fixture(scope="module", params=ENGINES)
def ranks(request, tmp_path_factory):
    """Both ranks' reports from one two-rank run of tests/distributed/distributed_worker.py."""
    out = tmp_path_factory.mktemp(request.param)
    _run_two_ranks(request.param, [sys.executable, str(WORKER), request.param, str(out)])
    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [report["engine"] for report in reports] == [request.param] * 2
    return reports


@pytest.mark.slow
def test_weights_identical_on_both_ranks_and_loss_decreases(ranks):
    first, second = ranks[0]["train"], ranks[1]["train"]
    assert ranks[0]["size"] == ranks[1]["size"] == 2
    assert first["checksum"] == second["checksum"]
    assert first["temperature"] == second["temperature"]
    np.testing.assert_array_equal(first["proba"], second["proba"])
    # Epoch metrics are averaged across ranks: both histories are the same numbers.
    assert first["loss"] == second["loss"] and first["val_loss"] == second["val_loss"]
    assert first["loss"][-1] < 0.5 * first["loss"][0]
    assert first["ranks"] == 2 and first["n_train"] == 72


@pytest.mark.slow
def test_averaged_gradient_equals_gradient_of_the_union(ranks):
    for report in ranks:
        assert report["gradient_max_difference"] < 1e-6


@pytest.mark.slow
def test_only_rank_zero_writes_the_checkpoint(ranks):
    first, second = ranks[0]["train"], ranks[1]["train"]
    assert len(first["checkpoint_writes"]) == len(first["loss"]) == 4
    assert all("checkpoint" in path for path in first["checkpoint_writes"])
    assert second["checkpoint_writes"] == []
    assert second["state_seen"] == [True] * 4  # rank 1 saw rank 0's state after every epoch
    assert not first["checkpoint_left"]  # removed once training succeeded


@pytest.mark.slow
def test_sharded_inference_equals_single_process_row_by_row(ranks):
    for report in ranks:
        result = report["classify"]
        assert result["n_rows"] == 7 and result["ra_equal"]
        np.testing.assert_array_equal(result["p_spiral_sharded"], result["p_spiral_single"])
        assert result["morphology_equal"] and result["flag_equal"]


@pytest.mark.slow
def test_time_budget_stops_every_rank_at_the_same_step(ranks):
    # This run also sends its gradients as float16 (fp16_compression=True).
    assert ranks[0]["budget"] == ranks[1]["budget"]
    assert 1 <= ranks[0]["budget"]["epochs"] < 10_000


@pytest.mark.slow
@pytest.mark.parametrize("product", ["classify", "embed"])
@pytest.mark.parametrize("engine", ENGINES)
def test_a_killed_sharded_catalog_run_resumes_from_its_chunks(tmp_path, engine, product):
    from astropy.table import Table

    from astro_morph import FITSImageSource, MockSurvey, classify_catalog, embed_catalog

    files = MockSurvey(n_galaxies=12, seed=5).write(tmp_path / "mock")["des"]
    catalog = Table(np.repeat(Table.read(files["catalog"]).as_array(), 3))  # 36 rows
    catalog["row"] = np.arange(len(catalog))
    catalog["ra"] = np.asarray(catalog["ra"], float) + (catalog["row"] % 3) * 0.5 / 3600
    catalog["ra"].unit = "deg"
    catalog.write(tmp_path / "catalog.ecsv")
    images = [f"{band}={path}" for band, path in files["images"].items()]
    out, worker = tmp_path / "sharded.ecsv", WORKER.with_name("catalog_worker.py")
    args = [sys.executable, str(worker), product, str(tmp_path / "catalog.ecsv"), str(out),
            *images]
    job = subprocess.Popen(_launch_two_ranks(engine, args), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=_environment(),
                           start_new_session=True)
    partial = tmp_path / "sharded.ecsv.partial"
    kill_after = int(np.random.default_rng().integers(2, 12))  # of 18 chunks
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and job.poll() is None:
        done = len(list(partial.glob("chunk_*.ecsv"))) if partial.is_dir() else 0
        if done >= kill_after:
            break
        time.sleep(0.02)
    assert job.poll() is None, "the job ended before it could be killed"
    os.killpg(job.pid, signal.SIGKILL)  # the launcher and both ranks, as a scheduler would
    subprocess.run(["pkill", "-9", "-f", str(worker)], check=False)
    job.wait()
    assert not out.exists()
    left = len(list(partial.glob("chunk_*.ecsv")))
    print(f"killed with {left} of 18 chunks written")

    _run_two_ranks(engine, args)  # the same job, started again
    got = Table.read(out)
    source = FITSImageSource(dict(item.split("=", 1) for item in images), survey="des")
    run = {"classify": classify_catalog, "embed": embed_catalog}[product]
    want = run(tmp_path / "catalog.ecsv", source, tmp_path / "single.ecsv", chunk_size=2,
               progress=False)
    assert list(got["row"]) == list(range(36))  # every row once, in input order
    for name in ("p_spiral",) if product == "classify" else ("embedding",):
        np.testing.assert_allclose(np.ma.filled(got[name], np.nan),
                                   np.ma.filled(want[name], np.nan), rtol=1e-5, atol=1e-6)
    assert list(got["flag"]) == list(want["flag"])
    assert not partial.exists()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_a_chunk_failing_on_one_rank_stops_every_rank_and_keeps_the_others(tmp_path, engine):
    worker = WORKER.with_name("runner_worker.py")
    work = tmp_path / "out.partial"
    done = subprocess.run(_launch_two_ranks(engine, [sys.executable, str(worker), str(work),
                                                    str(tmp_path)]),
                          capture_output=True, text=True, timeout=300, env=_environment())
    assert done.returncode != 0  # ended, not left waiting for the failed rank
    failed, other = ((tmp_path / f"rank{r}.txt").read_text() for r in (1, 0))
    assert failed == "ValueError: chunk 3 cannot be computed"
    assert other.startswith("DistributedError: rank 1 failed (ValueError") and \
        "run the same job again to resume" in other
    # Rank 0's chunks (0, 2, 4) and rank 1's chunk before the failure (1) are kept.
    assert {p.name for p in work.glob("chunk_*.ecsv")} >= {f"chunk_{i:06d}.ecsv"
                                                           for i in (0, 1, 2, 4)}


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_cli_train_distributed_writes_one_model(tmp_path, labelled_folder, engine):
    labels = labelled_folder(tmp_path, n=24)
    model = tmp_path / "m.keras"
    done = _run_two_ranks(engine, [sys.executable, "-m", "astro_morph.cli", "train",
                                   "--distributed", "--engine", engine, "--labels", str(labels),
                                   "--out", str(model), "--epochs", "2", "--quiet"])
    assert done.stdout.count("model written to") == 1  # rank 0 only
    loaded = MorphologyClassifier.load(model)
    assert loaded.training_info_["ranks"] == 2
    assert not (tmp_path / "m.keras.checkpoint").exists()


@needs_horovod
def test_without_a_launcher_the_error_names_horovodrun(monkeypatch, tmp_path, labelled_folder):
    for variable in ("HOROVOD_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "TF_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    images = np.zeros((8, 16, 16, 3), dtype="float32")
    with pytest.raises(DistributedError, match="horovodrun -np 2"):
        MorphologyClassifier(input_size=16).fit_distributed(images, [0, 1] * 4)
    labels = labelled_folder(tmp_path)
    status = main(["train", "--distributed", "--labels", str(labels),
                   "--out", str(tmp_path / "m.keras")])
    assert status == 2 and not (tmp_path / "m.keras").exists()


def test_cli_engine_without_distributed_is_refused(tmp_path, labelled_folder, capsys):
    status = main(["train", "--engine", "tensorflow", "--labels",
                   str(labelled_folder(tmp_path)), "--out", str(tmp_path / "m.keras")])
    assert status == 2 and "add --distributed" in capsys.readouterr().err
    assert not (tmp_path / "m.keras").exists()


def test_missing_horovod_names_the_extra_build_flags_and_other_engine(monkeypatch):
    monkeypatch.setitem(sys.modules, "horovod.tensorflow", None)  # import fails
    with pytest.raises(MissingDependencyError,
                       match=r"astro_morph\[distributed\].*HOROVOD_WITH_TENSORFLOW=1.*"
                             r"engine='tensorflow'"):
        MorphologyClassifier(input_size=16).fit_distributed(
            np.zeros((8, 16, 16, 3)), [0, 1] * 4, engine="horovod")
    # Without Horovod, "auto" means TensorFlow's collectives.
    assert engine_name("auto", environ={}) == "tensorflow"


def test_tensorflow_engine_without_tf_config_names_the_launcher(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(DistributedError, match="astro_morph.distributed.launch -np 2"):
        MorphologyClassifier(input_size=16).fit_distributed(
            np.zeros((8, 16, 16, 3)), [0, 1] * 4, engine="tensorflow")


@pytest.mark.parametrize("config, match", [
    ("not json", "must be JSON"),
    ('{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 3}}',
     "index below 1"),
    ('{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "ps", "index": 0}}',
     "must be a worker"),
    ('{"cluster": {"worker": "localhost:1"}, "task": {"type": "worker", "index": 0}}',
     "list of 'host:port' strings"),
    ('{"cluster": {"worker": ["localhost:1"]}, "task": 0}', "must be JSON like"),
    ('{"cluster": {"worker": ["localhost:1"], "chief": ["localhost:2"]}, '
     '"task": {"type": "worker", "index": 0}}', "workers only"),
])
def test_a_malformed_tf_config_gets_our_error(monkeypatch, config, match):
    monkeypatch.setenv("TF_CONFIG", config)
    with pytest.raises(DistributedError, match=match):
        init(engine="tensorflow")


def test_an_unknown_engine_names_the_engines():
    with pytest.raises(DistributedError, match=r"'auto', 'horovod', 'tensorflow'"):
        MorphologyClassifier(input_size=16).fit_distributed(
            np.zeros((8, 16, 16, 3)), [0, 1] * 4, engine="mpi")


def test_engine_auto_follows_the_launcher():
    assert engine_name("auto", environ={"TF_CONFIG": "{}"}) == "tensorflow"
    # A Horovod launcher wins over a TF_CONFIG left in the environment.
    if _horovod_available():
        assert engine_name("auto", environ={"TF_CONFIG": "{}", "HOROVOD_RANK": "0"}) == "horovod"


def test_local_workers_each_get_their_index_and_no_horovod_variables():
    envs = worker_environments(3, environ={"HOROVOD_RANK": "1", "KEEP": "x"})
    configs = [json.loads(env["TF_CONFIG"]) for env in envs]
    assert [c["task"]["index"] for c in configs] == [0, 1, 2]
    workers = configs[0]["cluster"]["worker"]
    assert len(set(workers)) == 3 and all(c["cluster"]["worker"] == workers for c in configs)
    assert all("HOROVOD_RANK" not in env and env["KEEP"] == "x" for env in envs)


def test_the_launcher_stops_every_worker_when_one_fails(tmp_path):
    # Worker 1 fails at once; worker 0 would sleep for ten minutes.
    script = tmp_path / "w.py"
    script.write_text("import json, os, sys, time\n"
                      "index = json.loads(os.environ['TF_CONFIG'])['task']['index']\n"
                      "sys.exit(3) if index == 1 else time.sleep(600)\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "astro_morph.distributed.launch", "-np", "2",
                           sys.executable, str(script)], timeout=120)
    assert done.returncode == 3 and time.monotonic() - started < 60


def test_launcher_detection():
    assert launcher(environ={"OMPI_COMM_WORLD_RANK": "3"}).startswith("Open MPI")
    assert launcher(environ={"PATH": "/bin"}) is None


def test_shards_have_equal_length_and_do_not_overlap():
    shards = [shard_indices(11, r, 3) for r in range(3)]
    assert [len(s) for s in shards] == [3, 3, 3]
    assert len(set(np.concatenate(shards))) == 9


def test_warmup_ramps_the_learning_rate_and_composes():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(float(self.model.optimizer.learning_rate))

    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    model.fit(x, y, batch_size=2, epochs=2, verbose=0, shuffle=False,
              callbacks=[LearningRateWarmup(4, warmup_steps=4, steps_per_epoch=4), Record()])
    np.testing.assert_allclose(seen, [0.1, 0.175, 0.25, 0.325, 0.4, 0.4, 0.4, 0.4], rtol=1e-6)
