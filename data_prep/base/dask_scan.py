"""Survey scans on Dask (``dask.distributed``): one task per sky tile, shared by ``deepcee scan``
and ``stellarvae scan``.

Where the tasks run (``--scheduler``):

``local`` or ``local:N``
    An embedded ``LocalCluster`` of N worker processes on this machine (default: one per CPU
    core), one task at a time each; TensorFlow in each worker gets cores / N threads
    (``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS``). It listens on 127.0.0.1 only.
``tcp://HOST:PORT``
    A running scheduler (``dask scheduler``) and the workers connected to it
    (``dask worker tcp://HOST:PORT --nthreads 1``), on any machines that share the scan's
    files: the model, the output folder and the input images must have the same paths there.
``slurm`` or ``pbs`` with ``--jobqueue-config FILE``
    Workers submitted as batch jobs through ``dask-jobqueue``. FILE is dask-jobqueue's own YAML
    (``jobqueue: slurm: {cores: 8, memory: 32GB, processes: 4, queue: ..., walltime: ...}``),
    ``--workers N`` the number of workers (default: one job's).

The scan of a tile list (:func:`run_tiles`):

- a task calls ``job(tile)`` on a worker and writes the astropy Table it returns to
  ``OUT/tiles/<tile id>.ecsv``: written under a temporary name, then hard-linked to its name, so
  a tile's result appears whole and only once, even if a task is run twice (a worker that
  dies mid-task has its tasks rerun elsewhere by the scheduler);
- a tile whose result exists is not submitted again: a rerun, or a scan interrupted (Ctrl-C,
  a lost client) and started again, does only the tiles that are missing;
- a tile whose job raises (a download error, a bad FITS file) or whose workers keep dying is
  recorded with its one-line reason in ``OUT/failed_tiles.ecsv``; the other tiles go on, and
  the next run tries it again. Every exception of a job counts as its tile's failure: a bug
  shows as every tile failing with the same reason there;
- heavy objects (a model) are built once per worker process with :func:`worker_cache`;
- a progress bar (tqdm, on stderr) counts finished tiles and the Dask dashboard's address is
  printed.

``OUT/scan.json`` records the settings the tiles were made with; a scan with other settings
is refused in that folder (:func:`claim_folder`), so results of two models never mix.
"""
import contextlib
import json
import logging
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
from astropy.table import Table

from data_prep.base.errors import InputError
from data_prep.base.files import write_json, write_table

RESULTS = "tiles"
FAILED_TILES = "failed_tiles.ecsv"
SETTINGS = "scan.json"
SCHEDULERS = "local[:N], tcp://HOST:PORT, slurm or pbs"
WRITTEN, SKIPPED, FAILED = "written", "skipped", "failed"

_CACHE = {}
_LOADS = {}
_CACHE_LOCK = threading.Lock()


# --- where the tasks run ----------------------------------------------------------------------

@dataclass(frozen=True)
class ClusterOptions:
    """Where a scan's tasks run (see the module doc).

    Attributes
    ----------
    scheduler : str
        ``local``, ``local:N``, ``tcp://HOST:PORT``, ``slurm`` or ``pbs``.
    workers : int or None
        Worker processes (local, slurm, pbs); None: one per core (local), one job's (batch).
    jobqueue_config : str or None
        dask-jobqueue YAML file (slurm, pbs).
    dashboard_address : str
        Where a local cluster serves its dashboard (``HOST:PORT``; port 0: any free one).
    """

    scheduler: str = "local"
    workers: int = None
    jobqueue_config: str = None
    dashboard_address: str = "127.0.0.1:8787"


def add_cluster_arguments(parser):
    """``--scheduler``, ``--workers``, ``--jobqueue-config`` and ``--dashboard-address``."""
    parser.add_argument("--scheduler", default="local",
                        help=f"where tasks run: {SCHEDULERS} (default local: one worker per "
                             "core on this machine)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes for local, slurm and pbs")
    parser.add_argument("--jobqueue-config", default=None, metavar="FILE",
                        help="dask-jobqueue YAML for --scheduler slurm or pbs")
    parser.add_argument("--dashboard-address", default="127.0.0.1:8787",
                        help="HOST:PORT of a local cluster's dashboard (default %(default)s)")


