"""The suite is hermetic: what a test sees does not depend on the machine's caches or network.

conftest.py points every cache at an empty folder of the session's and turns downloads off. These
tests check that it holds, and that it holds even where the user's own environment has PiDiNet
cached and the hub switched on (a second pytest run, in a subprocess, with such an environment).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HERMETIC, ROOT

PIDINET = ROOT.parent / "shared" / "models" / "pidinet" / "table5_pidinet.pth"


def test_every_cache_is_the_sessions_own_and_downloads_are_off():
    import huggingface_hub.constants as hf

    from aigic.weights import hub

    assert hf.HF_HUB_OFFLINE and hub.offline() and not hub.reachable()
    assert not hub.answers("github.com") and not hub.answers("download.pytorch.org")
    assert Path(hf.HF_HUB_CACHE).is_relative_to(HERMETIC)
    for name in ("HF_HOME", "TORCH_HOME", "XDG_CACHE_HOME", "AIGIC_STATE_DIR", "AIGIC_MODEL_DIR"):
        assert Path(os.environ[name]).is_relative_to(HERMETIC), name


def test_without_a_model_asked_for_the_default_structure_is_canny():
    from aigic.encoder import extractors

    extractors.available.cache_clear()
    ok, why = extractors.available("sketch")
    assert not ok and "not in AIGIC_MODEL_DIR" in why


def _hf_cache_with_pidinet(root: Path) -> Path:
    """A Hugging Face hub cache holding lllyasviel/Annotators' PiDiNet file, as a download
    would leave it (refs/main -> a snapshot folder)."""
    repo = root / "hub" / "models--lllyasviel--Annotators"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    (snap / PIDINET.name).symlink_to(PIDINET)
    return root


@pytest.mark.skipif(not PIDINET.is_file(), reason=f"needs PiDiNet's checkpoint at {PIDINET}")
def test_a_user_environment_with_pidinet_cached_and_the_hub_on_changes_nothing(tmp_path):
    hf_home = _hf_cache_with_pidinet(tmp_path / "user-hf")
    models = tmp_path / "user-models" / "lllyasviel" / "Annotators"
    models.mkdir(parents=True)
    (models / PIDINET.name).symlink_to(PIDINET)
    env = {k: v for k, v in os.environ.items() if not k.endswith("OFFLINE")}
    env.update(HF_HOME=str(hf_home), AIGIC_MODEL_DIR=str(models.parents[1]))
    # first: this environment really does find PiDiNet outside the suite
    probe = "from aigic.encoder.extractors import available; print(available('sketch')[0])"
    seen = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert seen.stdout.strip() == "True", seen.stderr
    # then: inside the suite it does not
    test = f"{Path(__file__).relative_to(ROOT)}::test_without_a_model_asked_for_the_default_structure_is_canny"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test]
    run = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
