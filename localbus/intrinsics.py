"""Resolve a CloudFormation template's intrinsic functions the way a deployment would.

The resolver gives every resource the physical name, ARN, Ref and Fn::GetAtt values CloudFormation
would give it in one fixed local account and region, so the engine can wire rules, queues, topics,
pipes and functions together from the template alone. Explicit name properties are honoured;
unnamed resources get deterministic CloudFormation-like names `<stack>-<LogicalId>-<HASH>`.

Anything that only exists at deploy time (Fn::ImportValue, custom resource attributes, Fn::Cidr,
unknown resource types' attributes) raises `UnsupportedError` and is reported once to the Reporter;
`resolve(..., strict=False)` puts an `Unresolved` placeholder string there instead.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from localbus.reporting import Reporter, UnsupportedError

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "Reporter",
    "Resolver",
    "Unresolved",
    "UnsupportedError",
]

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "eu-west-1"


class Unresolved(str):
    """Placeholder for a value that could not be resolved (the cause is in the Reporter)."""

    __slots__ = ()


class _NoValue:
    """Ref AWS::NoValue: the property is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


_NO_VALUE = _NoValue()

# Property that carries an explicit physical name, per resource type.
NAME_PROPERTY: dict[str, str] = {
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Events::Archive": "ArchiveName",
    "AWS::Events::Connection": "Name",
    "AWS::Events::ApiDestination": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::Pipes::Pipe": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::EventSchemas::Registry": "RegistryName",
    "AWS::EventSchemas::Schema": "SchemaName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::S3::Bucket": "BucketName",
}

# Longest name AWS accepts; generated names are shortened to fit, as CloudFormation does.
_MAX_NAME_LENGTH: dict[str, int] = {
    "AWS::Events::EventBus": 256,
    "AWS::Events::Rule": 64,
    "AWS::Events::Archive": 48,
    "AWS::SQS::Queue": 80,
    "AWS::SNS::Topic": 256,
    "AWS::Lambda::Function": 64,
    "AWS::DynamoDB::Table": 255,
    "AWS::DynamoDB::GlobalTable": 255,
    "AWS::Pipes::Pipe": 64,
    "AWS::IAM::Role": 64,
    "AWS::IAM::Policy": 128,
    "AWS::IAM::ManagedPolicy": 128,
    "AWS::Logs::LogGroup": 512,
    "AWS::CloudWatch::Alarm": 255,
    "AWS::EventSchemas::Registry": 64,
    "AWS::EventSchemas::Schema": 385,
    "AWS::S3::Bucket": 63,
}

# Types whose Ref is an identifier CloudFormation makes up (no name, no ARN worth modelling).
_GENERATED_ID_TYPES = frozenset(
    {
        "AWS::Events::EventBusPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::IAM::Policy",
        "AWS::CDK::Metadata",
    }
)

_UUID_NAMESPACE = uuid.UUID("6f1b6a1e-8f9e-4b5e-9d6e-2f3c1d0a7b42")


def _partition_for(region: str) -> tuple[str, str]:
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


