"""The tools on top of the API: the ``aigic`` command and what it runs.

cli.py, cliargs.py  the command line (one parser per command; errors are one line)
messages.py         sentences shown to people about an encode (CLI and app)
bench.py            rate / fidelity over a folder, beside JPEG/WebP/AVIF (benchreport.py)
fuzz.py             the parser and every layer decoder under mutated inputs
export.py           each decoded layer as a file
"""
