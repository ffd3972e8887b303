"""``aigic models list | download``: the weights each decoder profile and structure kind needs.

--profile P... --structure K... --needs.wanted()--> {repo: files needed}
list:     each repo's local copy (AIGIC_MODEL_DIR or the Hugging Face cache), its files,
          sizes, revision and pin state; what each profile still lacks
download: models.download.make_plan + run (total first, progress, resume, hash checks)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..backends import prepared
from ..backends.profiles import PROFILES
from ..format.codes import profile_names
from ..needs import DEFAULT_KINDS, DEFAULT_PROFILE, KINDS, profile_codes, wanted
from ..weights import download, repos
from ..weights.files import FP16, PLAIN, RepoSpec, load_state

HELP = "list or download the decoder's weights"


def arguments(m: argparse.ArgumentParser) -> None:
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


def local_files(spec: RepoSpec, where: Path) -> list[str]:
    """The files of ``spec`` present in ``where`` (whichever weight variant is there)."""
    names = [c for c in (*spec.configs, *spec.files) if (where / c).is_file()]
    for stem in spec.weights:
        names += [stem + ext for ext in (FP16, PLAIN) if (where / (stem + ext)).is_file()]
    return names


def _revision(repo: str, where: Path, state: dict) -> str:
    if repo in state["revisions"]:
        return f"revision {state['revisions'][repo][:12]}"
    if where.parent.name == "snapshots":  # the Hugging Face cache names snapshots by commit
        return f"revision {where.name[:12]}"
    return "revision not recorded (a copy made by hand)"


def cmd_list(a) -> None:
    state = load_state()
    everything = wanted(list(PROFILES), KINDS)
    absent = []
    for repo, spec in everything.items():
        where = repos.folder(repo)
        names = local_files(spec, where) if where else []
        if not names:
            absent.append(repo)
            print(f"{repo}: not here")
            continue
        total = sum((where / n).stat().st_size for n in names)
        print(f"{repo}: {where} ({total / 1e6:,.1f} MB, {_revision(repo, where, state)})")
        for n in names:
            size = (where / n).stat().st_size / 1e6
            print(f"    {n}  {size:,.1f} MB  {repos.pin_status(repo, where, n)}")
    print("profiles (with the sketch and canny adapters and colour):")
    for code, profile in PROFILES.items():
        lacks = [r for r in wanted([code], DEFAULT_KINDS) if r in absent]
        state_ = "ready" if not lacks else "lacks " + ", ".join(lacks)
        fix = f" (aigic models download --profile {profile.name})" if lacks else ""
        print(f"  {profile.name}: {state_}{fix}")
    files, size = prepared.kept()
    if files:
        print(
            f"prepared for CPU decodes: {files} files, {size / 1e9:,.1f} GB in "
            f"{prepared.folder()} (loads without casting; AIGIC_PREPARED_WEIGHTS=0 makes none, "
            "and the folder can be deleted)"
        )
    if absent and not download.HubSource().reachable():
        print(
            "note: the Hugging Face hub cannot be reached from here: `aigic models download` "
            f"would fetch {download.describe({r: everything[r] for r in absent})}"
        )


def cmd_download(a) -> None:
    kinds = KINDS if "all" in (a.structure or ()) else tuple(a.structure or DEFAULT_KINDS)
    need = wanted(profile_codes(a.profile or [DEFAULT_PROFILE]), kinds)
    source = download.FolderSource(Path(a.source)) if a.source else download.HubSource()
    dest = Path(a.to) if a.to else None
    plan = download.make_plan(need, source)
    todo = [f for f in plan.files if download.present(f, dest) is None]
    where = str(dest) if dest else "the Hugging Face cache"
    print(
        f"{len(plan.files)} files, {plan.total / 1e9:.2f} GB in all; fetching {len(todo)} "
        f"({sum(f.size for f in todo) / 1e9:.2f} GB) from {source.label} into {where}"
    )
    download.run(plan, source, dest, say=lambda line: print(f"  {line}"))
    for repo, commit in plan.commits.items():
        print(f"{repo}: revision {commit[:12]}")
    if dest is not None:
        print(f"done: use them with AIGIC_MODEL_DIR={dest.resolve()}")
    else:
        print("done: aigic finds them in the Hugging Face cache")


def run(a) -> None:
    {"list": cmd_list, "download": cmd_download}[a.action](a)
