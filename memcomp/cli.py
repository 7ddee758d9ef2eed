"""The ``memcomp`` command line.

    memcomp reproduce --list
    memcomp reproduce figure1 --scale paper --out results/
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

from memcomp import __version__
from memcomp.experiments import EXPERIMENTS, load


class _Parser(argparse.ArgumentParser):
    """Every usage error, in any subcommand, ends in one line ``memcomp: error: ...``."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"memcomp: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``memcomp`` argument parser with one subcommand per registered experiment."""
    parser = _Parser(
        prog="memcomp",
        description=(
            "Reproduce 'Memorizing long-tail data can help generalization through "
            "composition' (Zhou, Ma, Ge 2025): the experiments behind the memcomp book."
        ),
    )
    parser.add_argument("--version", action="version", version=f"memcomp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    reproduce = commands.add_parser(
        "reproduce",
        help="run one of the paper's experiments and write its JSON and figure",
        description="Run one experiment; `memcomp reproduce --list` shows them all.",
    )
    reproduce.add_argument("--list", action="store_true", help="list the experiments and exit")
    experiments = reproduce.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    for name in EXPERIMENTS:
        module = load(name)
        sub = experiments.add_parser(name, help=module.DESCRIPTION, description=module.DESCRIPTION)
        module.add_arguments(sub)
    return parser


def list_experiments() -> str:
    if not EXPERIMENTS:
        return "No experiments are registered yet."
    lines = [f"{name:<10} {load(name).DESCRIPTION}" for name in EXPERIMENTS]
    return "\n".join(lines)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 done, 2 bad input or an OS error).

    Bad input (a ``ValueError``: a flag out of range, an unwritable ``--out``) and any
    ``OSError`` (a failed download, a full disk) print one line, ``memcomp: error: ...``,
    to stderr, without a traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse has printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "reproduce":
        if args.list or args.experiment is None:
            print(list_experiments())
            return 0
        try:
            payload = load(args.experiment).run_from_args(args)
        except (ValueError, OSError) as exc:
            print(f"memcomp: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        print(f"{args.experiment}: finished in {payload.get('seconds', float('nan')):.1f} s")
        return 0
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
