"""``aigic eval``: every kind of source, the table, resuming, the neural metrics' plumbing (a
random CLIP built from a config), and two processes through accelerate giving one table."""

import csv
import io
import json
import math
import os
import subprocess
import sys
import tarfile
from argparse import Namespace

import numpy as np
import pytest

from aigic.eval import evaluate as evaluation
from aigic.eval.sources import items
from aigic.testing import models

from .conftest import png_bytes, synthetic

TOKENIZER = str(models.TOKENIZER)  # the tiny CLIP tokenizer the random-weight builder uses


def _images(folder, n=2):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        data = png_bytes(synthetic(256, 192, seed=i), parameters=f"a red house number {i}")
        (folder / f"img{i}.png").write_bytes(data)
    return folder


def _args(source, out, **kw):
    base = {"decoder": "preview", "presets": "default", "layers_progressive": False}
    base |= {"baselines": "jpeg,webp", "limit": None, "workers": 1}
    return Namespace(source=str(source), out=str(out), **(base | kw))


def _rows(out):
    with open(out / "rows.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_every_kind_of_source_lists_its_images_and_prompts(tmp_path):
    folder = _images(tmp_path / "imgs")
    assert [i.key for i in items(str(folder))] == ["img0.png", "img1.png"]
    assert len(items(str(folder / "*.png"))) == 2
    (tmp_path / "data.csv").write_text("name,prompt,mos_quality\nimg1.png,a cat,3.1\n")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "img1.png").write_bytes((folder / "img1.png").read_bytes())
    (only,) = items(str(tmp_path / "data.csv"))  # AGIQA-3K's layout: images/ beside data.csv
    assert only.prompt == "a cat" and only.read() == (folder / "img1.png").read_bytes()
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = (folder / "img0.png").read_bytes()
    table = pa.table({"image": [{"bytes": data, "path": "x"}], "caption": ["a dog"]})
    pq.write_table(table, tmp_path / "shard.parquet")
    (row,) = items(str(tmp_path / "shard.parquet"))
    assert row.prompt == "a dog" and row.read() == data
    with tarfile.open(tmp_path / "shard-000.tar", "w") as tar:
        for name, blob in (
            ("k1.png", data),
            ("k1.json", json.dumps({"caption": "a bird"}).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    (shard,) = items(str(tmp_path / "shard-000.tar"))
    assert shard.key == "shard-000.tar#k1" and shard.prompt == "a bird"


def test_a_missing_source_is_one_plain_error(tmp_path):
    from aigic.errors import AigicError

    with pytest.raises(AigicError, match="is not a folder"):
        items(str(tmp_path / "nothing"))


def test_eval_writes_rows_a_table_and_plots_and_resumes(tmp_path, capsys):
    src, out = _images(tmp_path / "imgs"), tmp_path / "out"
    evaluation.run(_args(src, out, layers_progressive=True))
    rows = _rows(out)
    aigic_rows = [r for r in rows if r["codec"] == "aigic"]
    assert sorted({r["layers"] for r in aigic_rows}) == sorted(evaluation.SUBSETS)
    assert {r["codec"] for r in rows} >= {"aigic", "jpeg", "webp"}
    for r in aigic_rows:
        assert 0 < float(r["bpp"]) <= 0.011 and float(r["psnr"]) > 5
        parts = sum(float(r[c]) for c in evaluation.LAYER_BPP)
        assert parts < float(r["bpp"])  # the container's overhead is the rest
        assert r["clip_i2i"] == "" or r["clip_i2i"] == "nan"
        assert 0 < float(r["niqe"]) < 100  # NIQE needs no network weights
    jpeg = [r for r in rows if r["codec"] == "jpeg"]
    assert all(int(r["bytes"]) > 0 for r in jpeg)
    table = (out / "table.md").read_text()
    assert "| aigic (preview) | default | all | 2 |" in table and "- fid: empty: needs" in table
    assert (out / "rate_psnr.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert "lpips: not measured here" in printed
    before = (out / "rows.rank0.csv").read_text()
    evaluation.run(_args(src, out, layers_progressive=True))
    assert (out / "rows.rank0.csv").read_text() == before  # every row was done: none redone


def test_baselines_land_at_the_nearest_size_they_can_reach():
    import numpy as np

    rgb = np.asarray(synthetic(256, 256))
    size, decoded = evaluation.nearest(rgb, "jpeg", 10**9)
    small, _ = evaluation.nearest(rgb, "jpeg", 10)  # below JPEG's floor: its smallest
    assert decoded.shape == rgb.shape and small < size


@pytest.fixture
def tiny_clip(tmp_path, monkeypatch):
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    tok = CLIPTokenizer.from_pretrained(TOKENIZER)
    small = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2}
    small |= {"num_attention_heads": 4}
    config = CLIPConfig(
        text_config=small | {"vocab_size": len(tok), "max_position_embeddings": 77},
        vision_config=small | {"image_size": 32, "patch_size": 8},
        projection_dim=32,
    )
    folder = tmp_path / "models" / "openai" / "clip-vit-large-patch14"
    CLIPModel(config).save_pretrained(folder)
    size = {"shortest_edge": 32}
    CLIPProcessor(
        CLIPImageProcessor(size=size, crop_size={"height": 32, "width": 32}), tok
    ).save_pretrained(folder)
    monkeypatch.setenv("AIGIC_MODEL_DIR", str(tmp_path / "models"))
    return folder


def test_the_clip_columns_fill_in_when_a_clip_is_here(tmp_path, tiny_clip):
    src, out = _images(tmp_path / "imgs"), tmp_path / "out"
    evaluation.run(_args(src, out, baselines=""))
    rows = _rows(out)
    decoded = [r for r in rows if r["codec"] == "aigic"]
    assert decoded and all(-100 <= float(r["clip_i2i"]) <= 100 for r in decoded)
    assert all(r["clip_t2i"] not in ("", "nan") for r in rows)  # the prompt from the metadata
    originals = [r for r in rows if r["codec"] == "original"]  # the level decodes read against
    assert len(originals) == 2 and all(r["clip_i2i"] in ("", "nan") for r in originals)
    assert "- clip_i2i" not in (out / "table.md").read_text()


def test_two_processes_through_accelerate_give_the_single_process_table(tmp_path):
    src = _images(tmp_path / "imgs", n=3)
    single = tmp_path / "one"
    evaluation.run(_args(src, single, baselines="jpeg"))
    two = tmp_path / "two"
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "-m", "aigic", "eval", str(src), "--out", str(two), "--baselines", "jpeg", "--workers", "1",
    ]  # fmt: skip
    env = dict(os.environ, HF_HUB_OFFLINE="1", CUDA_VISIBLE_DEVICES="")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in two.glob("rows.rank*.csv")) == [
        "rows.rank0.csv",
        "rows.rank1.csv",
    ]
    assert (two / "table.md").read_text() == (single / "table.md").read_text()


