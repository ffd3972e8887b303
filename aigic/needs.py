"""Which model files a decode profile and a structure kind need (the CLI's ``aigic models``
and the app's Download button both ask here).

    profile codes + structure kinds --wanted()--> {repo: RepoSpec} (the profiles' models, the
        adapters of the kinds plus colour, the encoder's PiDiNet / OpenPose file for the kinds)
"""

from __future__ import annotations

from .backends.profiles import PROFILES
from .encoder.extractors import FILES as ANNOTATOR_FILES
from .errors import AigicError
from .format.codes import profile_names
from .weights import repos
from .weights.files import RepoSpec

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
