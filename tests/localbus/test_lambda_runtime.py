"""localbus.lambda_runtime: real handlers, run in-process, each in its own warm container."""

from __future__ import annotations

import json
import os
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from localbus.assembly import CloudAssembly
from localbus.aws_backend import AwsBackend
from localbus.intrinsics import Resolver
from localbus.lambda_runtime import FunctionError, LambdaRuntime, specs_from_template
from localbus.reporting import Reporter

FIXTURES = Path(__file__).parent / "fixtures" / "runtime"
STACK = "Fixture-test"


@pytest.fixture
def assembly() -> Iterator[CloudAssembly]:
    with CloudAssembly.from_template(FIXTURES / "template.json", stack_name=STACK) as loaded:
        yield loaded


@pytest.fixture
def resolver(assembly: CloudAssembly) -> Resolver:
    stack = assembly.stack()
    return Resolver(stack.template, stack_name=stack.name, reporter=Reporter())


@pytest.fixture
def specs(assembly: CloudAssembly, resolver: Resolver) -> dict[str, Any]:
    stack = assembly.stack()
    return specs_from_template(stack.template, resolver, assembly, stack)


@pytest.fixture
def backend(assembly: CloudAssembly, resolver: Resolver) -> Iterator[AwsBackend]:
    with AwsBackend(assembly.stack().template, resolver) as started:
        yield started


@pytest.fixture
def runtime(specs: dict[str, Any], backend: AwsBackend, resolver: Resolver) -> LambdaRuntime:
    return LambdaRuntime(specs, backend, reporter=resolver.reporter)


# ---- specs from the template -------------------------------------------------------------------


def test_specs_resolve_names_environment_and_settings(specs: dict[str, Any], resolver: Resolver):
    # Given the fixture template  When its functions are read
    alpha, publisher = specs["CounterA"], specs["Publisher"]

    # Then names, ARNs and settings are the template's, resolved
    assert alpha.name == resolver.physical_id("CounterA")
    assert alpha.arn == f"arn:aws:lambda:eu-west-1:123456789012:function:{alpha.name}"
    assert alpha.handler == "app.handler"
    assert alpha.asset_dir == FIXTURES / "alpha"
    assert (alpha.timeout_s, alpha.memory_mb) == (3, 128)
    assert (publisher.timeout_s, publisher.memory_mb) == (10, 256)
    # And environment values are resolved; a Fn::If to AWS::NoValue removes the variable
    assert alpha.environment == {
        "GREETING": "alpha",
        "ONLY_A": "yes",
        "EVENT_BUS_NAME": "orders-test",
        "TABLE_NAME": resolver.physical_id("Table"),
    }


def test_specs_skip_other_runtimes_and_note_layers(specs: dict[str, Any], resolver: Resolver):
    # Given a Node.js function and a Python function with a layer  When specs are read
    messages = resolver.reporter.messages()

    # Then the Node.js function is reported, not silently dropped
    assert "NodeFunction" not in specs
    assert any("Resources.NodeFunction" in m and "nodejs20.x" in m for m in messages)
    # And the layer is noted as ignored; the function itself still runs
    assert specs["Publisher"].layers and specs["Publisher"].layers[0].startswith("arn:aws:lambda:")
    assert any("Resources.Publisher.Properties.Layers" in m for m in messages)
    # And inline code gets a folder of its own holding index.py
    assert (specs["Inline"].asset_dir / "index.py").read_text().startswith("def handler")


def test_a_function_that_cannot_be_resolved_is_reported_and_left_out(tmp_path: Path):
    # Given a template whose second function is named after another stack's export
    def inline(**extra: Any) -> dict[str, Any]:
        code = {"ZipFile": "def handler(e, c):\n    return 1\n"}
        properties = {"Handler": "index.handler", "Runtime": "python3.12", "Code": code}
        return {"Type": "AWS::Lambda::Function", "Properties": {**properties, **extra}}

    template = {
        "Resources": {
            "Fine": inline(),
            "Imported": inline(FunctionName={"Fn::ImportValue": "SharedName"}),
        }
    }
    path = tmp_path / "Partial.template.json"
    path.write_text(json.dumps(template))
    reporter = Reporter()

    # When its specs are read
    with CloudAssembly.from_template(path, reporter=reporter) as loaded:
        resolver = Resolver(template, stack_name="Partial", reporter=reporter)
        specs = specs_from_template(template, resolver, loaded)

    # Then the resolvable function is kept and the other one is reported, not half-built
    assert list(specs) == ["Fine"]
    assert any("Fn::ImportValue" in m and "Resources.Imported" in m for m in reporter.messages())


