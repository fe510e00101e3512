"""localbus.assembly: stacks and Lambda code folders from a cdk.out or a plain template."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from localbus.assembly import AssemblyError, AssetNotFoundError, CloudAssembly
from localbus.reporting import Reporter

FIXTURES = Path(__file__).parent / "fixtures" / "runtime"
ASSET_HASH = "a1b2c3"


def function(code: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Handler": "app.handler", "Runtime": "python3.12", "Code": code},
    }
    if metadata:
        resource["Metadata"] = metadata
    return resource


def write_cdk_out(directory: Path, *, nested: bool = False) -> Path:
    """A minimal cdk.out as `cdk synth` writes it: manifest, template, asset manifest, assets."""
    (directory / f"asset.{ASSET_HASH}").mkdir(parents=True)
    (directory / f"asset.{ASSET_HASH}" / "app.py").write_text("def handler(e, c):\n    return e\n")
    with zipfile.ZipFile(directory / "asset.zipped.zip", "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 'zipped'\n")
    template = {
        "Resources": {
            "FromManifest": function({"S3Bucket": "bucket", "S3Key": f"{ASSET_HASH}.zip"}),
            "FromMetadata": function(
                {"S3Bucket": "bucket", "S3Key": "elsewhere.zip"},
                {"aws:asset:path": f"asset.{ASSET_HASH}", "aws:asset:property": "Code"},
            ),
            "Zipped": function({"S3Bucket": "bucket", "S3Key": "zipped.zip"}),
            "Inline": function({"ZipFile": "def handler(e, c):\n    return 1\n"}),
            "Unknown": function({"S3Bucket": "bucket", "S3Key": "missing.zip"}),
        }
    }
    (directory / "Shop-dev.template.json").write_text(json.dumps(template))
    assets = {
        "version": "55.0.0",
        "files": {
            ASSET_HASH: {
                "source": {"path": f"asset.{ASSET_HASH}", "packaging": "zip"},
                "destinations": {"d": {"bucketName": "bucket", "objectKey": f"{ASSET_HASH}.zip"}},
            },
            "zipped": {
                "source": {"path": "asset.zipped.zip", "packaging": "file"},
                "destinations": {"d": {"bucketName": "bucket", "objectKey": "zipped.zip"}},
            },
        },
    }
    (directory / "Shop-dev.assets.json").write_text(json.dumps(assets))
    artifacts: dict[str, Any] = {
        "Shop-dev.assets": {
            "type": "cdk:asset-manifest",
            "properties": {"file": "Shop-dev.assets.json"},
        },
        "Shop-dev": {
            "type": "aws:cloudformation:stack",
            "environment": "aws://111122223333/eu-central-1",
            "properties": {"templateFile": "Shop-dev.template.json", "stackName": "Shop-dev"},
            "dependencies": ["Shop-dev.assets"],
        },
        "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
    }
    if nested:
        artifacts["assembly-Prod"] = {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": "assembly-Prod", "displayName": "Prod"},
        }
    (directory / "manifest.json").write_text(
        json.dumps({"version": "55.0.0", "artifacts": artifacts})
    )
    return directory


def test_load_reads_stack_artifacts_and_their_environment(tmp_path: Path):
    # Given a cdk.out with one stack pinned to an account and region
    cdk_out = write_cdk_out(tmp_path)

    # When loaded
    with CloudAssembly.load(cdk_out) as assembly:
        stack = assembly.stack()

    # Then the stack, its template and environment are there; non-stack artifacts are skipped
    assert [s.name for s in assembly.stacks] == ["Shop-dev"]
    assert assembly.stack("Shop-dev") is stack
    assert stack.template_path == cdk_out / "Shop-dev.template.json"
    assert "FromManifest" in stack.template["Resources"]
    assert (stack.account, stack.region) == ("111122223333", "eu-central-1")


def test_asset_dir_finds_code_by_metadata_manifest_zip_and_inline(tmp_path: Path):
    # Given functions whose code is found each way
    with CloudAssembly.load(write_cdk_out(tmp_path)) as assembly:
        # When their code folders are asked for
        from_manifest = assembly.asset_dir("Shop-dev", "FromManifest")
        from_metadata = assembly.asset_dir(None, "FromMetadata")
        zipped = assembly.asset_dir(None, "Zipped")
        inline = assembly.asset_dir(None, "Inline")

        # Then each points at a folder holding the code
        assert from_manifest == from_metadata == tmp_path / f"asset.{ASSET_HASH}"
        assert "zipped" in (zipped / "app.py").read_text()
        assert (inline / "index.py").read_text() == "def handler(e, c):\n    return 1\n"
        # And code that matches no asset is an error that says so
        with pytest.raises(AssetNotFoundError, match="Unknown"):
            assembly.asset_dir(None, "Unknown")
    # And the folders made for zipped and inline code are removed on close
    assert not inline.exists()


def test_nested_assemblies_are_reported_not_loaded(tmp_path: Path):
    # Given a cdk.out with a CDK Stage (a nested cloud assembly)
    reporter = Reporter()

    # When loaded
    CloudAssembly.load(write_cdk_out(tmp_path, nested=True), reporter=reporter)

    # Then the stage is reported as unsupported
    assert any("assembly-Prod" in message for message in reporter.messages())


def test_unknown_stack_and_missing_manifest_are_errors(tmp_path: Path):
    # Given a cdk.out  When an unknown stack is asked for  Then KeyError names the known ones
    assembly = CloudAssembly.load(write_cdk_out(tmp_path / "out"))
    with pytest.raises(KeyError, match="Shop-dev"):
        assembly.stack("Nope")
    # And a folder without a manifest is not an assembly
    with pytest.raises(AssemblyError):
        CloudAssembly.load(tmp_path / "empty")


def test_from_template_resolves_assets_relative_to_the_template():
    # Given the hand-written fixture template
    with CloudAssembly.from_template(FIXTURES / "template.json", stack_name="Fixture") as assembly:
        # When a function's code is asked for  Then its metadata path is relative to the folder
        assert assembly.stack().name == "Fixture"
        assert assembly.asset_dir(None, "CounterA") == FIXTURES / "alpha"


def test_real_app_assembly_has_the_stack_and_code_of_every_function(cloud_assembly_dir: Path):
    # Given the synthesized order-events app
    with CloudAssembly.load(cloud_assembly_dir) as assembly:
        stack = assembly.stack("OrderEvents-dev")
        functions = [
            logical_id
            for logical_id, resource in stack.template["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Function"
        ]

        # When each function's code folder is located
        folders = {assembly.asset_dir(stack, logical_id) for logical_id in functions}

    # Then they all share the lambdas/ asset, schemas included (the symlink was followed)
    assert len(functions) == 3 and len(folders) == 1
    (folder,) = folders
    assert (folder / "shared").is_dir()
    assert any((folder / "schemas").glob("*.json"))
