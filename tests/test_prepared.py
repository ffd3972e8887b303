"""Prepared weights (aigic/backends/prepared.py): a CPU decode loads each model from a file
in its own number type and layout, and decodes exactly what from_pretrained's model would."""

import json
import os
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from aigic.backends import prepared


@pytest.fixture
def stream():
    from aigic import encode
    from tests.conftest import synthetic

    return encode(synthetic(64, 64), prompt="a red square on a field", seed=5, structure="canny")


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGIC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("AIGIC_PREPARED_WEIGHTS", raising=False)
    return tmp_path / "state"


def _decode(tiny_dir, data, code):
    from aigic import decode
    from aigic.backends.sd15 import SD15Backend
    from aigic.testing.models import sources

    backend = SD15Backend(sources=sources(tiny_dir), device="cpu", pixels=64 * 64)
    return np.asarray(decode(data, backend=backend, profile=code)), backend


@pytest.mark.parametrize("code", [3, 4])  # LCM-LoRA on the prepared UNet; TAESD's latents
def test_a_prepared_load_decodes_the_same_pixels(tiny_dir, stream, state, monkeypatch, code):
    monkeypatch.setenv("AIGIC_PREPARED_WEIGHTS", "0")
    plain, _ = _decode(tiny_dir, stream, code)
    assert prepared.kept() == (0, 0)  # turned off: nothing written
    monkeypatch.delenv("AIGIC_PREPARED_WEIGHTS")
    first, _ = _decode(tiny_dir, stream, code)  # loads as before, then writes the files
    files, size = prepared.kept()
    assert files >= 4 and size > 0  # text encoder, VAE or TAESD, UNet, adapters
    built = []
    build = prepared.build
    monkeypatch.setattr(prepared, "build", lambda *a: built.append(a[0].__name__) or build(*a))
    again, backend = _decode(tiny_dir, stream, code)
    assert {"CLIPTextModel", "UNet2DConditionModel", "T2IAdapter"} <= set(built)
    np.testing.assert_array_equal(plain, first)
    np.testing.assert_array_equal(plain, again)
    unet = backend._base()["unet"]
    convs = [m.weight for m in unet.modules() if type(m).__name__ == "Conv2d"]
    assert convs and all(
        w.is_contiguous(memory_format=__import__("torch").channels_last) for w in convs
    )


def test_a_damaged_or_outdated_prepared_file_is_replaced(tiny_dir, stream, state):
    import torch

    from aigic.backends.profiles import BASE
    from aigic.testing.models import sources

    want, backend = _decode(tiny_dir, stream, 3)
    unet = Path(sources(tiny_dir)[BASE]) / "unet"
    unet_file = prepared.path_for(unet, backend.dtype, True)
    assert prepared.read(unet_file) is not None
    unet_file.write_bytes(unet_file.read_bytes()[: unet_file.stat().st_size // 2])
    assert prepared.read(unet_file) is None
    got, _ = _decode(tiny_dir, stream, 3)  # loads from the weights, prepares again
    np.testing.assert_array_equal(want, got)
    assert prepared.read(unet_file) is not None
    # a new download (another modification time) of the UNet: a new file, the old one gone
    files = prepared.kept()[0]
    later = time.time() + 5
    for weights in unet.glob("*.safetensors"):
        os.utime(weights, (later, later))
    got, _ = _decode(tiny_dir, stream, 3)
    np.testing.assert_array_equal(want, got)
    renewed = prepared.path_for(unet, backend.dtype, True)
    assert renewed != unet_file and renewed.is_file() and not unet_file.exists()
    assert prepared.kept()[0] == files and backend.dtype in (torch.bfloat16, torch.float32)


def test_a_prepared_file_is_mapped_copy_on_write(tmp_path):
    import torch

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(2, 2))
    net.register_buffer("ids", torch.arange(7))  # buffers of other types come back too
    net = net.to(torch.bfloat16, memory_format=torch.channels_last)
    path = tmp_path / "p.safetensors"
    assert prepared.save(net, path)
    tensors = prepared.read(path)
    assert tensors["ids"].dtype == torch.int64 and torch.equal(tensors["ids"], net.ids)
    assert tensors["0.weight"].is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(tensors["0.weight"], net[0].weight.detach())
    tensors["0.weight"].zero_()  # a write to the mapped tensor never reaches the file
    assert torch.equal(prepared.read(path)["0.weight"], net[0].weight.detach())
    path.write_bytes(b"\xff" * 16)  # not a prepared file
    assert prepared.read(path) is None
    header = json.dumps(
        {
            "__metadata__": {"format": prepared.FORMAT, "channels_last": "[]"},
            "w": {"dtype": "BF16", "shape": [2]},
        }
    ).encode()  # no offsets
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
    assert prepared.read(path) is None


def test_models_list_says_how_much_is_prepared(tiny_dir, stream, state, capsys):
    from aigic.cli.models import cmd_list

    _decode(tiny_dir, stream, 2)
    cmd_list(None)
    line = [s for s in capsys.readouterr().out.splitlines() if s.startswith("prepared")]
    assert line and str(prepared.folder()) in line[0] and "AIGIC_PREPARED_WEIGHTS=0" in line[0]


def test_where_nothing_can_be_written_the_decode_goes_on(tiny_dir, stream, state):
    state.mkdir(parents=True, exist_ok=True)
    prepared.folder().write_text("a file where the folder would be")  # as a read-only home
    want, _ = _decode(tiny_dir, stream, 2)
    assert want.std() > 0 and prepared.kept() == (0, 0)