SCHEMA_CODE = """
import fastjsonschema

SCHEMA = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}
KEPT = []  # alive, so that two validators can never share an id


def handler(event, context):
    validate = fastjsonschema.compile(SCHEMA, use_default=False)
    KEPT.append(validate)
    validate(event)
    return id(validate)
"""


@contextmanager
def two_inline_functions(tmp_path: Path, stack: str, code: str) -> Iterator[LambdaRuntime]:
    """A runtime for a stack of two functions, First and Second, with the same inline code."""
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Handler": "index.handler",
            "Runtime": "python3.12",
            "Code": {"ZipFile": code},
        },
    }
    template = {"Resources": {"First": function, "Second": function}}
    path = tmp_path / f"{stack}.template.json"
    path.write_text(json.dumps(template))
    with CloudAssembly.from_template(path) as loaded:
        resolver = Resolver(template, stack_name=stack)
        yield LambdaRuntime(specs_from_template(template, resolver, loaded))


def test_functions_share_compiled_schemas_and_validate_as_before(tmp_path: Path):
    # Given two functions that compile the same JSON Schema with fastjsonschema
    import fastjsonschema

    compile_ = fastjsonschema.compile
    with two_inline_functions(tmp_path, "Schemas", SCHEMA_CODE) as runtime:
        # When each validates an event
        first, second = runtime.invoke("First", {"n": 1}), runtime.invoke("Second", {"n": 2})

        # Then both use one compiled validator, which still rejects what breaks the schema
        assert first == second
        with pytest.raises(FunctionError) as rejected:
            runtime.invoke("Second", {"n": "one"})
        assert rejected.value.error_type == "JsonSchemaValueException"
    # And outside an invocation fastjsonschema is its own
    assert fastjsonschema.compile is compile_


FORMATS_CODE = """
import fastjsonschema

SCHEMA = {"type": "object", "properties": {"n": {"type": "string", "format": "even"}}}
CHECKED = []  # what this function's own format function saw
KEPT = []  # alive, so that two validators can never share an id


def even(value):
    CHECKED.append(value)
    return int(value) % 2 == 0


def handler(event, context):
    validate = fastjsonschema.compile(SCHEMA, formats={"even": even}, use_default=False)
    KEPT.append(validate)
    try:
        validate(event)
    except fastjsonschema.JsonSchemaValueException as error:
        return {"rejected": error.rule, "checked": CHECKED}
    return {
        "generated": id(validate.func),
        "own_formats": validate.keywords["custom_formats"]["even"] is even,
        "checked": CHECKED,
    }
"""


def test_functions_share_schemas_compiled_with_their_own_formats(tmp_path: Path):
    # Given two functions compiling one schema with a custom format function of their own
    with two_inline_functions(tmp_path, "Formats", FORMATS_CODE) as runtime:
        # When each validates events
        first = runtime.invoke("First", {"n": "2"})
        second = runtime.invoke("Second", {"n": "4"})
        rejected = runtime.invoke("Second", {"n": "3"})

    # Then the generated validator is compiled once and shared
    assert first["generated"] == second["generated"]
    # And each function's validator calls its own format function, as fastjsonschema binds it
    assert first["own_formats"] and second["own_formats"]
    assert (first["checked"], second["checked"]) == (["2"], ["4"])
    assert rejected == {"rejected": "format", "checked": ["4", "3"]}


# ---- isolation and warm containers -------------------------------------------------------------


