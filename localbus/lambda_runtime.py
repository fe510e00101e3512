"""Run a template's real Python Lambda handlers in-process, one isolated "container" per function.

Each function gets what its Lambda execution environment would give it: its own environment
variables (the template's, resolved, plus the variables the Lambda runtime sets and fake
credentials), its code folder first on sys.path, its own copy of its modules (a `shared` package
in two functions is two separate modules), a LambdaContext, and a JSON round trip of the event
and of the result, run with the code folder as working directory. The first invocation imports
the handler (cold start); later ones reuse it (warm), module state and whatever the code set in
os.environ included, until `reset()`. An exception in the handler becomes `FunctionError` with
Lambda's errorType / errorMessage (Runtime.ImportModuleError, Runtime.HandlerNotFound,
Runtime.MarshalError... for the runtime's own failures); stdout and stderr of each invocation are
kept as its logs in an `InvocationRecord` (the last `keep_invocations` are kept), and so are
`logging` records: as Lambda's runtime does, the root logger has a handler writing
`[LEVEL] time request-id message` (JSON objects with LogFormat JSON), at Python's default
WARNING level unless the code sets another or LoggingConfig has LogFormat JSON with an
ApplicationLogLevel. Each container keeps its own root logger level and handlers.

Limits, by design of an in-process emulator:
- Timeouts are enforced after the fact: a handler cannot be stopped mid-call, so one that runs
  past its Timeout finishes, but its invocation fails as Lambda's does (`Sandbox.Timedout`,
  "Task timed out after N.00 seconds"; the record says `exceeded_timeout`) and the container is
  discarded, so the next invocation is a cold start. Only the handler call counts: module
  import (Lambda's init phase) does not. `get_remaining_time_in_millis` counts real time.
  Memory limits are not enforced.
- Layers are not loaded: their packages must be installed in the local virtualenv.
- Only Python runtimes run; other runtimes and container images are reported and skipped.
- Third-party packages are shared between functions (as if from a common layer), except those
  in `isolated_packages` (default: Powertools, which keeps per-container state such as its
  cold-start flag and metric set); each function imports its own copy of those.
- Payload size limits (6 MB synchronous, 256 KB asynchronous) are not checked here.
- X-Ray is off (POWERTOOLS_TRACE_DISABLED=true, no trace header): there is no daemon locally.
- A JSON Schema compiled with fastjsonschema (as Powertools and these handlers validate) is
  compiled once for all functions: a function validating a schema another one compiled gets
  the same (pure) validator instead of spending a cold start compiling it again (with custom
  formats, the same generated validator bound to that function's own format functions).
- One container per function: invoking a function from inside its own invocation (recursion
  through a synchronous hook) is refused instead of starting a second container.
- Single-threaded: invoke only from the thread that created the runtime.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from operator import is_
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localbus.assembly import AssetNotFoundError, CloudAssembly, StackArtifact
from localbus.intrinsics import DEFAULT_REGION, Resolver
from localbus.reporting import Reporter, UnsupportedError

if TYPE_CHECKING:
    from localbus.aws_backend import AwsBackend

DEFAULT_TIMEOUT_S = 3
TIMED_OUT = "Sandbox.Timedout"  # the errorType Lambda reports for a timeout
DEFAULT_MEMORY_MB = 128
DEFAULT_ISOLATED_PACKAGES = ("aws_lambda_powertools",)

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass(frozen=True)
class FunctionSpec:
    """What the template says about one AWS::Lambda::Function, resolved."""

    logical_id: str
    name: str
    handler: str  # "package.module.function"
    asset_dir: Path
    environment: dict[str, str] = field(default_factory=dict)
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    arn: str = ""
    runtime: str = "python3.12"
    layers: tuple[str, ...] = ()
    log_group: str = ""  # LoggingConfig.LogGroup, else /aws/lambda/<name>
    log_format: str = "Text"  # LoggingConfig.LogFormat: Text | JSON
    application_log_level: str = ""  # LoggingConfig.ApplicationLogLevel (JSON format only)

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"


class FunctionError(Exception):
    """The handler failed: Lambda's "Unhandled" function error (or a Runtime.* error)."""

    def __init__(
        self,
        function: str,
        error_type: str,
        message: str,
        *,
        stack_trace: list[str] | None = None,
        request_id: str = "",
    ) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function = function
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []
        self.request_id = request_id

    @property
    def payload(self) -> dict[str, Any]:
        """The error document Lambda returns (what an on-failure destination receives)."""
        return {
            "errorMessage": self.message,
            "errorType": self.error_type,
            "requestId": self.request_id,
            "stackTrace": self.stack_trace,
        }


