"""`localbus serve` / `python -m localbus.serve`: the command line of the server."""

from __future__ import annotations

import argparse
import sys

from localbus.assembly import AssemblyError
from localbus.runtimes.specs import PYTHON_MODES
from localbus.serve.server import DEFAULT_PORT, serve

HELP = "Serve a template's event flow as the AWS API on localhost (aws CLI, boto3, any SDK)."
EPILOG = """examples:
  localbus serve cdk.out --port 4010
  aws --endpoint-url http://localhost:4010 events put-events --entries file://events/x.json
  curl -X POST 'http://localhost:4010/_localbus/advance?seconds=60'
  curl http://localhost:4010/_localbus/trace"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("template", help="a cdk.out folder or a CloudFormation template file")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0: any free port"
    )
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
        help="Python handlers in process (default, faster) or in child processes "
        "(a timeout stops them; memory is isolated)",
    )


def parse_params(values: list[str]) -> dict[str, str]:
    params = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {value!r}: expected KEY=VALUE")
        params[key] = text
    return params


def run(args: argparse.Namespace) -> int:
    try:
        params = parse_params(args.param)
    except ValueError as error:
        print(f"localbus serve: {error}", file=sys.stderr)
        return 2
    try:
        serve(
            args.template,
            port=args.port,
            host=args.host,
            parameters=params,
            stack=args.stack,
            python_mode=args.python_handlers,
        )
    except OSError as error:  # the port is taken
        print(f"localbus serve: {error}", file=sys.stderr)
        return 1
    except (AssemblyError, KeyError, ValueError) as error:  # no template there, no such stack
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"localbus serve: {message}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localbus serve", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))