def test_functions_get_their_own_modules_and_environment(runtime: LambdaRuntime):
    # Given two functions whose code both has a module `shared` with a module-level counter
    # When they are invoked interleaved
    first_a = runtime.invoke("CounterA", {"n": 1})
    first_b = runtime.invoke("CounterB", {"n": 1})
    second_a = runtime.invoke("CounterA", {"n": 2})
    second_b = runtime.invoke("CounterB", {"n": 2})

    # Then each sees its own `shared` module, whose state survives between its invocations
    assert (first_a["origin"], first_a["count"], second_a["count"]) == ("alpha", 1, 2)
    assert (first_b["origin"], first_b["count"], second_b["count"]) == ("beta", 1, 2)
    # And only its own environment variables
    assert (first_a["greeting"], first_a["only_a"], first_a["only_b"]) == ("alpha", "yes", None)
    assert (first_b["greeting"], first_b["only_a"], first_b["only_b"]) == ("beta", None, "yes")
    # And what its code set in os.environ at init is still there when warm, and only for it
    assert second_b["set_at_init"] == "yes"
    assert "BETA_SET_AT_INIT" not in os.environ


def test_invocation_leaves_the_host_process_untouched(
    runtime: LambdaRuntime, monkeypatch: pytest.MonkeyPatch
):
    # Given the host has its own module named `shared` and an environment variable of its own
    host_shared = types.ModuleType("shared")
    monkeypatch.setitem(sys.modules, "shared", host_shared)
    monkeypatch.setenv("LOCALBUS_TEST_HOST_MARKER", "host")
    environ_before, path_before = dict(os.environ), list(sys.path)
    modules_before, cwd_before = dict(sys.modules), os.getcwd()

    # When a function is invoked
    result = runtime.invoke("CounterA", {"n": 1})

    # Then the function saw neither the host's module nor its variables
    assert result["origin"] == "alpha"
    assert result["host_marker"] is None
    assert result["code_first_on_path"] == result["cwd"] == str((FIXTURES / "alpha").absolute())
    # And the host gets back exactly its modules, environment and sys.path
    assert sys.modules["shared"] is host_shared
    assert sys.modules.get("app") is modules_before.get("app")  # the host's CDK app.py, if any
    assert dict(os.environ) == environ_before
    assert sys.path == path_before
    assert os.getcwd() == cwd_before


def test_host_modules_that_appear_between_invocations_stay_hidden_and_come_back(
    runtime: LambdaRuntime, monkeypatch: pytest.MonkeyPatch
):
    # Given a warm function, and then host modules named like its `shared` package appear
    assert runtime.invoke("CounterA", {"n": 1})["count"] == 1
    host_shared = types.ModuleType("shared")
    host_submodule = types.ModuleType("shared.extra")
    monkeypatch.setitem(sys.modules, "shared", host_shared)
    monkeypatch.setitem(sys.modules, "shared.extra", host_submodule)

    # When it is invoked again
    again = runtime.invoke("CounterA", {"n": 2})

    # Then it still uses its own `shared`, with its state, and sees no host submodule
    assert (again["origin"], again["count"]) == ("alpha", 2)
    assert again["own_shared_imported"] is True
    assert again["host_extra_visible"] is False
    # And the host's modules are back afterwards, then hidden again on the next invocation
    assert sys.modules["shared"] is host_shared
    assert sys.modules["shared.extra"] is host_submodule
    assert runtime.invoke("CounterA", {"n": 3})["count"] == 3
    assert sys.modules["shared"] is host_shared


def test_first_invocation_is_a_cold_start_later_ones_are_warm(runtime: LambdaRuntime):
    # Given a function never invoked  When it is invoked twice, reset, and invoked again
    runtime.invoke("CounterA", {})
    runtime.invoke("CounterA", {})
    runtime.reset("CounterA")
    after_reset = runtime.invoke("CounterA", {})

    # Then only the first and the one after the reset are cold starts, with fresh module state
    assert [record.cold_start for record in runtime.invocations] == [True, False, True]
    assert after_reset["count"] == 1


def test_warm_imports_the_handler_before_any_invocation(runtime: LambdaRuntime):
    # Given a function  When it is warmed (init only)
    runtime.warm("CounterB")

    # Then it is warm, and its first invocation is not a cold start
    assert runtime.is_warm("CounterB")
    runtime.invoke("CounterB", {})
    assert runtime.last_invocation is not None and not runtime.last_invocation.cold_start


