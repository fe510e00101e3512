"""`localbus serve` (as `python -m localbus serve`) in a child process, for the serve tests.

The server runs in its own process on purpose: moto and the PutEvents hook are process-wide,
so a client in the test process must reach it over HTTP like any other client.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


@dataclass
class Served:
    process: subprocess.Popen[str]
    endpoint_url: str
    lines: list[str] = field(default_factory=list)

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.control("POST", f"advance?seconds={seconds}")

    def trace(self) -> list[dict[str, Any]]:
        return self.control("GET", "trace")

    def invocations(self) -> list[dict[str, Any]]:
        return self.control("GET", "invocations")

    def control(self, method: str, action: str) -> Any:
        request = urllib.request.Request(f"{self.endpoint_url}/_localbus/{action}", method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def raw(
        self, body: bytes, headers: dict[str, str], path: str = "/"
    ) -> tuple[int, dict[str, str], bytes]:
        """One raw HTTP POST: (status, headers, body), error statuses included."""
        request = urllib.request.Request(
            self.endpoint_url + path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint_url, region_name="eu-west-1")

    def aws(self, *args: str, cwd: Path = ROOT) -> Any:
        """The AWS CLI (awscli from requirements-dev) against this endpoint; its JSON answer."""
        completed = subprocess.run(
            [
                str(Path(sys.executable).with_name("aws")),
                "--endpoint-url",
                self.endpoint_url,
                "--region",
                "eu-west-1",
                "--output",
                "json",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=cwd,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
        )
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout) if completed.stdout.strip() else None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=30)


def start(template: Path, *extra: str) -> Served:
    """Start the server on a free port; returns once it says where it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "localbus", "serve", str(template), "--port", "0", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if " on http://" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(START_TIMEOUT_S) or process.poll() is not None:
        process.kill()
        raise RuntimeError("localbus serve did not start:\n" + "\n".join(lines))
    [banner] = [line for line in lines if " on http://" in line]
    url = banner.split(" on ", 1)[1].split()[0]
    return Served(process, url, lines)


def wait_for(condition: Any, timeout_s: float = 20.0) -> Any:
    """Poll `condition()` until it returns something truthy (the served clock is real time)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


__all__ = ["Served", "signal", "start", "wait_for"]