@dataclass
class InvocationRecord:
    """One invocation: what went in, what came out, what the handler printed."""

    function: str  # logical id
    request_id: str
    cold_start: bool
    event: Any
    result: Any = None
    error: FunctionError | None = None
    logs: str = ""
    duration_ms: float = 0.0
    exceeded_timeout: bool = False

    @property
    def succeeded(self) -> bool:
        return self.error is None


class LambdaContext:
    """The context object the Python runtime passes to a handler."""

    def __init__(self, spec: FunctionSpec, request_id: str, log_stream: str) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        # The real runtime reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE: a string.
        self.memory_limit_in_mb = str(spec.memory_mb)
        self.aws_request_id = request_id
        self.log_group_name = spec.log_group_name
        self.log_stream_name = log_stream
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + spec.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _OutputRouter(io.TextIOBase):
    """Stands in for sys.stdout / sys.stderr; writes go to the running invocation's log.

    Loggers created during a cold start keep a reference to the stream they saw (Powertools'
    Logger does), so one router object lives for the whole process and switches buffers.
    """

    def __init__(self, original: Callable[[], Any]) -> None:
        self._original = original

    def write(self, text: str) -> int:
        if _LOG_BUFFERS:
            _LOG_BUFFERS[-1].append(text)
        else:
            stream = self._original()
            (stream if stream is not self else sys.__stdout__).write(text)
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


_LOG_BUFFERS: list[list[str]] = []
_STDOUT = _OutputRouter(lambda: sys.stdout)
_STDERR = _OutputRouter(lambda: sys.stderr)
_LEVELS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "WARN": 30, "ERROR": 40, "FATAL": 50}


class _LambdaLogHandler(logging.Handler):
    """The handler Lambda's Python runtime puts on the root logger: each record goes to the
    invocation's log, as `[LEVEL]\t<time>Z\t<request id>\t<message>` (Text) or as a JSON
    object with timestamp, level, message, logger and requestId (LogFormat JSON)."""

    def __init__(self, log_format: str) -> None:
        super().__init__()
        self.json = log_format == "JSON"
        self.request_id = ""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            stamp += f".{int(record.msecs):03d}Z"
            if self.json:
                text = json.dumps(
                    {
                        "timestamp": stamp,
                        "level": record.levelname,
                        "message": message,
                        "logger": record.name,
                        "requestId": self.request_id,
                    }
                )
            else:
                text = f"[{record.levelname}]\t{stamp}\t{self.request_id}\t{message}"
            _STDOUT.write(text + "\n")
        except Exception:  # logging must never break the handler
            self.handleError(record)


def _root_level(spec: FunctionSpec) -> int:
    """The root logger's level at a cold start: the function's ApplicationLogLevel with
    LogFormat JSON (Lambda's advanced logging controls), else Python's WARNING."""
    if spec.log_format == "JSON" and spec.application_log_level:
        return _LEVELS.get(spec.application_log_level.upper(), logging.INFO)
    return logging.WARNING


@dataclass
class _Container:
    """A function's warm execution environment: its modules and its loaded handler."""

    spec: FunctionSpec
    # Top-level module names that belong to this function: what its code folder holds (any
    # module imported from there has one of these names) and the isolated packages.
    scoped_names: frozenset[str]
    code_dir: str  # absolute: the working directory changes during invocations
    modules: dict[str, Any] = field(default_factory=dict)
    # sys.modules as this container last found it, and which of its names were scoped: the
    # next invocation only looks at the names imported since (sys.modules is long).
    host_modules: dict[str, Any] | None = None
    host_scoped: set[str] = field(default_factory=set)
    handler: Callable[[Any, Any], Any] | None = None
    log_stream: str = ""
    busy: bool = False
    # What the function's own code changed in os.environ / sys.path stays, as in a container.
    environ: dict[str, str] | None = None
    path: list[str] | None = None
    # The root logger as this container's code left it (Lambda's handler first).
    log_handler: _LambdaLogHandler | None = None
    root_handlers: list[logging.Handler] | None = None
    root_level: int = logging.WARNING