def test_handler_gets_lambda_environment_and_context(runtime: LambdaRuntime, specs: dict[str, Any]):
    # Given a function  When it is invoked with a request id
    result = runtime.invoke("CounterA", {"n": 1}, request_id="req-1")

    # Then it sees the variables the Lambda runtime sets, fake credentials and no tracing
    spec = specs["CounterA"]
    assert result["function_name_env"] == spec.name
    assert (result["memory_env"], result["region_env"]) == ("128", "eu-west-1")
    assert result["trace_disabled"] == "true"
    # And the LoggingConfig's level and log group, as Lambda's advanced logging controls set them
    assert (result["log_level_env"], result["log_group_env"]) == ("WARN", "/custom/alpha")
    assert result["has_credentials"] is True
    # And a context like the Python runtime's (memory_limit_in_mb is a string there too)
    assert result["context"] == {
        "function_name": spec.name,
        "memory_limit_in_mb": "128",
        "log_group_name": "/custom/alpha",
        "invoked_function_arn": spec.arn,
        "aws_request_id": "req-1",
        "has_time_left": True,
    }


def test_event_and_result_make_a_json_round_trip(runtime: LambdaRuntime):
    # Given an event the handler mutates and a result holding a tuple
    event = {"n": 1}

    # When invoked
    result = runtime.invoke("CounterA", event)

    # Then the caller's event is untouched and the result is what JSON gives back
    assert event == {"n": 1}
    assert result["as_tuple"] == [1, 2]
    assert runtime.last_invocation is not None and runtime.last_invocation.event["mutated"]


def test_handler_output_is_kept_as_the_invocations_logs(
    runtime: LambdaRuntime, capsys: pytest.CaptureFixture[str]
):
    # Given a handler that prints  When invoked
    runtime.invoke("CounterA", {"n": 7})

    # Then the print is in the invocation's logs, not on the host's stdout
    assert runtime.last_invocation is not None
    assert "alpha handling 7" in runtime.last_invocation.logs
    assert "alpha handling" not in capsys.readouterr().out


def test_a_function_is_found_by_logical_id_name_or_arn(runtime: LambdaRuntime):
    # Given a function's spec
    spec = runtime.specs["Writer"]

    # When looked up by each identifier  Then the same spec comes back
    assert runtime.spec_for(spec.name) is spec
    assert runtime.spec_for(spec.arn) is spec
    assert runtime.spec_for(f"{spec.arn}:$LATEST") is spec
    with pytest.raises(KeyError):
        runtime.spec_for("nope")


# ---- failures ----------------------------------------------------------------------------------


def test_an_exception_becomes_a_function_error(runtime: LambdaRuntime):
    # Given a handler that raises  When invoked
    with pytest.raises(FunctionError) as raised:
        runtime.invoke("Failing", {"orderId": "ORD-1"}, request_id="req-9")

    # Then the error carries Lambda's errorType and errorMessage, and a stack trace
    error = raised.value
    assert (error.function, error.error_type) == ("Failing", "OrderRejectedError")
    assert error.message == "order ORD-1 rejected"
    assert any("failing.py" in line for line in error.stack_trace)
    assert error.payload["errorType"] == "OrderRejectedError"
    assert error.payload["requestId"] == "req-9"
    # And the runtime logged it, as Lambda does
    record = runtime.last_invocation
    assert record is not None and not record.succeeded
    assert "[ERROR] OrderRejectedError: order ORD-1 rejected" in record.logs


@pytest.mark.parametrize(
    ("function", "error_type", "message_part"),
    [
        ("Unmarshallable", "Runtime.MarshalError", "Unable to marshal response"),
        ("MissingHandler", "Runtime.HandlerNotFound", "Handler 'nope' missing on module"),
        ("BrokenImport", "Runtime.ImportModuleError", "Unable to import module 'broken'"),
        ("Exits", "Runtime.ExitError", "Runtime exited with error"),
    ],
)
def test_runtime_errors_use_lambdas_error_types(
    runtime: LambdaRuntime, function: str, error_type: str, message_part: str
):
    # Given a handler that cannot be loaded or answered  When invoked
    with pytest.raises(FunctionError) as raised:
        runtime.invoke(function, {})

    # Then the error type is the one the Python runtime reports
    assert raised.value.error_type == error_type
    assert message_part in raised.value.message


