"""A function's execution environment as a child process speaking the Lambda Runtime API.

The child (Node.js through bootstrap.mjs, or Python through python_bootstrap.py) imports the
handler once (init, the cold start) and then serves invocations until it is killed. What the
process prints is the invocation's log. A handler that runs past the function's Timeout is
killed at Timeout, as Lambda stops it, and the container is gone: the next call is cold.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from localbus.lambda_runtime import TIMED_OUT, FunctionSpec
from localbus.runtimes.runtime_api import Invocation, RuntimeApi

INIT_TIMEOUT_S = 10.0  # Lambda's limit for the init phase of an on-demand function
POLL_S = 0.002

# waiter(condition, timeout_s) -> whether condition() came true within timeout_s. The server
# passes one that keeps serving AWS calls meanwhile (the handler's own calls come back to it).
Waiter = Callable[[Callable[[], bool], float], bool]


def sleeping_waiter(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)
    return True


@dataclass
class Outcome:
    """What one invocation of a container came to."""

    result: Any = None
    error: dict[str, Any] | None = None  # Lambda's error document (errorType, errorMessage...)
    logs: str = ""
    timed_out: bool = False
    container_lost: bool = False  # the process is gone (timeout, crash): do not reuse it


class ProcessContainer:
    """One warm (or starting) execution environment of a function, as a child process."""

    def __init__(
        self,
        spec: FunctionSpec,
        command: Sequence[str],
        environment: Mapping[str, str],
        *,
        waiter: Waiter = sleeping_waiter,
    ) -> None:
        self.spec = spec
        self.waiter = waiter
        self.busy = False
        self.invocations = 0
        self._api = RuntimeApi()
        self._log: list[str] = []
        self._log_lock = threading.Lock()
        self._exited = threading.Event()
        env = {**environment, "AWS_LAMBDA_RUNTIME_API": self._api.address}
        self.process = subprocess.Popen(
            list(command),
            cwd=str(spec.asset_dir),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a timeout kills all it started
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and not self._exited.is_set()

    def invoke(self, payload: Any, request_id: str) -> Outcome:
        """Hand the event to the runtime and wait for its answer, at most Timeout seconds."""
        api = self._api
        self.invocations += 1
        if not api.ready.is_set():
            self.waiter(
                lambda: api.ready.is_set() or api.init_failed.is_set() or not self.alive,
                INIT_TIMEOUT_S,
            )
            if api.init_failed.is_set() or not api.ready.is_set():
                return self._init_failure(request_id)
        deadline = time.time() + self.spec.timeout_s
        invocation = Invocation(
            request_id,
            json.dumps(payload).encode(),
            int(deadline * 1000),
            self.spec.arn,
        )
        api.submit(invocation)
        finished = self.waiter(
            lambda: invocation.done.is_set() or not self.alive, float(self.spec.timeout_s)
        )
        if not finished:
            self.kill()
            seconds = f"{self.spec.timeout_s:.2f}"
            message = f"RequestId: {request_id} Error: Task timed out after {seconds} seconds"
            self._append(f"{_now()} {request_id} {message}\n")
            return Outcome(
                error={"errorType": TIMED_OUT, "errorMessage": message},
                logs=self._take_log(),
                timed_out=True,
                container_lost=True,
            )
        if not invocation.done.is_set():
            self.process.wait(timeout=5)
            self._reader.join(timeout=1)
            code = self.process.returncode
            message = (
                f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
            )
            return Outcome(
                error={"errorType": "Runtime.ExitError", "errorMessage": message},
                logs=self._take_log(),
                container_lost=True,
            )
        if invocation.error is not None:
            return Outcome(error=invocation.error, logs=self._take_log())
        try:
            result = json.loads(invocation.result or b"null")
        except ValueError:
            result = (invocation.result or b"").decode(errors="replace")
        return Outcome(result=result, logs=self._take_log())

    def kill(self) -> None:
        """Stop the process (and anything it started) now."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        self._api.close()

    def _init_failure(self, request_id: str) -> Outcome:
        error = self._api.init_error
        if error is None:
            if self.alive:
                message = f"RequestId: {request_id} Error: init did not finish in {INIT_TIMEOUT_S}s"
                error = {"errorType": "Runtime.InitError", "errorMessage": message}
            else:
                self.process.wait(timeout=5)
                self._reader.join(timeout=1)
                code = self.process.returncode
                error = {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                    f"exit status {code}",
                }
        self.kill()
        return Outcome(error=error, logs=self._take_log(), container_lost=True)

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            self._append(line.decode(errors="replace"))
        self._exited.set()

    def _append(self, text: str) -> None:
        with self._log_lock:
            self._log.append(text)

    def _take_log(self) -> str:
        # Output can trail the response by a moment: give the pipe a beat to drain.
        time.sleep(0.005)
        with self._log_lock:
            text, self._log = "".join(self._log), []
        return text


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
