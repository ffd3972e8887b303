"""The ``aigic`` command: one module per command, each with its ``HELP``, ``arguments(parser)``
and ``run(args)``:

    encode, decode, inspect, edit, export, fuzz, models   aigic/cli/<command>.py
    bench, eval, bench-decode, bench-prompts              aigic/eval/

Every failure is one line on stderr ("aigic: error: ...") and exit code 2 (3 for a bug);
never a traceback unless AIGIC_DEBUG=1.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

from ..errors import AigicError

COMMANDS = {  # name: the module that declares and runs it
    "encode": "aigic.cli.encode",
    "decode": "aigic.cli.decode",
    "inspect": "aigic.cli.inspect",
    "edit": "aigic.cli.edit",
    "export": "aigic.cli.export",
    "bench": "aigic.eval.bench",
    "fuzz": "aigic.cli.fuzz",
    "models": "aigic.cli.models",
    "eval": "aigic.eval.evaluate",
    "bench-decode": "aigic.eval.bench_decode",
    "bench-prompts": "aigic.eval.bench_prompts",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (exit 2), like every other error:
    what is wrong and where the command's help is, without the usage block."""

    def error(self, message: str):
        self.exit(2, f"aigic: error: {self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from ..format.codes import FORMAT_MAJOR, FORMAT_MINOR

    p = OneLineParser(
        prog="aigic", description="Layered ultra-low-bitrate codec for AI-generated images."
    )
    p.add_argument(
        "--version",
        action="version",
        version=f"aigic {__version__} (writes stream format {FORMAT_MAJOR}.{FORMAT_MINOR})",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        command = import_module(module)
        command.arguments(sub.add_parser(name, help=command.HELP))
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import_module(COMMANDS[args.command]).run(args)
    except (AigicError, ValueError) as exc:
        print(f"aigic: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("aigic: error: out of memory (the input is too large)", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still one line for the user; AIGIC_DEBUG=1 shows it
        if os.environ.get("AIGIC_DEBUG"):
            raise
        print(
            f"aigic: error: internal error {type(exc).__name__}: {exc} "
            "(set AIGIC_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 3
    except KeyboardInterrupt:
        print("aigic: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