def test_a_failed_import_is_retried_on_the_next_invocation(runtime: LambdaRuntime):
    # Given a function whose module cannot be imported  When invoked twice
    for _ in range(2):
        with pytest.raises(FunctionError):
            runtime.invoke("BrokenImport", {})

    # Then both invocations were cold starts (nothing was cached)
    assert [record.cold_start for record in runtime.invocations] == [True, True]
    assert not runtime.is_warm("BrokenImport")


def test_invoking_from_another_thread_is_refused(runtime: LambdaRuntime):
    # Given a runtime created on this thread  When another thread invokes
    errors: list[BaseException] = []

    def invoke() -> None:
        try:
            runtime.invoke("CounterA", {})
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=invoke)
    worker.start()
    worker.join()

    # Then it is refused
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)


# ---- handlers calling AWS ----------------------------------------------------------------------


def test_put_events_from_a_handler_reaches_the_hook(runtime: LambdaRuntime, backend: AwsBackend):
    # Given the engine's hook on PutEvents
    received: list[list[dict[str, Any]]] = []

    def hook(entries: list[dict[str, Any]]) -> dict[str, Any]:
        received.append(entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "evt-1"}]}

    backend.set_put_events_hook(hook)

    # When a handler publishes through its module-level boto3 client, cold and then warm
    first = runtime.invoke("Publisher", {"orderId": "ORD-1"})
    second = runtime.invoke("Publisher", {"orderId": "ORD-2"})

    # Then each call reached the hook with the handler's entry, and the hook's answer came back
    assert [batch[0]["EventBusName"] for batch in received] == ["orders-test", "orders-test"]
    assert received[1][0]["Detail"] == '{"orderId": "ORD-2"}'
    assert first == second == {"failed": 0, "entries": [{"EventId": "evt-1"}]}


def test_a_hook_may_invoke_another_function_while_a_handler_runs(
    runtime: LambdaRuntime, backend: AwsBackend
):
    # Given a hook that synchronously invokes another function (an engine delivering at once)
    nested: list[Any] = []

    def hook(entries: list[dict[str, Any]]) -> dict[str, Any]:
        nested.append(runtime.invoke("CounterB", {"from": "hook"}))
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "evt-1"}]}

    backend.set_put_events_hook(hook)

    # When the publisher runs, and then the publisher and the nested function run again
    runtime.invoke("Publisher", {"orderId": "ORD-1"})
    runtime.invoke("Publisher", {"orderId": "ORD-2"})

    # Then the nested function ran in its own container, keeping its own state
    assert [(result["origin"], result["count"]) for result in nested] == [("beta", 1), ("beta", 2)]
    assert nested[0]["greeting"] == "beta"
    # And each invocation kept its own log
    assert [record.function for record in runtime.invocations] == [
        "CounterB",
        "Publisher",
        "CounterB",
        "Publisher",
    ]


def test_a_handler_writes_to_the_table_created_from_the_template(
    runtime: LambdaRuntime, backend: AwsBackend
):
    # Given the template's table in moto  When the writer handler runs
    runtime.invoke("Writer", {"pk": "ORDER#1", "total": 12.5})

    # Then the item is in the table
    assert backend.items("Table") == [{"pk": "ORDER#1", "sk": "v1", "total": 12.5}]


def test_an_inactive_backend_is_refused(specs: dict[str, Any], resolver: Resolver):
    # Given a backend that was never started
    backend = AwsBackend(resolver.template, resolver)

    # When a function is invoked through it  Then the runtime refuses
    with pytest.raises(RuntimeError, match="not active"):
        LambdaRuntime(specs, backend).invoke("CounterA", {})


# ---- the real app (needs app.py, stacks/ and lambdas/ from the other workers) -----------------


