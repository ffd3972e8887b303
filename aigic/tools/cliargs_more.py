"""The arguments of ``aigic models``, ``bench-decode`` and ``eval`` (cliargs.py holds the rest)."""

from __future__ import annotations

import argparse

from ..format.codes import profile_names


def models_args(m: argparse.ArgumentParser) -> None:
    sub = m.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="what is here, its sizes, revisions and pins; what each lacks")
    d = sub.add_parser("download", help="fetch what the chosen profiles and structures need")
    d.add_argument(
        "--profile",
        action="append",
        choices=list(profile_names().values()),
        help="a decoder profile (repeatable; default sd15-dpm25-a1111)",
    )
    d.add_argument(
        "--structure",
        action="append",
        choices=["sketch", "canny", "pose", "all"],
        help="a structure kind to decode and encode (repeatable; default sketch and canny)",
    )
    d.add_argument("--to", help="a folder (the AIGIC_MODEL_DIR layout) instead of the HF cache")
    d.add_argument(
        "--from", dest="source", help="a local mirror laid out as <repo>/<files> (not the hub)"
    )


def bench_decode_args(b: argparse.ArgumentParser) -> None:
    b.add_argument(
        "--profiles",
        default="sd15-lcm4-a1111,sd15-lcm4-taesd-a1111,sd15-dpm25-a1111",
        help="comma-separated decoder profiles",
    )
    b.add_argument(
        "--subsets",
        default="all",
        help="comma-separated layer subsets: text, text+structure, text+texture, all",
    )
    b.add_argument("--size", type=int, default=512)
    b.add_argument("--runs", type=int, default=3, help="decodes timed per row (median)")
    b.add_argument("--steps", type=int, help="override every profile's step count")
    b.add_argument("--device", help="torch device (default: cuda if present, else cpu)")
    b.add_argument(
        "--dtype",
        default="auto",
        help="comma-separated number types: auto (fp16 on CUDA, bf16 on a CPU with native "
        "bf16, else fp32), fp32, bf16, fp16",
    )
    b.add_argument(
        "--channels-last", default="on", help="comma-separated on/off: channels-last convolutions"
    )
    b.add_argument(
        "--configs",
        help="SD 1.5's config folder (default ../shared/models/stable-diffusion-v1-5 beside "
        "the project); the models are built from it with random weights",
    )
    b.add_argument("--models", help="a folder to build the models in (kept; default: a tmp dir)")


def eval_args(v: argparse.ArgumentParser) -> None:
    v.add_argument(
        "source", help="a folder, a glob, a CSV of paths and prompts, Parquet or .tar shards"
    )
    v.add_argument("--decoder", default="preview", choices=["preview", "sd15"])
    v.add_argument("--presets", default="default", help="comma-separated presets")
    v.add_argument(
        "--layers-progressive", action="store_true", help="also decode each layer subset"
    )
    v.add_argument(
        "--baselines", default="jpeg,webp,avif", help="comma-separated: jpeg, webp, avif ('' none)"
    )
    v.add_argument("--out", default="eval-out", help="folder for rows.csv, table.md, plots")
    v.add_argument("--limit", type=int, help="at most this many images")
    v.add_argument("--workers", type=int, help="encoding processes (default: all cores)")


def bench_prompts_args(b: argparse.ArgumentParser) -> None:
    b.add_argument(
        "prompts",
        nargs="?",
        default="../shared/data/prompts/prompts.tsv",
        help="a prompts.tsv (id, source, prompt, ...); its every 10th prompt is measured",
    )
    b.add_argument(
        "--manifest",
        action="append",
        default=[],
        help="also measure the prompts of this manifest.csv (columns file, prompt); repeatable",
    )
    b.add_argument("--limit", type=int, help="measure at most N prompts")
