"""Evaluation workers: processes that are killed at the deadline, and replaced.

A thread or a ``ProcessPoolExecutor`` future that times out keeps running; so each job goes
to one of ``size`` long-lived worker processes over a pipe, and a worker that has not answered
by the deadline is killed (SIGKILL) and a fresh one takes its place. Workers are forked from a
*forkserver* that has already imported the engine, so a replacement is ready in milliseconds,
and each keeps its own cache of compiled packs.

    request ─▶ wait for an idle worker (503 ``server-busy`` if none frees up in time)
            ─▶ send the job ─▶ answer by the deadline? ─yes─▶ outcome
                                                        └─no──▶ kill, replace,
                                                                504 ``evaluation-timeout``
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import shutil
import signal
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, BinaryIO

import anyio.to_thread

from api.server import jobs
from api.server.problems import ApiProblem
from engine.api import configure_duckdb

_PRELOAD = ["api.server.jobs"]
#: results larger than this are sent from the worker to the client in chunks of this size
STREAM_CHUNK = 1024 * 1024


def bound_duckdb(max_bytes: int) -> None:
    """DuckDB would take a thread per core and 80 % of
    the machine: keep it inside the worker's limit."""
    configure_duckdb(threads=min(os.cpu_count() or 1, 4), memory_limit_bytes=max_bytes // 2)


def limit_memory(max_bytes: int) -> None:
    """Cap this process's writable memory (``RLIMIT_DATA``: heap and private mappings; unlike
    ``RLIMIT_AS`` it does not count address space that threads and allocators only reserve): an
    allocation past it fails with MemoryError (DuckDB: OutOfMemoryException) instead of growing
    until the machine swaps."""
    if max_bytes > 0:
        bound_duckdb(max_bytes)
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        cap = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))


def worker_main(
    conn: Connection, cache_size: int, scratch: str, memory_bytes: int = 0
) -> None:  # pragma: no cover - runs in the child
    """The loop of a worker process: receive a job, send its outcome, until the pipe closes.
    ``scratch`` is the worker's private directory, which the pool removes when it stops the
    worker — also when it kills it at a deadline, before the worker could clean up (raw records
    are evaluated in memory: nothing is written there today)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its workers itself
    limit_memory(memory_bytes)
    # a worker's compiled packs take at most a quarter of its memory
    cache = jobs.CompileCache(cache_size, memory_bytes // 4 if memory_bytes else 256 * 1024 * 1024)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        except MemoryError:  # the job itself does not fit: answer, then make way for a fresh worker
            conn.send(jobs.out_of_memory())
            return
        outcome = jobs.run(job, cache)
        body = outcome.get("body")
        if job.get("stream") and isinstance(body, bytes) and len(body) > STREAM_CHUNK:
            # a large result goes in chunks, so the server never holds it whole
            chunks = range(0, len(body), STREAM_CHUNK)
            conn.send({"stream": len(body), "chunks": len(chunks)})
            for start in chunks:
                conn.send_bytes(body[start : start + STREAM_CHUNK])
        else:
            conn.send(outcome)


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


class _Worker:
    def __init__(self, ctx: Any, cache_size: int, memory_bytes: int = 0) -> None:
        parent, child = ctx.Pipe()
        # private (0700), this worker's only
        self.scratch = Path(tempfile.mkdtemp(prefix="kpi-worker-"))
        # removed by stop(), or at the latest when this process exits without stopping its workers
        self._remove_scratch = weakref.finalize(
            self, shutil.rmtree, self.scratch, ignore_errors=True
        )
        self.proc = ctx.Process(
            target=worker_main,
            args=(child, cache_size, str(self.scratch), memory_bytes),
            daemon=True,
            name="kpi-eval-worker",
        )
        self.proc.start()
        child.close()
        self.conn: Connection = parent

    def call(self, job: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The outcome, or None if the deadline passed first.
        Raises OSError/EOFError if the worker died."""
        self.conn.send(job)
        if not self.conn.poll(max(timeout, 0.0)):
            return None
        outcome: dict[str, Any] = self.conn.recv()
        return outcome

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.proc.close()
        self.conn.close()
        self._remove_scratch()


