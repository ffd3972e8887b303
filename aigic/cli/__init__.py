"""The ``aigic`` command line: main.py parses and dispatches (every error one line), one module
per command declares its arguments and runs it (encode, decode, inspect, edit, export, fuzz,
models; encode_many.py archives a collection), common.py holds what they share. The
measurement commands (bench, eval, bench-decode, bench-prompts) live in aigic.eval."""
