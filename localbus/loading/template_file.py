"""Read a CloudFormation template file: JSON, or YAML with every short-form intrinsic tag.

`!Ref X` becomes `{"Ref": "X"}`, `!GetAtt A.B` (or `!GetAtt [A, B]`) `{"Fn::GetAtt": ["A", "B"]}`,
`!Condition C` `{"Condition": "C"}`, and every other tag `!Name v` becomes `{"Fn::Name": v}`, as
CloudFormation itself reads them. Dates stay strings (`AWSTemplateFormatVersion: 2010-09-09`
unquoted is the text "2010-09-09" to CloudFormation), and a key given twice is an error, as
CloudFormation refuses such a template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# Every short form CloudFormation documents (Fn::Transform's is !Transform).
FUNCTION_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
)


class TemplateFileError(ValueError):
    """The template file cannot be read; the message names the file and, for YAML, the line."""


def read_template(path: str | Path) -> dict[str, Any]:
    """The template at `path` as a dict; JSON when it parses as JSON, YAML otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TemplateFileError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateFileError(f"{path} cannot be read: {error}") from None
    return parse_template(text, str(path))


def parse_template(text: str, name: str = "<template>") -> dict[str, Any]:
    """A template's text as a dict (`name` says where, in error messages)."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as json_error:
        # Not JSON: YAML, as CloudFormation reads it. A file that looks like JSON keeps the
        # JSON error when it is no valid YAML either (a YAML flow mapping also starts with {).
        try:
            data = yaml.load(text, Loader=_TemplateLoader)
        except yaml.YAMLError as error:
            if text.lstrip().startswith("{"):
                raise TemplateFileError(f"{name} is not valid JSON: {json_error}") from None
            raise TemplateFileError(f"{name} is not valid YAML{_yaml_problem(error)}") from None
    if not isinstance(data, dict):
        raise TemplateFileError(f"{name} does not hold a template (a JSON or YAML mapping)")
    return data


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"{where}: {error.problem or error.context or 'invalid YAML'}"
    return f": {error}"


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader with CloudFormation's tags, no timestamps and no duplicate keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first at line {seen[key].start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


# CloudFormation reads an unquoted date as text: drop the timestamp resolver.
_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _value(loader: _TemplateLoader, node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise ConstructorError(None, None, f"unexpected node {node.id}", node.start_mark)


def _function(name: str) -> Any:
    def construct(loader: _TemplateLoader, node: Node) -> dict[str, Any]:
        return {name: _value(loader, node)}

    return construct


def _get_att(loader: _TemplateLoader, node: Node) -> dict[str, Any]:
    value = _value(loader, node)
    if isinstance(value, str):
        # !GetAtt Resource.Attribute; the attribute itself may hold dots (Outputs.Name).
        logical_id, dot, attribute = value.partition(".")
        if not dot or not logical_id or not attribute:
            raise ConstructorError(
                None, None, f"!GetAtt {value!r} is not Resource.Attribute", node.start_mark
            )
        value = [logical_id, attribute]
    return {"Fn::GetAtt": value}


_TemplateLoader.add_constructor("!Ref", _function("Ref"))
_TemplateLoader.add_constructor("!Condition", _function("Condition"))
_TemplateLoader.add_constructor("!GetAtt", _get_att)
for _name in FUNCTION_TAGS:
    _TemplateLoader.add_constructor(f"!{_name}", _function(f"Fn::{_name}"))