def test_encode_over_a_folder_writes_a_parquet_file_of_streams(tmp_path, capsys):
    import pyarrow.parquet as pq

    import aigic
    from aigic.cli.main import main

    src = _images(tmp_path / "imgs")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = tmp_path / "streams.parquet"
    assert main(["encode", str(src), "-o", str(out), "--structure", "canny"]) == 0
    said = capsys.readouterr()
    assert "2 streams" in said.out and "1 images could not be encoded" in said.out
    assert "note: broken.png: " in said.err
    rows = {r["key"]: r for r in pq.read_table(out).to_pylist()}
    good = rows["img0.png"]
    assert good["bytes"] == len(good["stream"]) and good["error"] is None
    assert aigic.read_layers(good["stream"]).semantic.text == "a red house number 0"
    layer_sum = sum(good[f"{n}_bytes"] for n in ("semantic", "structure", "texture", "negative"))
    assert layer_sum < good["bytes"]
    assert rows["broken.png"]["stream"] is None and rows["broken.png"]["error"]


class RandomFeatures:
    """A random conv net standing in for Inception-v3: uint8 images -> 16 features."""

    def __new__(cls):
        import torch

        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 5, stride=4), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
        )  # fmt: skip
        return lambda x: net(x.float() / 255)


def test_fid_and_kid_cover_each_group_from_stored_features(tmp_path):
    from aigic.eval.metrics import Metrics

    src, out = _images(tmp_path / "imgs", n=3), tmp_path / "out"
    evaluation.run(_args(src, out, baselines="jpeg"), metrics=Metrics(extractor=RandomFeatures()))
    assert len(list((out / "features").glob("*.npy"))) == 3 * 3  # originals, aigic, jpeg
    lines = [ln for ln in (out / "table.md").read_text().splitlines() if ln.startswith("| aigic")]
    fid, kid = (float(c) for c in lines[0].strip("|").split("|")[-2:])
    assert fid > 0 and not math.isnan(kid)  # computed over the 3 images of the group
    assert "- fid: empty" not in (out / "table.md").read_text()


def test_lpips_and_dists_run_on_random_backbones(tmp_path, monkeypatch):
    """Their weights cannot be fetched here: torchvision's AlexNet and VGG16 architectures
    with random weights stand in, so the plumbing (not the numbers) is what is tested."""
    import torchvision
    from torchmetrics.functional.image import dists, lpips

    from aigic.eval import metrics as eval_metrics

    real = lpips._get_tv_model_features
    monkeypatch.setattr(
        lpips, "_get_tv_model_features", lambda net, pretrained=False: real(net, False)
    )
    monkeypatch.setattr(dists, "vgg16", lambda weights=None: torchvision.models.vgg16(weights=None))
    monkeypatch.setattr(eval_metrics, "_torch_cached", lambda name: True)
    metrics = eval_metrics.Metrics(wanted=("psnr", "ms_ssim", "lpips", "dists"))
    assert "lpips" not in metrics.missing and "dists" not in metrics.missing
    a = np.asarray(synthetic(192, 192, seed=1))
    b = np.asarray(synthetic(192, 192, seed=2))
    same, other = metrics.score(a, a, ""), metrics.score(a, b, "")
    assert same["lpips"] == pytest.approx(0, abs=1e-6) and other["lpips"] > 0
    assert other["dists"] > same["dists"]