def test_real_app_functions_resolve_and_import(cloud_assembly_dir: Path):
    # Given the synthesized order-events app
    reporter = Reporter()
    loaded = CloudAssembly.load(cloud_assembly_dir, reporter=reporter)
    stack = loaded.stack()
    resolver = Resolver(stack.template, stack_name=stack.name, reporter=reporter)

    # When its functions are read
    specs = specs_from_template(stack.template, resolver, loaded, stack)

    # Then the three Python handlers are there with resolved environments
    handlers = sorted(spec.handler for spec in specs.values())
    assert handlers == [
        "audit.handler.handler",
        "inventory.handler.handler",
        "risk_scorer.handler.handler",
    ]
    by_handler = {spec.handler: spec for spec in specs.values()}
    inventory = by_handler["inventory.handler.handler"].environment
    assert inventory["EVENT_BUS_NAME"] == "orders-dev"
    assert inventory["INVENTORY_TABLE_NAME"] == resolver.physical_id(
        resolver.logical_id_for(inventory["INVENTORY_TABLE_NAME"]) or ""
    )
    assert by_handler["audit.handler.handler"].environment["STAGE"] == "dev"
    for spec in specs.values():
        assert not any("unresolved" in value for value in spec.environment.values()), spec
    # And every handler module imports in its own container, with moto serving AWS
    with AwsBackend(stack.template, resolver) as backend:
        runtime = LambdaRuntime(specs, backend, reporter=reporter)
        for logical_id in specs:
            runtime.warm(logical_id)
            assert runtime.is_warm(logical_id)
    loaded.close()


def test_a_handler_that_runs_past_its_timeout_fails_as_lambda_reports_it(
    specs: dict[str, Any], backend: AwsBackend, resolver: Resolver
):
    # Given a clock on which every handler call takes an hour, and a function that counts calls
    ticks = iter(range(0, 10**6, 3600))
    runtime = LambdaRuntime(
        specs, backend, reporter=resolver.reporter, clock=lambda: float(next(ticks))
    )
    timeout = runtime.spec_for("CounterA").timeout_s

    # When it is invoked
    with pytest.raises(FunctionError) as raised:
        runtime.invoke("CounterA", {}, request_id="req-t")

    # Then the invocation failed with Lambda's timeout error, though the handler ran to its end
    assert raised.value.error_type == "Sandbox.Timedout"
    assert (
        raised.value.message
        == f"RequestId: req-t Error: Task timed out after {timeout:.2f} seconds"
    )
    record = runtime.last_invocation
    assert record is not None and record.exceeded_timeout and "Task timed out" in record.logs
    # And Lambda replaced the environment: the next call is a cold start with fresh module state
    with pytest.raises(FunctionError):
        runtime.invoke("CounterA", {})
    assert [r.cold_start for r in runtime.invocations] == [True, True]


def test_a_handler_within_its_timeout_succeeds_and_stays_warm(
    specs: dict[str, Any], backend: AwsBackend, resolver: Resolver
):
    # Given a real clock and a function whose handler returns at once
    runtime = LambdaRuntime(specs, backend, reporter=resolver.reporter)

    # When it is invoked cold (its import is Lambda's init phase, not timed) and warm
    first = runtime.invoke("CounterA", {})
    second = runtime.invoke("CounterA", {})

    # Then both succeed, in one warm container
    assert (first["count"], second["count"]) == (1, 2)
    assert not any(record.exceeded_timeout for record in runtime.invocations)


def test_host_modules_replaced_or_removed_during_an_invocation_come_back(
    runtime: LambdaRuntime, monkeypatch: pytest.MonkeyPatch
):
    # Given host modules, and something inside the invocation that replaces one and removes
    # another from sys.modules (stand-in for handler code doing so)
    replaced, removed = types.ModuleType("host_replaced"), types.ModuleType("host_removed")
    monkeypatch.setitem(sys.modules, "host_replaced", replaced)
    monkeypatch.setitem(sys.modules, "host_removed", removed)
    share = runtime._schemas.share

    def share_and_meddle() -> Any:
        sys.modules["host_replaced"] = types.ModuleType("host_replaced")
        del sys.modules["host_removed"]
        return share()

    monkeypatch.setattr(runtime._schemas, "share", share_and_meddle)
    modules_before = dict(sys.modules)

    # When a function is invoked
    assert runtime.invoke("CounterA", {"n": 1})["origin"] == "alpha"

    # Then the host has exactly its modules back, the same objects
    assert sys.modules["host_replaced"] is replaced
    assert sys.modules["host_removed"] is removed
    assert all(sys.modules.get(name) is module for name, module in modules_before.items())