def _spool(worker: _Worker, count: int, deadline: float) -> BinaryIO | None:
    """Read a streamed result's chunks from the worker into an unlinked temporary file, at pipe
    speed (the worker is free again at once, whatever the client's speed); None if the worker
    died or the deadline passed first."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - it outlives this function: the response closes it
    try:
        for _ in range(count):
            if not worker.conn.poll(max(deadline - time.monotonic(), 0.0)):
                spool.close()
                return None
            spool.write(worker.conn.recv_bytes())
    except (OSError, EOFError):
        spool.close()
        return None
    spool.seek(0)
    return spool


def file_chunks(spool: BinaryIO) -> Iterator[bytes]:
    """A spooled result in chunks, the file closed (and so removed) at the end or when the
    response is dropped."""
    with spool:
        while chunk := spool.read(STREAM_CHUNK):
            yield chunk


class WorkerPool:
    """``size`` worker processes; ``run`` hands a job to an idle one and enforces the deadline.

    The pool is thread-based (a ``queue.Queue`` of idle workers, waited on in a worker thread),
    so it serves any event loop: the server's, and each test client's.
    """

    def __init__(self, size: int, cache_size: int = 64, memory_bytes: int = 0) -> None:
        self.size = size
        self.cache_size = cache_size
        self.memory_bytes = memory_bytes
        self._ctx: Any = None
        self._idle: queue.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self.killed = 0  # workers killed at a deadline (for tests)
        # at most this many requests wait for or use a worker; the next one is told to come back
        # at once, so waiting evaluations cannot take every thread the read routes need
        self._admit = threading.BoundedSemaphore(size * 4)

    def start(self) -> None:
        """Start the workers (once; ``run`` starts them if needed)."""
        with self._lock:
            if self._idle is not None:
                return
            self._ctx = _context()
            self._idle = queue.Queue()
        for _ in range(self.size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        w = _Worker(self._ctx, self.cache_size, self.memory_bytes)
        with self._lock:
            self._all.add(w)
        return w

    async def run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The job's outcome; 503 if no worker frees up
        in time, 504 if the job is not done in time."""
        if not self._admit.acquire(blocking=False):
            raise ApiProblem(
                "server-busy",
                "every evaluation worker is busy and the queue is full; try again",
                headers={"Retry-After": "1"},
            )
        try:
            outcome: dict[str, Any] = await anyio.to_thread.run_sync(self._run, job, timeout)
        finally:
            self._admit.release()
        return outcome

    def _run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.start()
        idle = self._idle
        assert idle is not None
        deadline = time.monotonic() + timeout
        try:
            worker = idle.get(timeout=timeout)
        except queue.Empty:
            raise ApiProblem(
                "server-busy",
                f"every evaluation worker stayed busy for {timeout:g} s; try again",
                headers={"Retry-After": "1"},
            ) from None
        healthy = False
        try:
            outcome = worker.call(job, deadline - time.monotonic())
            if outcome is not None and "stream" in outcome:
                spool = _spool(worker, int(outcome["chunks"]), deadline)
                if spool is None:
                    outcome = None  # answered as a time-out below; the worker is replaced
                else:
                    healthy = True
                    return {"stream": outcome["stream"], "chunks": file_chunks(spool)}
            # a worker that ran out of memory answers, then is replaced (its heap may stay large)
            healthy = outcome is not None and not outcome.pop("recycle", False)
        except (OSError, EOFError):
            worker.proc.join(1)
            code = worker.proc.exitcode
            if (
                self.memory_bytes and code is not None and code < 0
            ):  # killed by a signal: most likely memory
                return jobs.problem(
                    "out-of-memory",
                    f"the evaluation worker was stopped by signal {-code}, most "
                    "likely at its memory limit: send fewer rows, ask for fewer metrics or "
                    "dimensions, or a coarser grain",
                )
            return jobs.problem(
                "internal-error", "the evaluation worker stopped unexpectedly; try again"
            )
        finally:
            self._give_back(worker, healthy)
        if outcome is None:
            raise ApiProblem(
                "evaluation-timeout",
                f"the work took longer than the limit of {timeout:g} s and was "
                "stopped; send fewer rows or ask for fewer metrics",
            )
        return outcome

    def _give_back(self, worker: _Worker, healthy: bool) -> None:
        """Return a worker to the idle queue; a worker
        that timed out or died is killed and replaced."""
        if not healthy:
            with self._lock:
                self._all.discard(worker)
                self.killed += 1
            worker.stop()
            if self._idle is None:
                return
            worker = self._spawn()
        idle = self._idle
        if idle is not None:
            idle.put(worker)
        else:
            worker.stop()

    def close(self) -> None:
        """Kill every worker (the server is stopping)."""
        with self._lock:
            workers = list(self._all)
            self._all.clear()
            self._idle = None
        for w in workers:
            w.stop()

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return sorted(w.proc.pid for w in self._all if w.proc.pid is not None)

    @property
    def alive(self) -> int:
        with self._lock:
            return sum(w.proc.is_alive() for w in self._all)
