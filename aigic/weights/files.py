"""Weight files: which files of a model repo to fetch, and whether a local file is the pinned one.

    repo listing (names, sizes, LFS hashes) --select(spec)--> the files a decode needs
        (the fp16 safetensors variant where the repo has one, else safetensors; never pickles)
    local file --verify(path, sha256)--> ok | WeightMismatch (hashed once: a marker remembers
        the file's size, mtime and digest, so later loads cost a stat)

The marker file and the record of which revision each repo came from live in
``$AIGIC_STATE_DIR`` (default ``~/.cache/aigic``) as ``weights.json``. Imports no torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AigicError

FP16 = ".fp16.safetensors"
PLAIN = ".safetensors"


class WeightMismatch(AigicError):
    """A weight file's content is not the one its profile pins."""


@dataclass(frozen=True)
class RepoSpec:
    """What a decode needs from one repo: config files (taken when the repo has them), weight
    stems (``unet/diffusion_pytorch_model`` -> its fp16 or plain safetensors) and exact files."""

    configs: tuple[str, ...] = ()
    weights: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    pins: dict = field(default_factory=dict)  # file name -> SHA-256 known from the model's history
    key: str = "config.json"  # the file whose presence marks a local copy


def select(spec: RepoSpec, listing: dict[str, int]) -> list[str]:
    """The names from ``listing`` ({name: size}) that ``spec`` needs, or AigicError naming the
    first weight stem the repo has no safetensors for."""
    names = [c for c in spec.configs if c in listing]
    for stem in spec.weights:
        for candidate in (stem + FP16, stem + PLAIN):
            if candidate in listing:
                names.append(candidate)
                break
        else:
            raise AigicError(f"the repo has no safetensors weights for {stem!r}")
    missing = [f for f in spec.files if f not in listing]
    if missing:
        raise AigicError(f"the repo lacks {', '.join(missing)}")
    return names + list(spec.files)


def variant(folder: Path) -> str | None:
    """'fp16' when ``folder`` holds fp16 safetensors and no plain ones (what a download picked),
    for ``from_pretrained(variant=...)``."""
    names = [p.name for p in Path(folder).glob("*" + PLAIN)]
    fp16 = [n for n in names if n.endswith(FP16)]
    return "fp16" if fp16 and len(fp16) == len(names) else None


# ---- the state file: verified markers and downloaded revisions ----------------------------
def state_path() -> Path:
    root = os.environ.get("AIGIC_STATE_DIR") or Path.home() / ".cache" / "aigic"
    return Path(root) / "weights.json"


def load_state() -> dict:
    try:
        state = json.loads(state_path().read_text())
    except (OSError, ValueError):
        return {"verified": {}, "revisions": {}}
    if not isinstance(state, dict):
        return {"verified": {}, "revisions": {}}
    for key in ("verified", "revisions"):
        if not isinstance(state.get(key), dict):
            state[key] = {}
    return state


def save_state(state: dict) -> None:
    path = state_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        tmp.replace(path)
    except OSError:  # a read-only home: the check simply runs again next time
        pass


def record_revision(repo: str, revision: str) -> None:
    state = load_state()
    state["revisions"][repo] = revision
    save_state(state)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> list:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def known_digest(path: Path, state: dict | None = None) -> str | None:
    """The SHA-256 a marker remembers for ``path`` unchanged since it was hashed, or None."""
    state = load_state() if state is None else state
    mark = state["verified"].get(str(Path(path).resolve()))
    if not mark or len(mark) != 3 or not Path(path).is_file():
        return None
    return mark[2] if mark[:2] == _stamp(Path(path)) else None


def is_verified(path: Path, expected: str, state: dict | None = None) -> bool:
    """Whether a marker says ``path``, unchanged since, was hashed to ``expected``."""
    return known_digest(path, state) == expected


def verify(path: Path, expected: str, label: str) -> None:
    """Raise WeightMismatch unless ``path`` hashes to ``expected``. Each file is hashed once:
    its digest is remembered against its size and mtime, a mismatching one too (a file that
    differs is refused as fast the next time, or loaded at once where unpinned files may be)."""
    path = Path(path)
    state = load_state()
    actual = known_digest(path, state)
    if actual is None:
        actual = sha256_file(path)
        state["verified"][str(path.resolve())] = [*_stamp(path), actual]
        save_state(state)
    if actual != expected:
        raise WeightMismatch(
            f"{label} is not the pinned file (SHA-256 {actual[:12]}…, expected "
            f"{expected[:12]}…): delete {path} and run `aigic models download` again"
        )
