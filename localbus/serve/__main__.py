"""`python -m localbus.serve TEMPLATE [--port 4010] [--param K=V]... [--stack S]
[--python-handlers in-process|process]`: serve a cdk.out or template file until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from localbus.runtimes.specs import PYTHON_MODES
from localbus.serve.server import DEFAULT_PORT, serve


def parse_params(values: list[str]) -> dict[str, str]:
    params = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"--param {value!r}: expected KEY=VALUE")
        params[key] = text
    return params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localbus.serve",
        description="Serve a template's event flow as the AWS API on localhost "
        "(EventBridge, SQS, SNS Publish, Lambda Invoke; every other call goes to moto).",
    )
    parser.add_argument("template", help="a cdk.out folder or a CloudFormation template file")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default 4010")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a template parameter value (repeatable)",
    )
    parser.add_argument("--stack", help="which stack of a cdk.out (default: the first)")
    parser.add_argument(
        "--python-handlers",
        choices=PYTHON_MODES,
        default="in-process",
        help="run Python handlers in process (default, faster) or in child processes "
        "(timeouts stop them; memory is isolated)",
    )
    args = parser.parse_args(argv)
    try:
        params = parse_params(args.param)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    try:
        serve(
            args.template,
            port=args.port,
            host=args.host,
            parameters=params,
            stack=args.stack,
            python_mode=args.python_handlers,
        )
    except OSError as error:
        print(f"localbus serve: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
