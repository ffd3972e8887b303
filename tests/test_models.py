"""``aigic models list | download``: the file selection, the pins, resume, the offline path.

The hub cannot be reached here, so downloads come from a fake repository: a folder laid out
like the hub (``models.download.FolderSource``), holding decoys (.bin, .ckpt, fp32 copies) the
selection must leave behind. The real hub client is exercised only on its offline path.
"""

import hashlib
import os
import subprocess
import sys

import pytest

from aigic.cli.main import main
from aigic.weights import download, repos
from aigic.weights import files as weights

BASE = repos.BASE
FP16_UNET = "unet/diffusion_pytorch_model.fp16.safetensors"


def _put(path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A fake hub holding what sd15-lcm4-a1111 with canny needs, plus decoys; SD 1.5's pins
    replaced by the fake files' hashes."""
    root = tmp_path / "mirror"
    pins = {}
    for name in repos.REPOS[BASE].configs:
        _put(root / BASE / name, b"{}")
    for stem in repos.REPOS[BASE].weights:
        data = f"fp16 weights of {stem}".encode()
        _put(root / BASE / (stem + weights.FP16), data)
        _put(root / BASE / (stem + weights.PLAIN), b"fp32 decoy")
        _put(root / BASE / (stem + ".bin"), b"pickle decoy")
        pins[stem + weights.FP16] = hashlib.sha256(data).hexdigest()
    _put(root / BASE / "v1-5-pruned-emaonly.ckpt", b"checkpoint decoy")
    (root / BASE / ".commit").write_text("a" * 40)
    for kind in ("canny", "color"):
        _put(root / repos.ADAPTERS[kind] / "config.json", b"{}")
        _put(root / repos.ADAPTERS[kind] / "diffusion_pytorch_model.safetensors", b"adapter")
    _put(root / repos.LCM_LORA / "pytorch_lora_weights.safetensors", b"lora")
    live = repos.REPOS[BASE].pins
    for name in list(live):
        monkeypatch.delitem(live, name)
    for name, sha in pins.items():
        monkeypatch.setitem(live, name, sha)
    monkeypatch.delenv("AIGIC_UNPINNED_WEIGHTS", raising=False)
    return root


def _download(mirror, dest, *extra):
    args = ["models", "download", "--from", str(mirror), "--to", str(dest)]
    return main([*args, "--profile", "sd15-lcm4-a1111", "--structure", "canny", *extra])


def test_select_prefers_fp16_safetensors_and_never_takes_pickles():
    spec = repos.REPOS[BASE]
    listing = {f"{s}{ext}": 1 for s in spec.weights for ext in (weights.FP16, ".bin")}
    listing |= {"unet/diffusion_pytorch_model.safetensors": 2, "model_index.json": 1}
    chosen = weights.select(spec, listing)
    assert FP16_UNET in chosen and "model_index.json" in chosen
    assert not [n for n in chosen if n.endswith(".bin")]
    with pytest.raises(weights.AigicError, match="no safetensors"):
        weights.select(spec, {"unet/diffusion_pytorch_model.bin": 1})


def test_download_fetches_exactly_the_needed_files_and_verifies_them(mirror, tmp_path, capsys):
    dest = tmp_path / "models"
    assert _download(mirror, dest) == 0
    out = capsys.readouterr().out
    # SD 1.5: 9 configs + 3 weights; canny and colour adapters: 2 each; the LoRA: 1
    assert out.splitlines()[0].startswith("17 files, 0.00 GB in all; fetching 17")
    got = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert f"{BASE}/{FP16_UNET}" in got
    assert not [g for g in got if g.endswith((".bin", ".ckpt")) or "fp32" in g]
    assert not [g for g in got if g.endswith("/diffusion_pytorch_model.safetensors") and BASE in g]
    assert f"{repos.ADAPTERS['sketch']}/config.json" not in got  # canny was asked, not sketch
    assert f"{BASE}: revision aaaaaaaaaaaa" in out
    assert f"AIGIC_MODEL_DIR={dest.resolve()}" in out
    state = weights.load_state()
    assert weights.is_verified(dest / BASE / FP16_UNET, repos.REPOS[BASE].pins[FP16_UNET], state)
    assert _download(mirror, dest) == 0  # everything is there: nothing fetched again
    assert "fetching 0 (0.00 GB)" in capsys.readouterr().out


def test_list_shows_what_is_here_its_pins_and_what_each_profile_lacks(
    mirror, tmp_path, capsys, monkeypatch
):
    dest = tmp_path / "models"
    assert _download(mirror, dest) == 0
    capsys.readouterr()
    monkeypatch.setenv("AIGIC_MODEL_DIR", str(dest))
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{BASE}: {dest / BASE}" in out and "revision aaaaaaaaaaaa" in out
    assert f"    {FP16_UNET}  0.0 MB  verified" in out
    assert f"{repos.ADAPTERS['sketch']}: not here" in out
    assert "sd15-lcm4-a1111: lacks TencentARC/t2iadapter_sketch_sd15v2" in out


def test_a_file_that_differs_from_its_pin_is_refused_and_not_kept(mirror, tmp_path, capsys):
    (mirror / BASE / FP16_UNET).write_bytes(b"tampered")
    dest = tmp_path / "models"
    assert _download(mirror, dest) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not the pinned file" in err and FP16_UNET in err
    assert not (dest / BASE / FP16_UNET).exists()


def test_an_interrupted_file_is_resumed(mirror, tmp_path):
    dest = tmp_path / "models"
    whole = (mirror / BASE / FP16_UNET).read_bytes()
    _put(dest / BASE / (FP16_UNET + ".incomplete"), whole[:7])
    assert _download(mirror, dest) == 0
    assert (dest / BASE / FP16_UNET).read_bytes() == whole


def test_a_verified_file_is_hashed_once(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"weights")
    sha = hashlib.sha256(b"weights").hexdigest()
    weights.verify(path, sha, "w")
    monkeypatch.setattr(weights, "sha256_file", lambda p: pytest.fail("hashed again"))
    weights.verify(path, sha, "w")
    path.write_bytes(b"changed!")  # a changed file (size, mtime) is hashed again
    monkeypatch.undo()
    with pytest.raises(weights.WeightMismatch):
        weights.verify(path, sha, "w")


def test_offline_both_commands_say_so_in_one_line_naming_what_they_would_fetch(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"), AIGIC_MODEL_DIR="")

    def aigic(*args):
        cmd = [sys.executable, "-m", "aigic", "models", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)

    r = aigic("download", "--profile", "sd15-lcm4-taesd-a1111")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "cannot be reached: would fetch stable-diffusion-v1-5/stable-diffusion-v1-5" in r.stderr
    assert "madebyollin/taesd" in r.stderr and "latent-consistency/lcm-lora-sdv1-5" in r.stderr
    listed = aigic("list")
    assert listed.returncode == 0, listed.stderr
    note = [line for line in listed.stdout.splitlines() if line.startswith("note:")]
    assert len(note) == 1 and "would fetch" in note[0]


def test_the_hub_source_reads_a_listing_and_refuses_a_pin_mismatch_before_fetching():
    class FakeHub(download.HubSource):
        def reachable(self):
            return True

        def listing(self, repo, revision):
            files = {n: (10, None) for n in repos.REPOS[BASE].configs}
            files |= {s + weights.FP16: (10, "0" * 64) for s in repos.REPOS[BASE].weights}
            return "b" * 40, files

    with pytest.raises(weights.WeightMismatch, match="the hub says"):
        download.make_plan({BASE: repos.REPOS[BASE]}, FakeHub())


def test_the_progress_callback_counts_the_bytes_still_to_fetch(mirror, tmp_path):
    from aigic.needs import profile_codes, wanted

    dest = tmp_path / "models"
    need = wanted(profile_codes(["sd15-lcm4-a1111"]), ("canny",))
    plan = download.make_plan(need, download.FolderSource(mirror))
    seen = []
    download.run(plan, download.FolderSource(mirror), dest, say=lambda _l: None,
                 progress=lambda done, total, task: seen.append((done, total)))  # fmt: skip
    assert len(seen) == len(plan.files) and seen[0][0] == 0
    assert {t for _, t in seen} == {plan.total} and [d for d, _ in seen] == sorted(
        d for d, _ in seen
    )
    seen.clear()
    download.run(plan, download.FolderSource(mirror), dest, say=lambda _l: None,
                 progress=lambda *a: seen.append(a))  # fmt: skip
    assert seen == []  # nothing left to fetch


def test_weights_in_the_model_dir_do_not_make_sd15_available_without_its_packages(monkeypatch):
    import importlib.util

    from aigic import backends
    from aigic.backends.profiles import ADAPTERS, BASE

    everything = {r: f"/models/{r}" for r in (BASE, *ADAPTERS.values())}
    monkeypatch.setattr(backends, "local_sources", lambda: everything)
    assert backends.sd15_available()[0]  # all weights there, torch and diffusers installed
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "diffusers" else real(name)
    )
    ok, why = backends.sd15_available()
    assert not ok and "needs diffusers" in why and "aigic[sd]" in why
    assert backends.get_backend("auto").name == "preview"


def test_the_sdxl_profiles_download_fp16_files_pinned_by_sdxls_history(tmp_path, capsys):
    """SDXL base's files carry the real SHA-256s (../shared's manifest): the fast profile
    fetches both text encoders, the UNet and the VAE in fp16, the canny XL adapter and
    LCM-LoRA-SDXL; a file that is not the pinned one is refused and not kept."""
    xl = repos.SDXL_BASE
    assert repos.REPOS[xl].pins[FP16_UNET].startswith("83e012a805b8")
    root = tmp_path / "mirror"
    for name in repos.REPOS[xl].configs:
        _put(root / xl / name, b"{}")
    for stem in repos.REPOS[xl].weights:
        _put(root / xl / (stem + weights.FP16), f"fake fp16 {stem}".encode())
        _put(root / xl / (stem + weights.PLAIN), b"fp32 decoy")
    _put(root / xl / "sd_xl_base_1.0.safetensors", b"single-file decoy")
    adapter = repos.SDXL_ADAPTERS["canny"]
    _put(root / adapter / "config.json", b"{}")
    _put(root / adapter / "diffusion_pytorch_model.fp16.safetensors", b"adapter")
    _put(root / repos.LCM_LORA_SDXL / "pytorch_lora_weights.safetensors", b"lora")
    dest = tmp_path / "models"
    args = ["models", "download", "--from", str(root), "--to", str(dest)]
    assert main([*args, "--profile", "sdxl-lcm4-a1111", "--structure", "canny"]) == 2
    said = capsys.readouterr()
    assert "is not the pinned file" in said.err and "\n" not in said.err.strip()
    got = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert not [g for g in got if g.endswith(weights.FP16) and xl in g]  # refused, not kept
    planned = said.out.splitlines()[0]
    # SDXL: 14 configs + 4 fp16 weights; the canny XL adapter: 2; LCM-LoRA-SDXL: 1
    assert planned.startswith("21 files"), planned