class LambdaRuntime:
    """Invokes the template's Python functions in-process, each in its own warm container."""

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        backend: AwsBackend | None = None,
        *,
        reporter: Reporter | None = None,
        isolated_packages: tuple[str, ...] = DEFAULT_ISOLATED_PACKAGES,
        keep_invocations: int | None = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.specs = dict(specs)
        self.clock = clock  # real seconds, for Timeout (a test may pass a fake one)
        self.backend = backend
        self.reporter = reporter if reporter is not None else Reporter()
        self.region = backend.region if backend is not None else DEFAULT_REGION
        self.isolated_packages = tuple(isolated_packages)
        self.invocations: deque[InvocationRecord] = deque(maxlen=keep_invocations)
        self._containers: dict[str, _Container] = {}
        self._owner_thread = threading.get_ident()
        self._schemas = _SharedSchemaCompiles(self.isolated_packages)

    # ---- lookup ------------------------------------------------------------------------------

    def spec_for(self, identifier: str) -> FunctionSpec:
        """The function whose logical id, name or ARN (qualified or not) is `identifier`."""
        if identifier in self.specs:
            return self.specs[identifier]
        unqualified = identifier.split(":function:", 1)[-1].split(":", 1)[0]
        for spec in self.specs.values():
            if identifier == spec.arn or unqualified == spec.name:
                return spec
        raise KeyError(f"no Python function {identifier!r} (known: {', '.join(self.specs)})")

    def is_warm(self, logical_id: str) -> bool:
        container = self._containers.get(logical_id)
        return container is not None and container.handler is not None

    def reset(self, logical_id: str | None = None) -> None:
        """Throw away warm containers (the next invocation is a cold start)."""
        if logical_id is None:
            self._containers.clear()
        else:
            self._containers.pop(logical_id, None)

    def warm(self, logical_id: str) -> str:
        """Run the function's init (import its handler) without invoking it; its init logs.

        Raises FunctionError when the import fails, as the first invocation would report it.
        """
        self._check_ready()
        spec = self.spec_for(logical_id)
        container = self._container(spec)
        if container.handler is not None:
            return ""
        buffer: list[str] = []
        with self._inside(container, buffer):
            handler, error = self._load_handler(spec, "init")
        if error is not None:
            raise error
        container.handler = handler
        return "".join(buffer)

    def close(self) -> None:
        """Forget every warm container and its modules."""
        self.reset()

    @property
    def last_invocation(self) -> InvocationRecord | None:
        return self.invocations[-1] if self.invocations else None

    # ---- invoking ----------------------------------------------------------------------------

    def invoke(self, logical_id: str, payload: Any, *, request_id: str | None = None) -> Any:
        """Run the function with `payload`; its JSON result, or FunctionError if it failed."""
        record = self.invoke_detailed(logical_id, payload, request_id=request_id)
        if record.error is not None:
            raise record.error
        return record.result

    def invoke_detailed(
        self, logical_id: str, payload: Any, *, request_id: str | None = None
    ) -> InvocationRecord:
        """Run the function and return the whole record (never raises FunctionError)."""
        self._check_ready()
        spec = self.spec_for(logical_id)
        container = self._container(spec)
        if container.busy:
            raise RuntimeError(f"{spec.logical_id} invoked while it is already running")
        request_id = request_id or str(uuid.uuid4())
        event = json.loads(json.dumps(payload))  # the handler gets its own copy, as in Lambda
        record = InvocationRecord(spec.logical_id, request_id, container.handler is None, event)
        buffer: list[str] = []
        started = time.perf_counter()
        container.busy = True
        try:
            with self._inside(container, buffer):
                assert container.log_handler is not None
                container.log_handler.request_id = request_id
                record.result, record.error = self._run(container, event, request_id)
        finally:
            container.busy = False
        record.duration_ms = (time.perf_counter() - started) * 1000
        record.exceeded_timeout = record.error is not None and record.error.error_type == TIMED_OUT
        record.logs = "".join(buffer)
        self.invocations.append(record)
        return record

    def _check_ready(self) -> None:
        # sys.modules, os.environ and sys.stdout are swapped per invocation: one thread only.
        if threading.get_ident() != self._owner_thread:
            raise RuntimeError("LambdaRuntime is single-threaded: invoke from its own thread")
        if self.backend is not None and not self.backend.active:
            raise RuntimeError("the AwsBackend given to LambdaRuntime is not active")

    def _container(self, spec: FunctionSpec) -> _Container:
        container = self._containers.get(spec.logical_id)
        if container is None:
            names = _top_level_names(spec.asset_dir) | set(self.isolated_packages)
            log_stream = time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex
            code_dir = os.path.abspath(spec.asset_dir)
            container = _Container(spec, frozenset(names), code_dir, log_stream=log_stream)
            self._containers[spec.logical_id] = container
        return container

    def _run(
        self, container: _Container, event: Any, request_id: str
    ) -> tuple[Any, FunctionError | None]:
        spec = container.spec
        if container.handler is None:
            handler, error = self._load_handler(spec, request_id)
            if error is not None:
                return None, error
            container.handler = handler
        context = LambdaContext(spec, request_id, container.log_stream)
        started = self.clock()
        try:
            result = container.handler(event, context)  # type: ignore[misc]
        except SystemExit as exit_:
            self._containers.pop(spec.logical_id, None)  # Lambda replaces the environment
            message = f"RequestId: {request_id} Error: Runtime exited with error: {exit_.code}"
            return None, self._failure(spec, "Runtime.ExitError", message, request_id)
        except Exception as error:
            if self._timed_out(started, spec):
                return None, self._timeout(container, request_id)
            return None, self._exception(spec, error, request_id)
        if self._timed_out(started, spec):
            return None, self._timeout(container, request_id)
        try:
            return json.loads(json.dumps(result)), None
        except (TypeError, ValueError) as error:
            message = f"Unable to marshal response: {error}"
            return None, self._failure(spec, "Runtime.MarshalError", message, request_id)

    def _load_handler(
        self, spec: FunctionSpec, request_id: str
    ) -> tuple[Callable[[Any, Any], Any] | None, FunctionError | None]:
        """Import the handler as the Python runtime does, with its error types."""
        module_name, _, function_name = spec.handler.replace("/", ".").rpartition(".")
        if not module_name:
            message = f"Bad handler '{spec.handler}': not enough values to unpack"
            return None, self._failure(spec, "Runtime.MalformedHandlerName", message, request_id)
        try:
            module = import_module(module_name)
        except ImportError as error:
            message = f"Unable to import module '{module_name}': {error}"
            return None, self._failure(spec, "Runtime.ImportModuleError", message, request_id)
        except SyntaxError as error:
            message = f"Syntax error in module '{module_name}': {error}"
            return None, self._failure(spec, "Runtime.UserCodeSyntaxError", message, request_id)
        except Exception as error:  # an exception raised while the module initialises
            return None, self._exception(spec, error, request_id)
        handler = getattr(module, function_name, None)
        if not callable(handler):
            message = f"Handler '{function_name}' missing on module '{module_name}'"
            return None, self._failure(spec, "Runtime.HandlerNotFound", message, request_id)
        return handler, None

    def _timed_out(self, started: float, spec: FunctionSpec) -> bool:
        return self.clock() - started > spec.timeout_s

    def _timeout(self, container: _Container, request_id: str) -> FunctionError:
        # Lambda stops the call and replaces the execution environment; the next call is cold.
        spec = container.spec
        self._containers.pop(spec.logical_id, None)
        seconds = f"{spec.timeout_s:.2f}"
        message = f"RequestId: {request_id} Error: Task timed out after {seconds} seconds"
        return self._failure(spec, TIMED_OUT, message, request_id)

    def _exception(self, spec: FunctionSpec, error: Exception, request_id: str) -> FunctionError:
        frames = traceback.extract_tb(error.__traceback__)
        stack = [line for line in traceback.format_list(frames) if __file__ not in line]
        return self._failure(spec, type(error).__name__, str(error), request_id, stack)

    def _failure(
        self,
        spec: FunctionSpec,
        error_type: str,
        message: str,
        request_id: str,
        stack: list[str] | None = None,
    ) -> FunctionError:
        # The runtime logs the error document, as Lambda does in CloudWatch Logs.
        print(f"[ERROR] {error_type}: {message}", file=sys.stderr)
        if stack:
            print("Traceback (most recent call last):\n" + "".join(stack), file=sys.stderr)
        return FunctionError(
            spec.logical_id, error_type, message, stack_trace=stack, request_id=request_id
        )

    # ---- isolation ---------------------------------------------------------------------------

    @contextmanager
    def _inside(self, container: _Container, buffer: list[str]) -> Iterator[None]:
        """Swap in the function's modules, environment, sys.path and log; swap them back out."""
        saved_modules = dict(sys.modules)
        saved_environ = dict(os.environ)
        saved_path = list(sys.path)
        saved_streams = (sys.stdout, sys.stderr)
        saved_bytecode = sys.dont_write_bytecode
        saved_cwd = os.getcwd()
        scoped = container.scoped_names
        hidden = _scoped_modules(saved_modules, scoped, container)
        for name in hidden:
            del sys.modules[name]  # hide the host's (or another function's) copy
        sys.modules.update(container.modules)
        if container.environ is None:
            container.environ = self._environment(container, saved_environ)
        _replace_environ(container.environ, saved_environ)
        asset_dir = container.code_dir
        if container.path is None:
            # Built from the host's path; other functions' code folders (nested calls) left out.
            code_dirs = {other.code_dir for other in self._containers.values()}
            container.path = [asset_dir, *(entry for entry in saved_path if entry not in code_dirs)]
        sys.path[:] = container.path
        sys.dont_write_bytecode = True  # never write __pycache__ into cdk.out's assets
        os.chdir(asset_dir)  # Lambda runs handlers from LAMBDA_TASK_ROOT
        _LOG_BUFFERS.append(buffer)
        sys.stdout, sys.stderr = _STDOUT, _STDERR
        root = logging.getLogger()
        saved_root = (root.level, list(root.handlers))
        if container.log_handler is None:
            container.log_handler = _LambdaLogHandler(container.spec.log_format)
            container.root_handlers = [container.log_handler]
            container.root_level = _root_level(container.spec)
        root.handlers[:] = container.root_handlers or []
        if root.level != container.root_level:  # setLevel clears every logger's cache
            root.setLevel(container.root_level)
        unshare_schemas = self._schemas.share()
        try:
            yield
        finally:
            unshare_schemas()
            # The function's logging setup stays with its container; the host gets its own back.
            container.root_level, container.root_handlers = root.level, list(root.handlers)
            if root.level != saved_root[0]:
                root.setLevel(saved_root[0])
            root.handlers[:] = saved_root[1]
            sys.stdout, sys.stderr = saved_streams
            _LOG_BUFFERS.pop()
            sys.dont_write_bytecode = saved_bytecode
            os.chdir(saved_cwd)
            container.path = list(sys.path)
            container.environ = dict(os.environ)
            sys.path[:] = saved_path
            _replace_environ(saved_environ, container.environ)
            # A module of this function is one imported since the swap-in or one of the names
            # hidden then (which includes the function's own modules swapped in).
            current = sys.modules
            container.modules = {
                name: current[name]
                for name in (current.keys() - saved_modules.keys()).union(hidden)
                if name in current
                and name.partition(".")[0] in scoped
                and saved_modules.get(name) is not current[name]
            }
            for name in container.modules:
                del sys.modules[name]
            # Put back every host module hidden or replaced; the identity check runs in C
            # (about a thousand modules on every invocation), the loop only when one differs.
            if not all(map(is_, map(sys.modules.get, saved_modules), saved_modules.values())):
                for name, module in saved_modules.items():
                    if sys.modules.get(name) is not module:
                        sys.modules[name] = module

    def _environment(self, container: _Container, host: Mapping[str, str]) -> dict[str, str]:
        spec = container.spec
        environment = {
            "PATH": host.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            **spec.environment,
            # Set by the Lambda runtime (a function cannot override these).
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": container.log_stream,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "LAMBDA_TASK_ROOT": container.code_dir,
            "_HANDLER": spec.handler,
            **_logging_variables(spec),
            **_FAKE_CREDENTIALS,
            # Local-only: no X-Ray daemon, no instance metadata, no developer's ~/.aws files.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        # moto reads its own settings (account id...) from the environment during the call.
        environment.update({key: value for key, value in host.items() if key.startswith("MOTO_")})
        return environment


class _SharedSchemaCompiles:
    """fastjsonschema.compile, once per schema and options for every function of a runtime.

    Compiling a large schema (enums of every currency and country) takes tens of ms, and each
    function would compile the same schemas again on its first invocation. The validator is a
    pure function of the schema and the options, so one compiled copy serves all. With custom
    formats, fastjsonschema's validator is its generated function with the caller's formats
    bound (`partial(func, custom_formats=formats)`): the generated function depends only on
    the formats' names (and a regex format's pattern), so it is shared and each caller gets
    its own binding of its own format functions, as fastjsonschema would give it. Installed
    only while a handler runs; calls with custom handlers (or positional options) are left
    alone.
    """

    MODULE = "fastjsonschema"

    def __init__(self, isolated_packages: tuple[str, ...]) -> None:
        self._usable = self.MODULE not in isolated_packages
        self._module: Any = None
        self._compile: Callable[..., Any] | None = None
        self._compiled: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}

    def share(self) -> Callable[[], None]:
        """Install the shared compile on fastjsonschema (if installed); returns the undo."""
        module = self._load()
        if module is None:
            return _nothing
        installed = module.compile
        module.compile = self._shared_compile

        def undo() -> None:
            module.compile = installed

        return undo

    def _load(self) -> Any:
        if self._usable and self._module is None:
            # Imported here, not at the handler's first `import fastjsonschema`, so that the
            # first function's compiles are shared too (it is a shared package either way).
            if importlib.util.find_spec(self.MODULE) is None:
                self._usable = False
                return None
            self._module = import_module(self.MODULE)
            self._compile = self._module.compile
        return self._module if self._usable else None

    def _shared_compile(self, definition: Any, *args: Any, **options: Any) -> Any:
        compile_ = self._compile
        assert compile_ is not None
        formats = options.get("formats")
        if args or options.get("handlers") or not isinstance(formats, Mapping | None):
            return compile_(definition, *args, **options)
        try:
            key = (
                json.dumps(definition, sort_keys=True),
                tuple(sorted((k, v) for k, v in options.items() if k != "formats")),
                _formats_key(formats),
            )
            hash(key)
        except (TypeError, ValueError):
            return compile_(definition, **options)
        if not formats:
            if key not in self._compiled:
                self._compiled[key] = compile_(definition, **options)
            return self._compiled[key]
        if key not in self._compiled:
            bound = compile_(definition, **options)
            if not isinstance(bound, functools.partial):  # not fastjsonschema's shape: alone
                return bound
            self._compiled[key] = bound.func
            return bound
        generated = self._compiled[key]
        # What fastjsonschema.compile returns with formats, bound to this caller's formats.
        return functools.update_wrapper(
            functools.partial(generated, custom_formats=formats), generated
        )


