"""Template files: JSON, or YAML with CloudFormation's short-form tags, read as CloudFormation
does."""

from __future__ import annotations

from pathlib import Path

import pytest

from localbus.loading.template_file import TemplateFileError, parse_template, read_template

SHORT_FORMS = """\
AWSTemplateFormatVersion: 2010-09-09
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Or [!Condition NotProd, !Condition IsProd]]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-queue"
      Tags:
        - Key: a
          Value: !Join ["-", [!Select [0, !Split [",", "x,y"]], !GetAtt Bus.Arn]]
        - Key: b
          Value: !GetAtt [Bus, Name]
        - Key: c
          Value: !If [IsProd, !FindInMap [Sizes, !Ref Stage, big], !ImportValue shared-name]
        - Key: d
          Value: !Base64 text
        - Key: e
          Value: !Select [0, !Cidr ["10.0.0.0/16", 4, 8]]
        - Key: f
          Value: !Select [0, !GetAZs ""]
        - Key: g
          Value: !GetAtt Stack.Outputs.BusArn
      Policy: !Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}
"""


def test_every_short_form_reads_as_its_long_form() -> None:
    # Given a YAML template using every short form; When it is read
    template = parse_template(SHORT_FORMS)

    # Then each tag is its Fn:: / Ref / Condition mapping, as CloudFormation reads it
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"  # a date stays text
    conditions = template["Conditions"]
    assert conditions["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert conditions["NotProd"] == {"Fn::Not": [{"Condition": "IsProd"}]}
    assert conditions["Both"] == {
        "Fn::And": [
            {"Condition": "IsProd"},
            {"Fn::Or": [{"Condition": "NotProd"}, {"Condition": "IsProd"}]},
        ]
    }
    props = template["Resources"]["Queue"]["Properties"]
    assert props["QueueName"] == {"Fn::Sub": "${AWS::StackName}-queue"}
    tags = {tag["Key"]: tag["Value"] for tag in props["Tags"]}
    assert tags["a"] == {
        "Fn::Join": [
            "-",
            [
                {"Fn::Select": [0, {"Fn::Split": [",", "x,y"]}]},
                {"Fn::GetAtt": ["Bus", "Arn"]},
            ],
        ]
    }
    assert tags["b"] == {"Fn::GetAtt": ["Bus", "Name"]}
    assert tags["c"] == {
        "Fn::If": [
            "IsProd",
            {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "big"]},
            {"Fn::ImportValue": "shared-name"},
        ]
    }
    assert tags["d"] == {"Fn::Base64": "text"}
    assert tags["e"] == {"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}]}
    assert tags["f"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    # The attribute after the first dot is kept whole (a nested stack's Outputs.Name).
    assert tags["g"] == {"Fn::GetAtt": ["Stack", "Outputs.BusArn"]}
    assert props["Policy"] == {
        "Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}
    }


def test_a_yaml_flow_mapping_is_yaml_not_broken_json() -> None:
    assert parse_template("{Resources: {Q: {Type: AWS::SQS::Queue}}}") == {
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}
    }


def test_json_templates_read_as_json(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}')

    assert read_template(path) == {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources:\n  Q:\n    Type: a\n  Q:\n    Type: b\n", "duplicate key 'Q' (first at line"),
        ("Resources:\n  Q: [unclosed\n", "not valid YAML (line 3"),
        ("Resources:\n  Q: !GetAtt Queue\n", "!GetAtt 'Queue' is not Resource.Attribute"),
        ("- a list\n", "does not hold a template"),
        ('{"Resources": {"Q": ', "not valid JSON"),
    ],
)
def test_unreadable_templates_say_where_and_why(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(text)

    with pytest.raises(TemplateFileError) as raised:
        read_template(path)

    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateFileError, match="does not exist"):
        read_template(tmp_path / "nope.yaml")
