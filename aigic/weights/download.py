"""Fetching the weight files a decode needs, checked against their pins.

    repos --source.listing(repo, revision)--> commit + {name: (size, LFS SHA-256)}
          --weights.select(spec)--> the files (fp16 safetensors where the repo has them)
          --plan: total size first--> source.fetch(file) one by one (progress bar, resumable)
          --weights.verify(pin)--> kept, and the revision recorded; a mismatch is deleted and
            refused in one line

A source is the hub (``HubSource``, huggingface_hub: resumes an interrupted file, shows a tqdm
bar) or a local folder laid out like the hub (``FolderSource``: tests, offline mirrors).
Files go to the Hugging Face cache, or with ``dest`` to ``dest/<repo>/`` (the
``AIGIC_MODEL_DIR`` layout). Imports huggingface_hub only in HubSource.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import AigicError
from . import hub
from .files import WeightMismatch, record_revision, select, verify
from .repos import REVISIONS


class HubUnreachable(AigicError):
    """No model hub can be reached; the message names what would have been fetched."""


@dataclass(frozen=True)
class FileTask:
    repo: str
    name: str
    size: int
    pin: str | None  # SHA-256 the profile pins (or the hub's LFS hash when none is pinned)


@dataclass(frozen=True)
class Plan:
    commits: dict  # repo -> the commit the files come from
    files: list

    @property
    def total(self) -> int:
        return sum(f.size for f in self.files)


class HubSource:
    """The Hugging Face hub (or a mirror through HF_ENDPOINT)."""

    label = "the Hugging Face hub"

    def reachable(self) -> bool:
        return hub.reachable()

    def listing(self, repo: str, revision: str) -> tuple[str, dict]:
        from huggingface_hub import HfApi

        info = HfApi().model_info(repo, revision=revision, files_metadata=True)
        files = {s.rfilename: (s.size or 0, s.lfs.sha256 if s.lfs else None) for s in info.siblings}
        return info.sha, files

    def fetch(self, task: FileTask, revision: str, dest: Path | None) -> Path:
        from huggingface_hub import hf_hub_download

        local = {"local_dir": dest / task.repo} if dest is not None else {}
        return Path(hf_hub_download(task.repo, task.name, revision=revision, **local))


class FolderSource:
    """A folder holding ``<repo>/<files>`` (and optionally ``<repo>/.commit``), served like the
    hub: tests and offline mirrors. A partly copied file (``.incomplete``) is resumed."""

    label = "a local folder"

    def __init__(self, root: Path, chunk: int = 1 << 20):
        self.root, self.chunk = Path(root), chunk

    def reachable(self) -> bool:
        return self.root.is_dir()

    def listing(self, repo: str, revision: str) -> tuple[str, dict]:
        top = self.root / repo
        if not top.is_dir():
            raise AigicError(f"{repo} is not in {self.root}")
        commit_file = top / ".commit"
        commit = commit_file.read_text().strip() if commit_file.is_file() else revision
        files = {
            p.relative_to(top).as_posix(): (p.stat().st_size, None)
            for p in sorted(top.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        }
        return commit, files

    def fetch(self, task: FileTask, revision: str, dest: Path | None) -> Path:
        if dest is None:
            raise AigicError("a folder source needs a destination folder (--to)")
        src, out = self.root / task.repo / task.name, dest / task.repo / task.name
        out.parent.mkdir(parents=True, exist_ok=True)
        part = out.with_name(out.name + ".incomplete")
        with open(src, "rb") as fin, open(part, "ab") as fout:
            fin.seek(fout.tell())  # resume where an interrupted copy stopped
            shutil.copyfileobj(fin, fout, self.chunk)
        part.replace(out)
        return out


def describe(wanted: dict) -> str:
    """What would be fetched, for the one-line message when no hub answers: each repo with
    its weights (and how many small files beside them)."""
    parts = []
    for repo, spec in wanted.items():
        heavy = [s.rsplit("/", 2)[0] if "/" in s else "weights" for s in spec.weights]
        heavy += list(spec.files)
        small = " + configs" if spec.configs else ""
        parts.append(f"{repo} ({', '.join(heavy)}{small})")
    return "; ".join(parts)


def make_plan(wanted: dict, source) -> Plan:
    """The files to fetch from each repo of ``wanted`` ({repo: RepoSpec}), with sizes and the
    hash each must have."""
    if not source.reachable():
        raise HubUnreachable(f"{source.label} cannot be reached: would fetch {describe(wanted)}")
    commits, files = {}, []
    for repo, spec in wanted.items():
        try:
            commit, listing = source.listing(repo, REVISIONS[repo])
            names = select(spec, {n: s for n, (s, _) in listing.items()})
        except AigicError as exc:
            raise AigicError(f"{repo}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 -- any hub error: one line naming the repo
            raise AigicError(f"{repo}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
        commits[repo] = commit
        for name in names:
            size, lfs = listing[name]
            pin = spec.pins.get(name)
            if pin and lfs and lfs != pin:  # refuse before downloading gigabytes
                raise WeightMismatch(
                    f"{repo}/{name} at {commit[:12]} is not the pinned file (the hub says "
                    f"SHA-256 {lfs[:12]}…, pinned {pin[:12]}…)"
                )
            files.append(FileTask(repo, name, size, pin or lfs))
    return Plan(commits, files)


def present(task: FileTask, dest: Path | None) -> Path | None:
    """The already complete local copy of ``task``'s file, if any (a pinned one must verify)."""
    path = dest / task.repo / task.name if dest is not None else None
    if path is None:
        found = hub.cached(task.repo, task.name, REVISIONS[task.repo])
        path = Path(found) if found else None
    if path is None or not path.is_file() or path.stat().st_size != task.size:
        return None
    return path


def run(plan: Plan, source, dest: Path | None, say=print, progress=None) -> list[Path]:
    """Fetch every file of ``plan`` not already there, verify each, record the revisions.
    ``progress(done, total, task)``, if given, is called before each fetch (done of total bytes
    to fetch)."""
    found = [(task, present(task, dest)) for task in plan.files]
    total = sum(task.size for task, path in found if path is None)
    out, done = [], 0
    for task, path in found:
        if path is None:
            say(f"{task.repo}/{task.name} ({task.size / 1e6:,.1f} MB)")
            if progress:
                progress(done, total, task)
            path = source.fetch(task, REVISIONS[task.repo], dest)
            done += task.size
        if task.pin:
            try:
                verify(path, task.pin, f"{task.repo}/{task.name}")
            except WeightMismatch:  # never leave a wrong file where loads would find it
                target = path.resolve()
                path.unlink(missing_ok=True)
                target.unlink(missing_ok=True)  # the cache's blob behind its symlink
                raise
        out.append(path)
    for repo, commit in plan.commits.items():
        record_revision(repo, commit)
    return out
