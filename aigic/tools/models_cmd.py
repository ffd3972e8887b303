"""``aigic models list | download``: the weights each decoder profile and structure kind needs.

--profile P... --structure K... --wanted()--> {repo: files needed} (the profiles' models,
    the adapters of K plus colour, the encoder's PiDiNet / OpenPose file for K)
list:     each repo's local copy (AIGIC_MODEL_DIR or the Hugging Face cache), its files,
          sizes, revision and pin state; what each profile still lacks
download: models.download.make_plan + run (total first, progress, resume, hash checks)
"""

from __future__ import annotations

from pathlib import Path

from ..backends.profiles import PROFILES
from ..encoder.extractors import FILES as ANNOTATOR_FILES
from ..errors import AigicError
from ..format.codes import profile_names
from ..models import download, repos
from ..models.weights import FP16, PLAIN, RepoSpec, load_state

KINDS = ("sketch", "canny", "pose")
DEFAULT_KINDS = ("sketch", "canny")
DEFAULT_PROFILE = "sd15-dpm25-a1111"


def profile_codes(names) -> list[int]:
    codes = {v: k for k, v in profile_names().items()}
    bad = [n for n in names if n not in codes]
    if bad:
        raise AigicError(f"unknown profile {bad[0]!r}: choose from {', '.join(codes)}")
    return [codes[n] for n in names]


def wanted(codes, kinds) -> dict[str, RepoSpec]:
    """{repo: the files needed from it} for decoding ``codes`` with ``kinds`` (+ colour) and
    for encoding ``kinds`` (PiDiNet for sketches, OpenPose for poses)."""
    out: dict[str, RepoSpec] = {}
    for code in codes:
        for repo in PROFILES[code].models((*kinds, "color")):
            out[repo] = repos.REPOS[repo]
    files = tuple(ANNOTATOR_FILES[k] for k in kinds if k in ANNOTATOR_FILES)
    if files:
        pins = {n: s for n, s in repos.REPOS[repos.ANNOTATORS].pins.items() if n in files}
        out[repos.ANNOTATORS] = RepoSpec(files=files, pins=pins, key=files[0])
    return out


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