def cluster_options(args):
    """:class:`ClusterOptions` from :func:`add_cluster_arguments` options, checked."""
    options = ClusterOptions(args.scheduler, args.workers, args.jobqueue_config,
                             args.dashboard_address)
    scheduler_kind(options)
    return options


def scheduler_kind(options):
    """``(kind, workers)``: kind ``local``, ``address``, ``slurm`` or ``pbs``; InputError for a
    scheduler or worker count that cannot work."""
    text = options.scheduler.strip()
    workers = options.workers
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: give at least 1 worker")
    if "://" in text:
        if workers is not None:
            raise InputError(f"--workers with --scheduler {text}: the workers connected to that "
                             "scheduler run the tasks; start more with 'dask worker'")
        return "address", None
    kind, _, count = text.partition(":")
    if kind == "local":
        if count:
            if not count.isdigit() or int(count) < 1:
                raise InputError(f"--scheduler {text}: write local:N with N >= 1 workers")
            if workers is not None and workers != int(count):
                raise InputError(f"--scheduler {text} and --workers {workers} disagree; give one")
            workers = int(count)
        return "local", workers or os.cpu_count() or 1
    if kind in ("slurm", "pbs") and not count:
        if not options.jobqueue_config:
            raise InputError(f"--scheduler {kind} needs --jobqueue-config FILE: dask-jobqueue's "
                             f"YAML (jobqueue: {kind}: cores, memory, queue, walltime, ...)")
        return kind, workers
    raise InputError(f"--scheduler {text}: unknown; use {SCHEDULERS}")