class Resolver:
    """Resolves one stack template's intrinsics, names and ARNs in a fixed account and region."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        region: str = DEFAULT_REGION,
        stack_name: str = "LocalStack",
        parameters: Mapping[str, Any] | None = None,
        reporter: Reporter | None = None,
    ) -> None:
        self.template = template
        self.account_id = account_id
        self.region = region
        self.partition, self.url_suffix = _partition_for(region)
        self.stack_name = stack_name
        self.reporter = reporter if reporter is not None else Reporter()
        self._parameter_overrides = dict(parameters or {})
        self._resources: dict[str, dict[str, Any]] = dict(template.get("Resources") or {})
        self._conditions: dict[str, bool] = {}
        self._evaluating_conditions: set[str] = set()
        self._names: dict[str, str] = {}
        self._naming: set[str] = set()
        self._by_identifier: dict[str, str] | None = None
        self._report_template_level_features()

    # ---- resources ---------------------------------------------------------------------------

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Every resource in the template, enabled or not (see `is_enabled`)."""
        return self._resources

    def resource(self, logical_id: str) -> dict[str, Any]:
        try:
            return self._resources[logical_id]
        except KeyError:
            raise KeyError(f"no resource {logical_id!r} in the template") from None

    def resource_type(self, logical_id: str) -> str:
        return str(self.resource(logical_id).get("Type", ""))

    def is_enabled(self, logical_id: str) -> bool:
        """False when the resource has a Condition that evaluates to false (it is not created)."""
        condition = self.resource(logical_id).get("Condition")
        return True if condition is None else self.condition(condition)

    def resources_of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """Enabled resources of the given types, in template order."""
        return {
            logical_id: resource
            for logical_id, resource in self._resources.items()
            if resource.get("Type") in types and self.is_enabled(logical_id)
        }

    def properties(self, logical_id: str, *, strict: bool = False) -> dict[str, Any]:
        """The resource's Properties with every intrinsic resolved (a deep copy)."""
        raw = self.resource(logical_id).get("Properties") or {}
        resolved = self.resolve(raw, where=f"Resources.{logical_id}.Properties", strict=strict)
        return resolved if isinstance(resolved, dict) else {}

    # ---- conditions --------------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        """Evaluate a named condition from the Conditions section (cached)."""
        if name in self._conditions:
            return self._conditions[name]
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise UnsupportedError("Condition", f"no condition named {name!r}")
        if name in self._evaluating_conditions:
            raise UnsupportedError("Condition", f"{name!r} refers to itself")
        self._evaluating_conditions.add(name)
        try:
            value = self._eval_condition(conditions[name], f"Conditions.{name}")
        except UnsupportedError as error:
            self.reporter.report(error.located(f"Conditions.{name}"))
            raise
        finally:
            self._evaluating_conditions.discard(name)
        self._conditions[name] = value
        return value

    def _eval_condition(self, value: Any, where: str) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (self._eval(v, where) for v in arg)
                return _comparable(left) == _comparable(right)
            if key == "Fn::Not":
                return not self._eval_condition(arg[0], where)
            if key == "Fn::And":
                return all(self._eval_condition(v, where) for v in arg)
            if key == "Fn::Or":
                return any(self._eval_condition(v, where) for v in arg)
        resolved = self._eval(value, where)
        if isinstance(resolved, bool):
            return resolved
        if isinstance(resolved, str) and resolved.lower() in ("true", "false"):
            return resolved.lower() == "true"
        raise UnsupportedError("condition expression", f"cannot evaluate {value!r} as a condition")

    # ---- resolving values --------------------------------------------------------------------

    def resolve(self, value: Any, *, where: str = "template", strict: bool = True) -> Any:
        """Resolve every intrinsic inside `value`; AWS::NoValue removes the key or list item.

        strict=True raises UnsupportedError for the first unresolvable intrinsic; strict=False
        replaces each unresolvable intrinsic by an `Unresolved` string. Both report it once.
        """
        result = self._walk(copy.deepcopy(value), where, strict)
        return None if result is _NO_VALUE else result

    def _walk(self, value: Any, where: str, strict: bool) -> Any:
        if isinstance(value, dict):
            if _is_intrinsic(value):
                try:
                    return self._eval(value, where)
                except UnsupportedError as error:
                    self.reporter.report(error.located(where))
                    if strict:
                        raise
                    return Unresolved(f"${{unresolved: {error.kind}}}")
            out = {}
            for key, item in value.items():
                resolved = self._walk(item, f"{where}.{key}", strict)
                if resolved is not _NO_VALUE:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            items = (self._walk(item, f"{where}[{i}]", strict) for i, item in enumerate(value))
            return [item for item in items if item is not _NO_VALUE]
        return value

    def _eval(self, value: Any, where: str) -> Any:
        """Evaluate strictly (raising UnsupportedError); used for intrinsic arguments."""
        if isinstance(value, list):
            items = (self._eval(item, where) for item in value)
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if not _is_intrinsic(value):
            out = {}
            for key, item in value.items():
                resolved = self._eval(item, where)
                if resolved is not _NO_VALUE:
                    out[key] = resolved
            return out
        ((name, arg),) = value.items()
        handler = _FUNCTIONS.get(name)
        if handler is None:
            raise UnsupportedError(name, "this intrinsic function is not emulated")
        return handler(self, arg, where)

    def _fn_ref(self, arg: Any, where: str) -> Any:
        target = self._eval(arg, where)
        if not isinstance(target, str):
            raise UnsupportedError("Ref", f"Ref target must be a string, got {target!r}")
        return self.ref(target)

    def _fn_get_att(self, arg: Any, where: str) -> Any:
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        else:
            logical_id, attribute = self._eval(arg[0], where), self._eval(arg[1], where)
        return self.get_att(logical_id, attribute)

    def _fn_join(self, arg: Any, where: str) -> str:
        delimiter, items = arg
        values = self._eval(items, where)
        if not isinstance(values, list):
            raise UnsupportedError("Fn::Join", f"expects a list, got {values!r}")
        return str(self._eval(delimiter, where)).join(_as_text(v) for v in values)

    def _fn_sub(self, arg: Any, where: str) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self._eval(arg[1] if len(arg) > 1 else {}, where)
        else:
            text, variables = arg, {}

        def substitute(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            token = token.strip()
            if token in variables:
                return _as_text(variables[token])
            if "." in token and not token.startswith("AWS::"):
                logical_id, _, attribute = token.partition(".")
                return _as_text(self.get_att(logical_id, attribute))
            return _as_text(self.ref(token))

        return re.sub(r"\$\{([^}]*)\}", substitute, str(text))

    def _fn_select(self, arg: Any, where: str) -> Any:
        index, items = self._eval(arg[0], where), self._eval(arg[1], where)
        try:
            return items[int(index)]
        except (IndexError, ValueError, TypeError):
            raise UnsupportedError("Fn::Select", f"index {index!r} out of {items!r}") from None

    def _fn_split(self, arg: Any, where: str) -> list[str]:
        delimiter, text = self._eval(arg[0], where), self._eval(arg[1], where)
        return str(text).split(str(delimiter))

    def _fn_if(self, arg: Any, where: str) -> Any:
        name, if_true, if_false = arg
        return self._eval(if_true if self.condition(name) else if_false, where)

    def _fn_get_azs(self, arg: Any, where: str) -> list[str]:
        region = self._eval(arg, where) or self.region
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_find_in_map(self, arg: Any, where: str) -> Any:
        mapping, top, second = (self._eval(part, where) for part in arg[:3])
        try:
            return self.template["Mappings"][mapping][top][second]
        except (KeyError, TypeError):
            if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return self._eval(arg[3]["DefaultValue"], where)
            raise UnsupportedError("Fn::FindInMap", f"no entry {mapping}.{top}.{second}") from None

    def _fn_base64(self, arg: Any, where: str) -> str:
        return base64.b64encode(_as_text(self._eval(arg, where)).encode()).decode()

    def _fn_to_json_string(self, arg: Any, where: str) -> str:
        return json.dumps(self._eval(arg, where), separators=(",", ":"))

    def _fn_length(self, arg: Any, where: str) -> int:
        return len(self._eval(arg, where))

    def _fn_import_value(self, arg: Any, where: str) -> Any:
        raise UnsupportedError("Fn::ImportValue", f"exports of other stacks are not known: {arg!r}")

    def _fn_cidr(self, arg: Any, where: str) -> Any:
        raise UnsupportedError("Fn::Cidr", "address blocks are not computed locally")

    # ---- Ref, GetAtt, names, ARNs ------------------------------------------------------------

    def ref(self, name: str) -> Any:
        """What `{"Ref": name}` returns: a pseudo parameter, a parameter or a resource's Ref."""
        pseudo = self._pseudo_parameter(name)
        if pseudo is not None:
            return pseudo
        parameters = self.template.get("Parameters") or {}
        if name in parameters:
            return self._parameter_value(name, parameters[name])
        if name not in self._resources:
            raise UnsupportedError("Ref", f"{name!r} is neither a parameter nor a resource")
        self._require_enabled(name)
        return self._resource_ref(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """What `{"Fn::GetAtt": [logical_id, attribute]}` returns for the modelled types."""
        kind = self.resource_type(logical_id) if logical_id in self._resources else None
        if kind is None:
            raise UnsupportedError("Fn::GetAtt", f"no resource {logical_id!r}")
        self._require_enabled(logical_id)
        getter = _ATTRIBUTES.get((kind, attribute))
        if getter is None:
            raise UnsupportedError(
                f"Fn::GetAtt {kind}.{attribute}", f"attribute of {logical_id} is not emulated"
            )
        return getter(self, logical_id)

    def physical_id(self, logical_id: str) -> str:
        """The resource's physical name: its explicit name property, else a generated one.

        This is the name inside its ARN; Ref can differ (a queue's URL, a topic's ARN, a rule on
        a custom bus's `<bus>|<rule>`). Like `ref`, `get_att` and `arn`, it raises
        UnsupportedError without reporting it: callers say where the value was needed.
        """
        if logical_id in self._names:
            return self._names[logical_id]
        if logical_id in self._naming:
            raise UnsupportedError("physical name", f"{logical_id}'s name depends on itself")
        self._naming.add(logical_id)
        try:
            name = self._explicit_name(logical_id) or self._generated_name(logical_id)
        finally:
            self._naming.discard(logical_id)
        self._names[logical_id] = name
        return name

    name = physical_id

    def arn(self, logical_id: str) -> str:
        """The resource's ARN, built from its physical name the way the service builds it."""
        kind = self.resource_type(logical_id)
        builder = _ARNS.get(kind)
        if builder is None:
            raise UnsupportedError(f"ARN of {kind}", f"{logical_id}'s ARN is not emulated")
        return builder(self, logical_id)

    def logical_id_for(self, identifier: str) -> str | None:
        """The logical id whose ARN, Ref, physical name (or queue URL) is `identifier`."""
        if self._by_identifier is None:
            self._by_identifier = self._index_identifiers()
        return self._by_identifier.get(identifier)

    def _index_identifiers(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for logical_id, resource in self._resources.items():
            if resource.get("Type") in _GENERATED_ID_TYPES or not self._quiet_enabled(logical_id):
                continue
            for compute in (self.arn, self._resource_ref, self.physical_id):
                try:
                    value = compute(logical_id)
                except (UnsupportedError, KeyError):
                    continue
                index.setdefault(str(value), logical_id)
        return index

    def _quiet_enabled(self, logical_id: str) -> bool:
        try:
            return self.is_enabled(logical_id)
        except UnsupportedError:
            return False

    def _require_enabled(self, logical_id: str) -> None:
        if not self.is_enabled(logical_id):
            condition = self.resource(logical_id).get("Condition")
            raise UnsupportedError(
                "reference to a resource that is not created",
                f"{logical_id}'s condition {condition} is false",
            )

    def _pseudo_parameter(self, name: str) -> Any:
        values = {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:"
                f"stack/{self.stack_name}/{uuid.uuid5(_UUID_NAMESPACE, self.stack_name)}"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": _NO_VALUE,
        }
        return values.get(name)

    def _parameter_value(self, name: str, declaration: Mapping[str, Any]) -> Any:
        kind = str(declaration.get("Type", "String"))
        if name in self._parameter_overrides:
            value = self._parameter_overrides[name]
        elif "Default" in declaration:
            value = declaration["Default"]
            if kind.startswith("AWS::SSM::Parameter::Value"):
                self.reporter.note(
                    "SSM parameter value",
                    f"Parameters.{name}",
                    f"uses the parameter's Default {value!r}, not the value stored in SSM",
                )
        else:
            raise UnsupportedError("Parameter", f"{name!r} has no Default and no value was given")
        if "CommaDelimitedList" in kind and isinstance(value, str):
            return [item.strip() for item in value.split(",")]
        return value

    def _resource_ref(self, logical_id: str) -> Any:
        kind = self.resource_type(logical_id)
        ref = _REFS.get(kind)
        if ref is not None:
            return ref(self, logical_id)
        if kind in _GENERATED_ID_TYPES:
            return self._generated_name(logical_id)
        raise UnsupportedError(f"Ref of {kind}", f"{logical_id}'s resource type is not emulated")

    def _explicit_name(self, logical_id: str) -> str | None:
        kind = self.resource_type(logical_id)
        prop = NAME_PROPERTY.get(kind)
        raw = (self.resource(logical_id).get("Properties") or {}).get(prop) if prop else None
        if raw is None:
            return None
        value = self._eval(raw, f"Resources.{logical_id}.Properties.{prop}")
        return None if value is _NO_VALUE or value in (None, "") else _as_text(value)

    def _generated_name(self, logical_id: str) -> str:
        kind = self.resource_type(logical_id)
        digest = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).hexdigest()
        suffix = digest[:6].upper()
        ending = ".fifo" if self._is_fifo(logical_id) else ""
        limit = _MAX_NAME_LENGTH.get(kind, 255) - len(suffix) - len(ending) - 2
        stack, logical = self.stack_name, logical_id
        if len(stack) + len(logical) > limit:
            # CloudFormation keeps the start of both parts; split the room between them.
            stack = stack[: max(limit // 2, limit - len(logical))]
            logical = logical[: limit - len(stack)]
        name = f"{stack}-{logical}-{suffix}{ending}"
        # Bucket names are lowercase; CloudFormation lowercases the name it makes.
        return name.lower() if kind == "AWS::S3::Bucket" else name

    def _is_fifo(self, logical_id: str) -> bool:
        properties = self.resource(logical_id).get("Properties") or {}
        flag = properties.get("FifoQueue", properties.get("FifoTopic", False))
        try:
            return str(self._eval(flag, logical_id)).lower() == "true"
        except UnsupportedError:
            return False

    def _uuid(self, logical_id: str) -> str:
        return str(uuid.uuid5(_UUID_NAMESPACE, f"{self.stack_name}/{logical_id}"))

    def _service_arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def _report_template_level_features(self) -> None:
        transform = self.template.get("Transform")
        transforms = transform if isinstance(transform, list) else [transform] if transform else []
        for name in transforms:
            if name != "AWS::LanguageExtensions":
                self.reporter.unsupported("Transform", "Transform", f"{name} is not expanded")


# ---- per-type names, Refs, ARNs and attributes ---------------------------------------------


def _bus_name_of(resolver: Resolver, logical_id: str) -> str:
    """The event bus a rule or archive belongs to, as a name ("default" when omitted)."""
    properties = resolver.resource(logical_id).get("Properties") or {}
    raw = properties.get("EventBusName", properties.get("SourceArn"))
    if raw is None:
        return "default"
    value = _as_text(resolver._eval(raw, f"Resources.{logical_id}.Properties"))
    return value.rsplit("event-bus/", 1)[-1] if value.startswith("arn:") else value


def _rule_ref(resolver: Resolver, logical_id: str) -> str:
    # CloudFormation's physical id of a rule on a custom bus is "<bus>|<rule>".
    bus = _bus_name_of(resolver, logical_id)
    name = resolver.physical_id(logical_id)
    return name if bus == "default" else f"{bus}|{name}"


def _rule_arn(resolver: Resolver, logical_id: str) -> str:
    bus = _bus_name_of(resolver, logical_id)
    name = resolver.physical_id(logical_id)
    path = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
    return resolver._service_arn("events", path)


def _queue_url(resolver: Resolver, logical_id: str) -> str:
    return (
        f"https://sqs.{resolver.region}.{resolver.url_suffix}/"
        f"{resolver.account_id}/{resolver.physical_id(logical_id)}"
    )


def _table_stream_arn(resolver: Resolver, logical_id: str) -> str:
    properties = resolver.resource(logical_id).get("Properties") or {}
    if "StreamSpecification" not in properties:
        raise UnsupportedError("StreamArn", f"table {logical_id} has no StreamSpecification")
    return f"{resolver.arn(logical_id)}/stream/1970-01-01T00:00:00.000"


def _role_arn(resolver: Resolver, logical_id: str) -> str:
    properties = resolver.resource(logical_id).get("Properties") or {}
    path = _as_text(resolver._eval(properties.get("Path", "/"), logical_id))
    name = resolver.physical_id(logical_id)
    return f"arn:{resolver.partition}:iam::{resolver.account_id}:role{path}{name}"


def _schema_arn(resolver: Resolver, logical_id: str) -> str:
    properties = resolver.resource(logical_id).get("Properties") or {}
    registry = _as_text(resolver._eval(properties.get("RegistryName", "default"), logical_id))
    registry = registry.rsplit("registry/", 1)[-1]
    return resolver._service_arn("schemas", f"schema/{registry}/{resolver.physical_id(logical_id)}")


def _subscription_arn(resolver: Resolver, logical_id: str) -> str:
    properties = resolver.resource(logical_id).get("Properties") or {}
    topic = _as_text(resolver._eval(properties.get("TopicArn", ""), logical_id))
    return f"{topic}:{resolver._uuid(logical_id)}"


def _function_arn_of(resolver: Resolver, logical_id: str) -> str:
    """The unqualified ARN of the function an alias or version names (FunctionName: a name, a
    Ref of the function, or an ARN, qualified or not)."""
    properties = resolver.resource(logical_id).get("Properties") or {}
    function = _as_text(resolver._eval(properties.get("FunctionName", ""), logical_id))
    if function.startswith("arn:"):
        return ":".join(function.split(":")[:7])
    return resolver._service_arn("lambda", f"function:{function}")


def _alias_arn(resolver: Resolver, logical_id: str) -> str:
    properties = resolver.resource(logical_id).get("Properties") or {}
    name = _as_text(resolver._eval(properties.get("Name", ""), logical_id))
    return f"{_function_arn_of(resolver, logical_id)}:{name}"


def _version_arn(resolver: Resolver, logical_id: str) -> str:
    # Locally every version is the function's first: invocations run $LATEST anyway.
    return f"{_function_arn_of(resolver, logical_id)}:1"


def _esm_arn(resolver: Resolver, logical_id: str) -> str:
    return resolver._service_arn("lambda", f"event-source-mapping:{resolver._uuid(logical_id)}")


def _name(resolver: Resolver, logical_id: str) -> str:
    return resolver.physical_id(logical_id)


def _own_arn(resolver: Resolver, logical_id: str) -> str:
    return resolver.arn(logical_id)


def _simple_arn(service: str, pattern: str, *, regional: bool = True) -> Any:
    def build(resolver: Resolver, logical_id: str) -> str:
        resource = pattern.format(name=resolver.physical_id(logical_id))
        return resolver._service_arn(service, resource, regional=regional)

    return build


_ARNS: dict[str, Any] = {
    "AWS::Events::EventBus": _simple_arn("events", "event-bus/{name}"),
    "AWS::Events::Rule": _rule_arn,
    "AWS::Events::Archive": _simple_arn("events", "archive/{name}"),
    "AWS::Events::Connection": _simple_arn("events", "connection/{name}"),
    "AWS::Events::ApiDestination": _simple_arn("events", "api-destination/{name}"),
    "AWS::SQS::Queue": _simple_arn("sqs", "{name}"),
    "AWS::SNS::Topic": _simple_arn("sns", "{name}"),
    "AWS::SNS::Subscription": _subscription_arn,
    "AWS::Lambda::Function": _simple_arn("lambda", "function:{name}"),
    "AWS::Lambda::EventSourceMapping": _esm_arn,
    # Qualified function ARNs: a target naming one invokes the function (the index drops the
    # qualifier), as SAM's AutoPublishAlias and CDK's aliases have rules and queues do.
    "AWS::Lambda::Alias": _alias_arn,
    "AWS::Lambda::Version": _version_arn,
    # A layer's first version (locally its content is not loaded: see lambda_runtime).
    "AWS::Lambda::LayerVersion": _simple_arn("lambda", "layer:{name}:1"),
    "AWS::DynamoDB::Table": _simple_arn("dynamodb", "table/{name}"),
    "AWS::DynamoDB::GlobalTable": _simple_arn("dynamodb", "table/{name}"),
    "AWS::Pipes::Pipe": _simple_arn("pipes", "pipe/{name}"),
    "AWS::IAM::Role": _role_arn,
    "AWS::IAM::ManagedPolicy": lambda r, lid: (
        f"arn:{r.partition}:iam::{r.account_id}:policy/{r.physical_id(lid)}"
    ),
    "AWS::Logs::LogGroup": _simple_arn("logs", "log-group:{name}:*"),
    "AWS::KMS::Key": lambda r, lid: r._service_arn("kms", f"key/{r._uuid(lid)}"),
    "AWS::KMS::Alias": _simple_arn("kms", "{name}"),
    "AWS::CloudWatch::Alarm": _simple_arn("cloudwatch", "alarm:{name}"),
    "AWS::EventSchemas::Registry": _simple_arn("schemas", "registry/{name}"),
    "AWS::EventSchemas::Schema": _schema_arn,
    # S3 ARNs carry neither region nor account.
    "AWS::S3::Bucket": lambda r, lid: f"arn:{r.partition}:s3:::{r.physical_id(lid)}",
}

_REFS: dict[str, Any] = {
    "AWS::Events::EventBus": _name,
    "AWS::Events::Rule": _rule_ref,
    "AWS::Events::Archive": _name,
    "AWS::Events::Connection": _name,
    "AWS::Events::ApiDestination": _name,
    "AWS::SQS::Queue": _queue_url,
    "AWS::SNS::Topic": _own_arn,
    "AWS::SNS::Subscription": _own_arn,
    "AWS::Lambda::Function": _name,
    "AWS::Lambda::EventSourceMapping": lambda r, lid: r._uuid(lid),
    "AWS::Lambda::Alias": _own_arn,
    "AWS::Lambda::Version": _own_arn,
    "AWS::Lambda::LayerVersion": _own_arn,
    "AWS::DynamoDB::Table": _name,
    "AWS::DynamoDB::GlobalTable": _name,
    "AWS::Pipes::Pipe": _name,
    "AWS::IAM::Role": _name,
    "AWS::IAM::ManagedPolicy": _own_arn,
    "AWS::Logs::LogGroup": _name,
    "AWS::KMS::Key": lambda r, lid: r._uuid(lid),
    "AWS::KMS::Alias": _name,
    "AWS::CloudWatch::Alarm": _name,
    "AWS::EventSchemas::Registry": _own_arn,
    "AWS::EventSchemas::Schema": _own_arn,
    "AWS::S3::Bucket": _name,
}

_ATTRIBUTES: dict[tuple[str, str], Any] = {
    ("AWS::Events::EventBus", "Arn"): _own_arn,
    ("AWS::Events::EventBus", "Name"): _name,
    ("AWS::Events::Rule", "Arn"): _own_arn,
    ("AWS::Events::Archive", "Arn"): _own_arn,
    ("AWS::Events::Archive", "ArchiveName"): _name,
    ("AWS::Events::Connection", "Arn"): _own_arn,
    ("AWS::Events::ApiDestination", "Arn"): _own_arn,
    ("AWS::SQS::Queue", "Arn"): _own_arn,
    ("AWS::SQS::Queue", "QueueName"): _name,
    ("AWS::SQS::Queue", "QueueUrl"): _queue_url,
    ("AWS::SNS::Topic", "TopicArn"): _own_arn,
    ("AWS::SNS::Topic", "TopicName"): _name,
    ("AWS::SNS::Subscription", "Arn"): _own_arn,
    ("AWS::Lambda::Function", "Arn"): _own_arn,
    ("AWS::Lambda::EventSourceMapping", "Id"): lambda r, lid: r._uuid(lid),
    ("AWS::Lambda::EventSourceMapping", "EventSourceMappingArn"): _own_arn,
    ("AWS::Lambda::Alias", "AliasArn"): _own_arn,
    ("AWS::Lambda::Version", "Version"): lambda r, lid: "1",
    ("AWS::Lambda::LayerVersion", "LayerVersionArn"): _own_arn,
    ("AWS::DynamoDB::Table", "Arn"): _own_arn,
    ("AWS::DynamoDB::Table", "StreamArn"): _table_stream_arn,
    ("AWS::DynamoDB::GlobalTable", "Arn"): _own_arn,
    ("AWS::DynamoDB::GlobalTable", "StreamArn"): _table_stream_arn,
    ("AWS::Pipes::Pipe", "Arn"): _own_arn,
    ("AWS::Pipes::Pipe", "CurrentState"): lambda r, lid: "RUNNING",
    ("AWS::IAM::Role", "Arn"): _own_arn,
    ("AWS::IAM::Role", "RoleId"): lambda r, lid: (
        "AROA" + r._uuid(lid).replace("-", "")[:17].upper()
    ),
    ("AWS::Logs::LogGroup", "Arn"): _own_arn,
    ("AWS::KMS::Key", "Arn"): _own_arn,
    ("AWS::KMS::Key", "KeyId"): lambda r, lid: r._uuid(lid),
    ("AWS::CloudWatch::Alarm", "Arn"): _own_arn,
    ("AWS::EventSchemas::Registry", "RegistryArn"): _own_arn,
    ("AWS::EventSchemas::Registry", "RegistryName"): _name,
    ("AWS::EventSchemas::Schema", "SchemaArn"): _own_arn,
    ("AWS::EventSchemas::Schema", "SchemaName"): _name,
    ("AWS::EventSchemas::Schema", "SchemaVersion"): lambda r, lid: "1",
    ("AWS::S3::Bucket", "Arn"): _own_arn,
    ("AWS::S3::Bucket", "DomainName"): lambda r, lid: f"{r.physical_id(lid)}.s3.{r.url_suffix}",
    ("AWS::S3::Bucket", "RegionalDomainName"): lambda r, lid: (
        f"{r.physical_id(lid)}.s3.{r.region}.{r.url_suffix}"
    ),
}


# ---- Step Functions, EventBridge Scheduler and API Gateway (localbus.kinds targets) ----------


def _api_id(resolver: Resolver, logical_id: str) -> str:
    # API Gateway ids are 10 lowercase letters and digits, made up by the service.
    return hashlib.sha256(f"{resolver.stack_name}/{logical_id}".encode()).hexdigest()[:10]


def _schedule_arn(resolver: Resolver, logical_id: str) -> str:
    properties = resolver.resource(logical_id).get("Properties") or {}
    group = _as_text(resolver._eval(properties.get("GroupName", "default"), logical_id))
    name = resolver.physical_id(logical_id)
    return resolver._service_arn("scheduler", f"schedule/{group}/{name}")


def _http_api_endpoint(resolver: Resolver, logical_id: str) -> str:
    api = _api_id(resolver, logical_id)
    return f"https://{api}.execute-api.{resolver.region}.{resolver.url_suffix}"


NAME_PROPERTY.update(
    {
        "AWS::StepFunctions::StateMachine": "StateMachineName",
        "AWS::Scheduler::Schedule": "Name",
        "AWS::Scheduler::ScheduleGroup": "Name",
    }
)
_ARNS.update(
    {
        "AWS::StepFunctions::StateMachine": _simple_arn("states", "stateMachine:{name}"),
        "AWS::Scheduler::Schedule": _schedule_arn,
        "AWS::Scheduler::ScheduleGroup": _simple_arn("scheduler", "schedule-group/{name}"),
    }
)
_REFS.update(
    {
        "AWS::StepFunctions::StateMachine": _own_arn,
        "AWS::Scheduler::Schedule": _name,
        "AWS::Scheduler::ScheduleGroup": _name,
        "AWS::ApiGateway::RestApi": _api_id,
        "AWS::ApiGateway::Resource": _api_id,
        "AWS::ApiGateway::Deployment": _api_id,
        "AWS::ApiGateway::Stage": lambda r, lid: _as_text(
            r._eval((r.resource(lid).get("Properties") or {}).get("StageName", lid), lid)
        ),
        "AWS::ApiGatewayV2::Api": _api_id,
        "AWS::ApiGatewayV2::Integration": _api_id,
        "AWS::ApiGatewayV2::Route": _api_id,
        "AWS::ApiGatewayV2::Stage": lambda r, lid: _as_text(
            r._eval((r.resource(lid).get("Properties") or {}).get("StageName", lid), lid)
        ),
    }
)
_ATTRIBUTES.update(
    {
        ("AWS::StepFunctions::StateMachine", "Arn"): _own_arn,
        ("AWS::StepFunctions::StateMachine", "Name"): _name,
        ("AWS::Scheduler::Schedule", "Arn"): _own_arn,
        ("AWS::Scheduler::ScheduleGroup", "Arn"): _own_arn,
        ("AWS::ApiGateway::RestApi", "RootResourceId"): lambda r, lid: _api_id(r, f"{lid}/"),
        ("AWS::ApiGateway::RestApi", "RestApiId"): _api_id,
        ("AWS::ApiGateway::Resource", "ResourceId"): _api_id,
        ("AWS::ApiGatewayV2::Api", "ApiId"): _api_id,
        ("AWS::ApiGatewayV2::Api", "ApiEndpoint"): _http_api_endpoint,
    }
)


_FUNCTIONS: dict[str, Any] = {
    "Ref": Resolver._fn_ref,
    "Fn::GetAtt": Resolver._fn_get_att,
    "Fn::Join": Resolver._fn_join,
    "Fn::Sub": Resolver._fn_sub,
    "Fn::Select": Resolver._fn_select,
    "Fn::Split": Resolver._fn_split,
    "Fn::If": Resolver._fn_if,
    "Fn::GetAZs": Resolver._fn_get_azs,
    "Fn::FindInMap": Resolver._fn_find_in_map,
    "Fn::Base64": Resolver._fn_base64,
    "Fn::ToJsonString": Resolver._fn_to_json_string,
    "Fn::Length": Resolver._fn_length,
    "Fn::ImportValue": Resolver._fn_import_value,
    "Fn::Cidr": Resolver._fn_cidr,
}


def _condition_function(name: str) -> Any:
    def evaluate(resolver: Resolver, arg: Any, where: str) -> bool:
        return resolver._eval_condition({name: arg}, where)

    return evaluate


for _name_of_function in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
    _FUNCTIONS[_name_of_function] = _condition_function(_name_of_function)


def _is_intrinsic(value: dict[str, Any]) -> bool:
    if len(value) != 1:
        return False
    (key,) = value
    return key == "Ref" or key.startswith("Fn::")


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise UnsupportedError("string conversion", f"{value!r} is not a string")
    return str(value)


def _comparable(value: Any) -> Any:
    return _as_text(value) if isinstance(value, (int, float, bool)) else value
