"""The one thread that owns the LocalBus in serve mode, on the wall clock.

LocalBus, its in-process Lambda runtime and moto are single-threaded by design, so every HTTP
request becomes a task run on this thread (`call`). Between tasks the simulated clock follows
the wall clock (plus whatever /_localbus/advance added), so retries, backoffs and batching
windows fall due in real time. While a child-process handler runs, the thread keeps running
tasks (`wait`): the handler's own AWS calls come back to this server and must be answered.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class _Task:
    task: Callable[[], Any]
    future: Future[Any]
    top_level: bool = False


TICK_S = 0.05


class Engine:
    """Runs `build()` on its own thread, then tasks and clock ticks until stopped."""

    def __init__(self, build: Callable[[Engine], Any], *, tick_s: float = TICK_S) -> None:
        self._build = build
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._deferred: list[_Task] = []  # top-level tasks that arrived while a handler ran
        self._tick_s = tick_s
        self._stopping = threading.Event()
        self._ready: Future[Any] = Future()
        self._thread = threading.Thread(target=self._main, name="localbus-engine", daemon=True)
        self._ident: int | None = None
        self._depth = 0  # > 0 while a handler runs: the clock must not run re-entrantly
        self.bus: Any = None
        self.offset_s = 0.0  # simulated time = wall clock + offset
        self.after_each: list[Callable[[], None]] = []  # e.g. print the new trace steps

    def start(self) -> Any:
        """Start the thread and build the bus on it; returns the bus (or raises the error)."""
        self._thread.start()
        return self._ready.result()

    def stop(self) -> None:
        self._stopping.set()
        self._tasks.put(None)
        if threading.get_ident() != self._ident and self._thread.is_alive():
            self._thread.join(timeout=30)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopping.is_set()

    def call(
        self, task: Callable[[], T], timeout: float | None = None, *, top_level: bool = False
    ) -> T:
        """Run `task` on the engine thread and return its result (or raise its exception).

        A `top_level` task (one that moves the clock) waits until no handler is running; the
        others also run while a child-process handler runs (its own AWS calls among them)."""
        if threading.get_ident() == self._ident and not (top_level and self._depth):
            return task()
        if not self.running:
            raise RuntimeError("localbus is stopping")
        future: Future[T] = Future()
        self._tasks.put(_Task(task, future, top_level))
        return future.result(timeout=timeout)

    def wait(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """On the engine thread: keep serving tasks until condition() or timeout_s passes."""
        deadline = time.monotonic() + timeout_s
        self._depth += 1
        try:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._run_one(min(remaining, 0.002))
            return True
        finally:
            self._depth -= 1

    def now(self) -> float:
        """The simulated time serve mode runs on."""
        return time.time() + self.offset_s

    def advance(self, seconds: float) -> int:
        """Move the simulated clock `seconds` ahead of the wall clock and run what fell due."""
        self.offset_s += seconds
        return self.tick()

    def tick(self) -> int:
        if self.bus is None or self._depth:
            return 0
        steps = self.bus.clock.run_until(self.now())
        self._after()
        return int(steps)

    # ---- the thread --------------------------------------------------------------------------

    def _main(self) -> None:
        self._ident = threading.get_ident()
        try:
            self.bus = self._build(self)
        except BaseException as error:
            self._ready.set_exception(error)
            return
        self._ready.set_result(self.bus)
        next_tick = time.monotonic()
        while not self._stopping.is_set():
            while self._deferred:
                self._run(self._deferred.pop(0))
            now = time.monotonic()
            if now >= next_tick:
                self._guarded(self.tick)
                next_tick = now + self._tick_s
            self._run_one(max(0.0, next_tick - time.monotonic()))
        # Refuse what is still queued: the caller gets an answer, not a hang.
        while True:
            try:
                item = self._tasks.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item.future.set_exception(RuntimeError("localbus is stopping"))
        for item in self._deferred:
            item.future.set_exception(RuntimeError("localbus is stopping"))

    def _run_one(self, timeout: float) -> None:
        try:
            item = self._tasks.get(timeout=timeout)
        except queue.Empty:
            return
        if item is None:
            return
        if item.top_level and self._depth:
            self._deferred.append(item)  # after the running handler, not inside it
            return
        self._run(item)

    def _run(self, item: _Task) -> None:
        if not item.future.set_running_or_notify_cancel():
            return
        try:
            item.future.set_result(item.task())
        except BaseException as error:
            item.future.set_exception(error)
        self._after()

    def _after(self) -> None:
        for hook in self.after_each:
            self._guarded(hook)

    def _guarded(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception as error:  # one failing action must not stop the server
            print(f"localbus: {type(error).__name__}: {error}", flush=True)
