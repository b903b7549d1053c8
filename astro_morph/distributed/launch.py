"""Start N local workers of the TensorFlow engine, as ``horovodrun`` starts Horovod ranks.

Usage::

    python -m astro_morph.distributed.launch -np 2 python train.py [args...]

Each worker runs the command with ``TF_CONFIG`` naming all the workers (on
free local ports) and its own index. If one worker fails, the others are
stopped (they would wait for it forever) and the launcher exits with the
failed worker's status. On a cluster, give each node's processes their
``TF_CONFIG`` from the job script instead (see the distributed docs).
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

from astro_morph.distributed.engines import LAUNCHER_VARIABLES

__all__ = ["free_ports", "worker_environments", "launch", "main"]


def free_ports(n):
    """``n`` distinct TCP ports free on this machine now.

    Parameters
    ----------
    n : int

    Returns
    -------
    list of int
    """
    sockets = []
    try:
        for _ in range(n):
            handle = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            handle.bind(("localhost", 0))
            sockets.append(handle)
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def worker_environments(n, *, ports=None, environ=None):
    """The environment of each of ``n`` local workers: ``TF_CONFIG`` set, Horovod's
    launcher variables removed (so that ``engine="auto"`` picks TensorFlow).

    Parameters
    ----------
    n : int
        Number of workers.
    ports : list of int, optional
        One port per worker (default: free ones).
    environ : mapping, optional
        The environment to start from (default: ``os.environ``).

    Returns
    -------
    list of dict

    Examples
    --------
    >>> envs = worker_environments(2, ports=[5000, 5001], environ={})
    >>> json.loads(envs[1]["TF_CONFIG"])["task"]
    {'type': 'worker', 'index': 1}
    """
    ports = free_ports(n) if ports is None else list(ports)
    if len(ports) != n:
        raise ValueError(f"{n} workers need {n} ports, got {len(ports)}")
    environ = os.environ if environ is None else environ
    workers = [f"localhost:{port}" for port in ports]
    base = {key: value for key, value in environ.items()
            if key not in LAUNCHER_VARIABLES}
    return [{**base, "TF_CONFIG": json.dumps({"cluster": {"worker": workers},
                                              "task": {"type": "worker", "index": index}})}
            for index in range(n)]


def _stop_on_signal(signum, frame):
    raise SystemExit(128 + signum)  # runs launch's cleanup: no worker is left behind


def launch(command, n):
    """Run ``command`` as ``n`` local workers until all end or one fails.

    Parameters
    ----------
    command : list of str
        The program and its arguments, e.g. ``["python", "train.py"]``.
    n : int
        Number of workers.

    Returns
    -------
    status : int
        0 when every worker succeeded, else the exit status of the first to
        fail (128 + N for a worker killed by signal N); the other workers are
        stopped then, as they are when the launcher itself is stopped.
    """
    workers, status = [], 0
    try:
        for env in worker_environments(n):
            workers.append(subprocess.Popen(command, env=env))
        while True:
            codes = [worker.poll() for worker in workers]  # every worker, each time
            failed = [code for code in codes if code not in (None, 0)]
            if failed:
                status = _exit_status(failed[0])
                break
            if None not in codes:
                break
            time.sleep(0.1)
    finally:
        for worker in workers:  # a worker left alone would wait for the others forever
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    return status


def _exit_status(returncode):
    """A shell's exit status for a worker's return code (killed by signal N: 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


def main(argv=None):
    """Command-line entry point: ``python -m astro_morph.distributed.launch -np N cmd``."""
    parser = argparse.ArgumentParser(
        prog="python -m astro_morph.distributed.launch",
        description="Run a command as N local workers of the TensorFlow engine.")
    parser.add_argument("-np", "--num-proc", type=int, required=True, dest="n",
                        help="number of workers (one per GPU, or share the CPU cores)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="the command each worker runs, e.g. python train.py")
    args = parser.parse_args(argv)
    if args.n < 1 or not args.command:
        parser.error("give -np N (N >= 1) and the command to run")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    try:
        return launch(args.command, args.n)
    except FileNotFoundError as exc:
        print(f"astro_morph.distributed.launch: cannot run {args.command[0]!r}: {exc}",
              file=sys.stderr)
        return 127
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
