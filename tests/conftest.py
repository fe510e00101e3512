"""Session-wide fixtures: one synth per test session (jsii start-up costs seconds)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
STACK_ID = "OrderEvents-dev"
# prod requires recipients (requireRecipients); the customer list is set too, to test it.
PROD_EMAILS = {
    "customerNotificationEmails": ["customers@example.com"],
    "fraudAlertEmails": ["fraud@example.com", "fraud-lead@example.com"],
    "opsEmail": "ops@example.com",
}

# Tests never talk to AWS: fake credentials, a fixed region, no instance metadata look-ups.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
os.environ.pop("AWS_PROFILE", None)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def synthesized_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, synth: Callable[[Path], None]
) -> Path:
    """A cloud assembly synthesized once per test run. Under pytest-xdist (`make test`) every
    worker is its own session: the first to take the lock synthesizes into the run's shared
    temporary folder and the others wait for it and reuse it (pytest-xdist's "Making
    session-scoped fixtures execute only once")."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        outdir = tmp_path_factory.mktemp(name)
        synth(outdir)
        return outdir
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the run's folder, above each worker's
    outdir, done = shared / name, shared / f"{name}.synthesized"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.is_file():  # a worker whose synth failed leaves none: the next one retries
            shutil.rmtree(outdir, ignore_errors=True)
            outdir.mkdir()
            synth(outdir)
            done.touch()
    return outdir


@pytest.fixture(scope="session")
def cloud_assembly_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cdk.out for the dev stage, synthesized once for the whole test run."""
    from app import build_app

    return synthesized_once(
        tmp_path_factory, "cdk.out", lambda outdir: build_app(outdir=str(outdir)).synth()
    )


@pytest.fixture(scope="session")
def template(cloud_assembly_dir: Path) -> dict[str, Any]:
    """The dev stack's CloudFormation template as a dict."""
    return json.loads((cloud_assembly_dir / f"{STACK_ID}.template.json").read_text())


@pytest.fixture(scope="session")
def prod_emails() -> dict[str, Any]:
    return PROD_EMAILS


@pytest.fixture(scope="session")
def prod_cloud_assembly_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The prod stage with e-mail subscribers (the dev stage has none), synthesized once per run."""
    from app import build_app

    context = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    stages = {**context["stages"], "prod": {**context["stages"]["prod"], **PROD_EMAILS}}

    def synth(outdir: Path) -> None:
        build_app(context={"stage": "prod", "stages": stages}, outdir=str(outdir)).synth()

    return synthesized_once(tmp_path_factory, "cdk.out.prod", synth)


@pytest.fixture(scope="session")
def prod_template(prod_cloud_assembly_dir: Path) -> dict[str, Any]:
    """The prod stack's CloudFormation template as a dict."""
    return json.loads((prod_cloud_assembly_dir / "OrderEvents-prod.template.json").read_text())


@pytest.fixture(autouse=True)
def fresh_powertools_metrics() -> Iterator[None]:
    """Powertools keeps metrics, default dimensions and the cold-start flag at class level, shared
    by every Metrics() in the process; one Lambda process has one handler, a test run many."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics.provider import cold_start

    def reset() -> None:
        metrics = Metrics()
        metrics.clear_metrics()
        metrics.clear_default_dimensions()
        cold_start.is_cold_start = True

    reset()
    yield
    reset()


# ---- Kafka: one real broker and one synth with the Kafka keys per session ----------------------

KAFKA_TOPIC = "orders"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[Any]:
    """A Tansu broker (ordersctl kafka broker's) on a free port, in memory, for the session."""
    from ordersctl.kafka.broker import start_broker

    broker = start_broker(free_port())
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def kafka_stage_keys(kafka_broker: Any) -> dict[str, Any]:
    return {"kafkaBootstrapServers": kafka_broker.bootstrap, "kafkaTopic": KAFKA_TOPIC}


@pytest.fixture(scope="session")
def kafka_cloud_assembly_dir(
    tmp_path_factory: pytest.TempPathFactory, kafka_stage_keys: dict[str, Any]
) -> Path:
    """The dev stage with the Kafka ingest pipe on, reading the session broker."""
    from app import build_app, cdk_json_context

    stages = cdk_json_context()["stages"]
    stages = {**stages, "dev": {**stages["dev"], **kafka_stage_keys}}
    outdir = tmp_path_factory.mktemp("cdk.out.kafka")
    build_app(context={"stage": "dev", "stages": stages}, outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="session")
def kafka_template(kafka_cloud_assembly_dir: Path) -> dict[str, Any]:
    return json.loads((kafka_cloud_assembly_dir / f"{STACK_ID}.template.json").read_text())


def kafka_assembly_on_topic(assembly: Path, copy: Path, topic: str) -> Path:
    """A copy of a Kafka-keyed assembly whose pipe reads `topic` as group `group-<topic>`, so a
    test has a topic and committed offsets of its own on the session broker."""
    import shutil

    shutil.copytree(assembly, copy, symlinks=True)
    template_path = copy / f"{STACK_ID}.template.json"
    template = json.loads(template_path.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Pipes::Pipe":
            params = resource["Properties"]["SourceParameters"].get("SelfManagedKafkaParameters")
            if params:
                params["TopicName"] = topic
                params["ConsumerGroupID"] = f"group-{topic}"
    template_path.write_text(json.dumps(template))
    return copy