def _formats_key(formats: Mapping[str, Any] | None) -> tuple[tuple[str, str | None], ...]:
    """What the generated code takes from the custom formats: each name, and a regex format's
    pattern (compiled into the code); a callable is called through `custom_formats[name]`."""
    return tuple(
        sorted(
            (str(name), value if isinstance(value, str) else None)
            for name, value in (formats or {}).items()
        )
    )


def _nothing() -> None:
    return None


def specs_from_template(
    template: Mapping[str, Any],
    resolver: Resolver,
    assembly: CloudAssembly,
    stack: StackArtifact | str | None = None,
) -> dict[str, FunctionSpec]:
    """A FunctionSpec for every Python AWS::Lambda::Function of `template` that can run here.

    The others (other runtimes, container images, code not in the assembly, a name or setting
    that cannot be resolved) are reported to the resolver's Reporter and left out.
    """
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Lambda::Function" or not resolver.is_enabled(logical_id):
            continue
        try:
            specs[logical_id] = _function_spec(resolver, assembly, stack, logical_id)
        except UnsupportedError as error:
            resolver.reporter.report(error.located(f"Resources.{logical_id}"))
        except (AssetNotFoundError, TypeError, ValueError) as error:
            resolver.reporter.unsupported("Lambda function", f"Resources.{logical_id}", str(error))
    return specs


