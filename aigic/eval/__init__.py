"""Measuring aigic: ``aigic bench`` (rate and layer fidelity over a folder: bench.py, its table
and plot bench_report.py), ``aigic eval`` (decoded-image quality beside JPEG / WebP / AVIF:
evaluate.py over sources.py's datasets, metrics.py, report.py), ``aigic bench-decode`` (the
diffusion decode's time at full size: bench_decode.py) and ``aigic bench-prompts`` (the prompt
coder on held-out prompts: bench_prompts.py)."""