def local_cluster(workers, dashboard_address):
    """A ``LocalCluster`` of ``workers`` processes on 127.0.0.1, one thread each, TensorFlow
    in each limited to its share of the cores."""
    from distributed import LocalCluster
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address=dashboard_address,
                        silence_logs=logging.ERROR,
                        env={"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads})


def jobqueue_cluster(kind, config_path):
    """A dask-jobqueue ``SLURMCluster`` or ``PBSCluster`` set up from a YAML file (not scaled).

    Parameters
    ----------
    kind : {"slurm", "pbs"}
    config_path : path
        YAML with a ``jobqueue: <kind>:`` section of dask-jobqueue's keys (as in its
        ``jobqueue.yaml``: ``cores``, ``memory``, ``processes``, ``queue``, ``walltime``,
        ``job-extra-directives``, ``scheduler-options``, ...), given to the cluster as
        arguments.
    """
    import yaml
    from dask_jobqueue import PBSCluster, SLURMCluster

    path = Path(config_path)
    if not path.is_file():
        raise InputError(f"--jobqueue-config {path}: no such file")
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        reason = str(error).splitlines()[0]
        raise InputError(f"{path}: not YAML ({reason}); see dask-jobqueue's configuration "
                         "docs") from None
    section = config.get("jobqueue", {}).get(kind) if isinstance(config, dict) else None
    if not isinstance(section, dict):
        raise InputError(f"{path}: no 'jobqueue: {kind}:' section; write dask-jobqueue's keys "
                         "(cores, memory, queue, walltime, ...) under it")
    arguments = {key.replace("-", "_"): value for key, value in section.items()}
    try:
        return {"slurm": SLURMCluster, "pbs": PBSCluster}[kind](**arguments)
    except (TypeError, ValueError, KeyError) as error:
        reason = (str(error).splitlines() or [""])[0]
        raise InputError(f"{path}: dask-jobqueue refuses the '{kind}' section "
                         f"({type(error).__name__}: {reason})") from None


@contextlib.contextmanager
def dask_client(options, log=print):
    """A ``distributed.Client`` for ``options``; the cluster it started is closed on exit.

    Prints the dashboard's address (and, for batch clusters, that the jobs are queued).
    """
    from distributed import Client
    kind, workers = scheduler_kind(options)
    cluster = None
    if kind == "local":
        cluster = local_cluster(workers, options.dashboard_address)
        client = Client(cluster)
    elif kind == "address":
        try:
            client = Client(options.scheduler, timeout="20s")
        except (OSError, TimeoutError) as error:
            raise InputError(f"--scheduler {options.scheduler}: no Dask scheduler answers "
                             f"({type(error).__name__}); start one with 'dask scheduler' or "
                             "use --scheduler local") from None
    else:
        cluster = jobqueue_cluster(kind, options.jobqueue_config)
        if workers:
            cluster.scale(n=workers)
        else:
            cluster.scale(jobs=1)
        client = Client(cluster)
        log(f"{kind}: worker jobs submitted; tiles start as the batch system runs them")
    try:
        if "dashboard" in client.scheduler_info().get("services", {}):
            log(f"Dask dashboard: {client.dashboard_link}")
        else:
            log("the Dask scheduler serves no dashboard")
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def worker_cache(key, factory):
    """``factory()``, made once per worker process and ``key`` and then reused (a model is
    loaded once per worker, not once per tile)."""
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = factory()
            _LOADS[key] = _LOADS.get(key, 0) + 1
        return _CACHE[key]


# --- the results folder -----------------------------------------------------------------------

def claim_folder(out, settings):
    """Make ``out`` the folder of a scan with ``settings`` (JSON-able dict) and write
    ``scan.json``; InputError when ``out`` holds tiles made with other settings."""
    out = Path(out)
    settings = json.loads(json.dumps(settings))
    path = out / SETTINGS
    if path.is_file():
        stored = json.loads(path.read_text()).get("settings", {})
        if stored != settings:
            changed = sorted(key for key in set(stored) | set(settings)
                             if stored.get(key) != settings.get(key))
            raise InputError(f"{out} holds a scan with other settings ({', '.join(changed)}); "
                             f"give another --out, or delete {out} to scan again")
    write_json(path, {"settings": settings})


def result_path(out, tile_id):
    """Where a tile's result lives."""
    return Path(out) / RESULTS / f"{tile_id}.ecsv"


def finished_tiles(out):
    """Ids of the tiles whose result exists in ``out``."""
    folder = Path(out) / RESULTS
    return {path.stem for path in folder.glob("*.ecsv") if not path.name.startswith(".")}


def publish_once(path, table):
    """Write ``table`` (ECSV) to ``path`` unless ``path`` exists; True if this call wrote it.

    The table is written to a temporary name and hard-linked to ``path``; the link fails if
    ``path`` exists, so two writers can never both publish and no reader sees a partial file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
    try:
        table.write(tmp, format="ascii.ecsv", overwrite=True)
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def read_results(out, tiles):
    """The results of ``tiles`` that exist, in tile order: ``[(tile, Table), ...]``."""
    done = finished_tiles(out)
    return [(tile, Table.read(result_path(out, tile.id), format="ascii.ecsv"))
            for tile in tiles if tile.id in done]


def one_line(error):
    """An exception as one line: an InputError's message, else its type and first line."""
    text = (str(error).strip().splitlines() or [""])[0]
    if not isinstance(error, InputError):
        text = f"{type(error).__name__}: {text}"
    return text[:300]


# --- the scan ---------------------------------------------------------------------------------

@dataclass
class ScanReport:
    """What one run of :func:`run_tiles` did.

    Attributes
    ----------
    total : int
        Tiles of the scan.
    skipped : int
        Tiles finished before this run (or by a twin task during it).
    written : int
        Tile results this run wrote.
    failed : dict
        Tile id -> one-line reason, for the tiles still unfinished.
    seconds : float
        Wall time of the run.
    """

    total: int
    skipped: int = 0
    written: int = 0
    failed: dict = field(default_factory=dict)
    seconds: float = 0.0


def process_tile(job, tile, out):
    """The task run on a worker for one tile: ``(tile id, state, reason)``.

    ``state`` is ``written``, ``skipped`` (the result already exists) or ``failed`` (the job
    raised; ``reason`` says why in one line). The written table's ``meta`` records the tile,
    the worker process, the seconds the job took and how often this process built each of
    its cached objects (``worker_loads``: 1 when nothing was built twice).
    """
    path = result_path(out, tile.id)
    if path.exists():
        return tile.id, SKIPPED, ""
    start = time.perf_counter()
    try:
        table = job(tile)
    except Exception as error:  # any failure is this tile's: recorded, retried next run
        return tile.id, FAILED, one_line(error)
    table.meta.update({"tile": tile.id, "seconds": round(time.perf_counter() - start, 3),
                       "worker_pid": os.getpid(),
                       "worker_loads": max(_LOADS.values(), default=0)})
    return tile.id, (WRITTEN if publish_once(path, table) else SKIPPED), ""


def run_tiles(client, job, tiles, out, progress=True, log=print):
    """Run ``job`` on every unfinished tile of ``tiles`` through ``client`` (see module doc).

    Parameters
    ----------
    client : distributed.Client
    job : callable
        Picklable; ``job(tile) -> astropy.table.Table``, run on the workers.
    tiles : list
        Objects with ``id``, ``ra`` and ``dec`` (e.g. :class:`data_prep.base.sky_tiling.Tile`).
    out : path
        Scan folder: ``tiles/`` and ``failed_tiles.ecsv`` are written there.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    ScanReport
    """
    from distributed import as_completed
    from tqdm import tqdm

    start = time.perf_counter()
    out = Path(out)
    (out / RESULTS).mkdir(parents=True, exist_ok=True)
    done = finished_tiles(out)
    todo = [tile for tile in tiles if tile.id not in done]
    report = ScanReport(total=len(tiles), skipped=len(tiles) - len(todo))
    log(f"{len(tiles)} tiles: {report.skipped} finished before, {len(todo)} to do")
    queue = iter(todo)
    submitted = {}
    threads = sum(client.nthreads().values())

    def submit(tile):
        future = client.submit(process_tile, job, tile, str(out), pure=False,
                               key=f"tile-{tile.id}-{uuid.uuid4().hex[:8]}")
        submitted[future.key] = tile
        return future

    bar = tqdm(total=len(tiles), initial=report.skipped, unit="tile", desc="scan",
               file=sys.stderr, disable=not progress, dynamic_ncols=True)
    running = as_completed([submit(tile) for tile in islice(queue, max(64, 4 * threads))])
    try:
        for future in running:
            tile = submitted.pop(future.key)
            try:
                _, state, reason = future.result()
            except Exception as error:  # e.g. KilledWorker: its workers kept dying
                state, reason = FAILED, one_line(error)
            if state == FAILED:
                report.failed[tile.id] = reason
                bar.set_postfix(failed=len(report.failed))
            elif state == WRITTEN:
                report.written += 1
            else:
                report.skipped += 1
            bar.update(1)
            following = next(queue, None)
            if following is not None:
                running.add(submit(following))
    finally:
        bar.close()
        write_failed_tiles(out, tiles, report.failed)
        report.seconds = time.perf_counter() - start
    return report


def write_failed_tiles(out, tiles, failed):
    """``OUT/failed_tiles.ecsv``: tile, ra, dec (deg) and reason of each failed tile (no rows
    when none failed)."""
    rows = [tile for tile in tiles if tile.id in failed]
    table = Table({"tile": np.array([tile.id for tile in rows], dtype=str),
                   "ra": np.array([tile.ra for tile in rows], dtype=float),
                   "dec": np.array([tile.dec for tile in rows], dtype=float),
                   "reason": np.array([failed[tile.id] for tile in rows], dtype=str)})
    table["ra"].unit = table["dec"].unit = "deg"
    table.meta["note"] = "these tiles have no result yet; the next run of the scan retries them"
    write_table(Path(out) / FAILED_TILES, table)


def scan(job, tiles, out, options, progress=True, log=print):
    """Start the cluster of ``options`` (unless every tile is finished) and :func:`run_tiles`."""
    if not {tile.id for tile in tiles} - finished_tiles(out):
        log(f"all {len(tiles)} tiles finished before; nothing to run")
        write_failed_tiles(out, tiles, {})
        return ScanReport(total=len(tiles), skipped=len(tiles))
    with dask_client(options, log) as client:
        return run_tiles(client, job, tiles, out, progress, log)
