"""The `localbus` command: `localbus run TEMPLATE ...`, `localbus serve TEMPLATE ...` (see
`localbus --help`).

Each subcommand lives in its own module and adds itself here with one line in SUBCOMMANDS.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from localbus import run_command
from localbus.serve import command as serve_command

# name -> (add its arguments to a subparser, run it and return the exit code)
SUBCOMMANDS: dict[
    str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {
    "run": (run_command.HELP, run_command.add_arguments, run_command.run),
    "serve": (serve_command.HELP, serve_command.add_arguments, serve_command.run),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localbus",
        description="Run an EventBridge app (CloudFormation, SAM or CDK) locally, offline.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, _) in SUBCOMMANDS.items():
        add_arguments(commands.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return SUBCOMMANDS[args.command][2](args)


if __name__ == "__main__":
    sys.exit(main())