def _function_spec(
    resolver: Resolver,
    assembly: CloudAssembly,
    stack: StackArtifact | str | None,
    logical_id: str,
) -> FunctionSpec:
    properties = resolver.properties(logical_id, strict=False)
    runtime = str(properties.get("Runtime", ""))
    if properties.get("PackageType") == "Image":
        raise UnsupportedError("Lambda container image", "only zip-packaged Python code runs")
    if not runtime.startswith("python"):
        raise UnsupportedError(f"Lambda runtime {runtime or 'unknown'}", "only Python runs")
    return build_function_spec(resolver, assembly, stack, logical_id, properties)


def build_function_spec(
    resolver: Resolver,
    assembly: CloudAssembly,
    stack: StackArtifact | str | None,
    logical_id: str,
    properties: dict[str, Any],
) -> FunctionSpec:
    """The FunctionSpec of one function from its resolved properties, whatever its runtime
    (the in-process and the child-process runtimes both build theirs here)."""
    where = f"Resources.{logical_id}"
    layers = tuple(str(layer) for layer in properties.get("Layers") or [])
    if layers:
        resolver.reporter.note(
            "Lambda layers ignored",
            f"{where}.Properties.Layers",
            "their packages must be installed in the local virtualenv",
        )
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    logging_config = properties.get("LoggingConfig") or {}
    return FunctionSpec(
        logical_id=logical_id,
        name=resolver.physical_id(logical_id),
        handler=str(properties.get("Handler", "")),
        asset_dir=assembly.asset_dir(stack, logical_id),
        environment={key: _environment_text(value) for key, value in variables.items()},
        timeout_s=int(properties.get("Timeout", DEFAULT_TIMEOUT_S)),
        memory_mb=int(properties.get("MemorySize", DEFAULT_MEMORY_MB)),
        arn=resolver.arn(logical_id),
        runtime=str(properties.get("Runtime", "")),
        layers=layers,
        log_group=str(logging_config.get("LogGroup", "")),
        log_format=str(logging_config.get("LogFormat", "Text")),
        application_log_level=str(logging_config.get("ApplicationLogLevel", "")),
    )


