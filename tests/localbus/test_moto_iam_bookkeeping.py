"""localbus.moto_iam_bookkeeping: moto's IAM is imported when something uses IAM, not before."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import boto3

from localbus.aws_backend import AwsBackend
from localbus.intrinsics import Resolver

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "runtime"


def _backend() -> AwsBackend:
    template: dict[str, Any] = json.loads((FIXTURES / "template.json").read_text())
    return AwsBackend(template, Resolver(template, stack_name="Fixture-test"))


def test_requests_do_not_import_moto_iam_until_iam_is_used():
    # Given a fresh process running the backend (tables created: moto served requests)
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from localbus.aws_backend import AwsBackend
        from localbus.intrinsics import Resolver
        template = json.loads(open({str(FIXTURES / "template.json")!r}).read())
        with AwsBackend(template, Resolver(template, stack_name="Fixture-test")) as backend:
            backend.client("dynamodb").list_tables()
            before = "moto.iam.models" in sys.modules
            backend.client("iam").list_users()
            after = "moto.iam.models" in sys.modules
        print(json.dumps([before, after]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )

    # Then moto's IAM was imported by the IAM call, not by the requests before it
    assert json.loads(done.stdout.splitlines()[-1]) == [False, True]


def test_the_last_use_of_an_iam_access_key_is_still_recorded():
    # Given a backend where IAM made an access key
    with _backend() as backend:
        iam = backend.client("iam")
        iam.create_user(UserName="caller")
        key = iam.create_access_key(UserName="caller")["AccessKey"]

        # When another service is called with that key
        session = boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name=backend.region,
        )
        session.client("sqs").list_queues()

        # Then IAM records its last use, as moto does
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        assert (used["ServiceName"], used["Region"]) == ("sqs", backend.region)
