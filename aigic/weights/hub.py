"""Where model weights come from: a local folder, the Hugging Face cache, or the hub.

    locate(repo, revision, key_file, source) --> from_pretrained-style arguments, or a
        ModelUnavailable that names the repo and how to get it (fast: no retry loop when the
        hub cannot be reached)

Imports no torch; huggingface_hub only when called.
"""

from __future__ import annotations

from ..errors import ModelUnavailable


def local_dir(repo: str) -> str | None:
    """``$AIGIC_MODEL_DIR/<repo>`` when that folder exists: local copies used instead of the hub."""
    import os
    from pathlib import Path

    root = os.environ.get("AIGIC_MODEL_DIR")
    path = Path(root) / repo if root else None
    return str(path) if path is not None and path.is_dir() else None


def cached(repo: str, filename: str, revision: str) -> str | None:
    """The local path of ``filename`` of ``repo`` at ``revision`` in the HF cache, or None."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo, filename, revision=revision)
    return found if isinstance(found, str) else None


def offline() -> bool:
    """Whether ``AIGIC_OFFLINE`` forbids every download (the hub, GitHub, PyTorch's servers):
    what is not already on disk is then missing, whatever the network would answer."""
    import os

    return os.environ.get("AIGIC_OFFLINE", "") not in ("", "0")


def answers(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """Whether ``host`` accepts a TCP connection on ``port`` (no retry loop; never under
    ``AIGIC_OFFLINE``)."""
    import socket

    if offline():
        return False
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def reachable(timeout: float = 3.0) -> bool:
    """Whether the hub endpoint answers a TCP connection (False when HF_HUB_OFFLINE or
    AIGIC_OFFLINE is set)."""
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or offline():
        return False
    url = urlparse(constants.ENDPOINT)
    return answers(url.hostname, url.port or 443, timeout)


def missing(repo: str, revision: str, why: str, fallback: str) -> ModelUnavailable:
    return ModelUnavailable(
        f"cannot load {repo} (revision {revision}): {why}. Get it with "
        f"`huggingface-cli download {repo}` on a machine with internet, or {fallback}"
    )


def locate(repo: str, revision: str, key_file: str, fallback: str) -> dict:
    """from_pretrained arguments for ``repo``: the cache when it holds ``key_file`` (no network
    then), else the hub when reachable; otherwise raise :class:`ModelUnavailable`."""
    hit = cached(repo, key_file, revision) is not None
    if not hit and not reachable():
        raise missing(
            repo,
            revision,
            "not in the local Hugging Face cache and the hub is unreachable",
            fallback,
        )
    return {"pretrained_model_name_or_path": repo, "revision": revision, "local_files_only": hit}