def _logging_variables(spec: FunctionSpec) -> dict[str, str]:
    """What Lambda sets for advanced logging controls (Powertools reads the log level)."""
    if spec.log_format != "JSON":
        return {}
    variables = {"AWS_LAMBDA_LOG_FORMAT": "JSON"}
    if spec.application_log_level:
        variables["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
    return variables


def _scoped_modules(
    modules: dict[str, Any], scoped: frozenset[str], container: _Container
) -> set[str]:
    """Names in `modules` (a copy of sys.modules) whose top-level package is in `scoped`.

    Only the names that appeared since the container last looked, and the scoped ones it saw
    then, are examined; the first time, all of them.
    """
    previous = container.host_modules
    candidates = (
        modules.keys()
        if previous is None
        else container.host_scoped.union(modules.keys() - previous.keys())
    )
    found = {name for name in candidates if name in modules and name.partition(".")[0] in scoped}
    container.host_modules, container.host_scoped = modules, found
    return found


def _replace_environ(target: Mapping[str, str], current: Mapping[str, str]) -> None:
    """Make os.environ (equal to `current`) equal to `target`, touching only the keys that
    differ: each os.environ access encodes or decodes, each change calls putenv."""
    for key in current.keys() - target.keys():
        del os.environ[key]
    for key, value in target.items():
        if current.get(key) != value:
            os.environ[key] = value


def _environment_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _top_level_names(asset_dir: Path) -> set[str]:
    """Names `import` can find at the top of the asset folder (packages and modules)."""
    names = set()
    for entry in asset_dir.iterdir() if asset_dir.is_dir() else ():
        if entry.is_dir() and entry.name.isidentifier():
            names.add(entry.name)
        elif entry.suffix in (".py", ".so", ".pyd") and entry.name.split(".")[0].isidentifier():
            names.add(entry.name.split(".")[0])
    return names
