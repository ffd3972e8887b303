"""The aigic command, as a user runs it."""

import json
import subprocess
import sys

import pytest
from PIL import Image

import aigic
import aigic.format.container
import aigic.imaging.images
from aigic import notes as messages
from aigic.cli.main import main


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "aigic", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_round_trip_through_the_cli(tmp_path, sample_path):
    s = tmp_path / "x.aigic"
    r = run("encode", sample_path, "-o", s)
    assert r.returncode == 0 and "bpp" in r.stdout
    r = run("inspect", s)
    assert r.returncode == 0
    for word in ("semantic", "structure", "texture", "overhead", "total", "prompt:", "8x8"):
        assert word in r.stdout
    payloads = {c.name: c.payload for c in aigic.format.container.parse(s.read_bytes()).chunks}
    for row in json.loads(run("inspect", s, "--json").stdout)["chunks"]:  # each layer's codec
        assert row["codec"] == (payloads[row["chunk"]][0] if row["chunk"] in payloads else None)
    struct_code = payloads["structure"][0]
    assert any(
        line.split()[:2] == ["structure", str(struct_code)] for line in r.stdout.splitlines()
    )
    assert (
        run("decode", s, "-o", tmp_path / "d.png", "--layers", "semantic,texture").returncode == 0
    )
    assert Image.open(tmp_path / "d.png").size == (512, 512)
    r = run(
        "edit", s, "--prompt", "a red fox", "--recolor", "0,3=ff8800", "-o", tmp_path / "e.aigic"
    )
    assert r.returncode == 0 and "structure identical" in r.stdout
    r = run("export", tmp_path / "e.aigic", tmp_path / "layers")
    assert r.returncode == 0
    assert (tmp_path / "layers" / "prompt.txt").read_text() == "a red fox"
    assert Image.open(tmp_path / "layers" / "texture.png").size == (8, 8)
    assert Image.open(tmp_path / "layers" / "structure.png").size == (512, 512)
    header = json.loads((tmp_path / "layers" / "header.json").read_text())
    assert header["width"] == 512


def test_errors_are_one_line_without_traceback(tmp_path, sample_path, sample_stream):
    junk = tmp_path / "junk.aigic"
    junk.write_bytes(b"hello world")
    good = tmp_path / "good.aigic"
    good.write_bytes(sample_stream)
    cases = [
        ("edit", good, "--erase", "0,0,0.5", "-o", tmp_path / "o3.aigic"),
        ("encode", sample_path, "--factor", "0", "-o", tmp_path / "o4.aigic"),
        ("decode", junk, "-o", tmp_path / "o.png"),
        ("inspect", tmp_path / "missing.aigic"),
        ("encode", junk, "-o", tmp_path / "o.aigic"),
        ("edit", junk, "--prompt", "x", "-o", tmp_path / "o2.aigic"),
        ("edit", good, "--sketch", junk, "-o", tmp_path / "o5.aigic"),
    ]
    for args in cases:
        r = run(*args)
        assert r.returncode == 2, args
        assert r.stderr.startswith("aigic: error:") and r.stderr.count("\n") == 1, r.stderr
        assert "Traceback" not in r.stderr


def test_truncated_stream_error_names_the_chunk(tmp_path, sample_stream, capsys):
    t = tmp_path / "t.aigic"
    t.write_bytes(sample_stream[:60])
    assert main(["inspect", str(t)]) == 2
    assert "structure" in capsys.readouterr().err


def test_budget_is_never_exceeded(tmp_path, sample_path, capsys):
    for budget in (150, 300, 700):
        out = tmp_path / f"b{budget}.aigic"
        assert main(["encode", str(sample_path), "-o", str(out), "--budget", str(budget)]) == 0
        assert len(out.read_bytes()) <= budget
    assert main(["encode", str(sample_path), "-o", str(out), "--budget", "20"]) == 2
    assert "too small" in capsys.readouterr().err


def test_encode_says_what_it_kept_and_what_did_not_fit(tmp_path, sample_path, capsys):
    out = tmp_path / "s.aigic"
    assert main(["encode", str(sample_path), "-o", str(out), "--structure", "canny"]) == 0
    said = capsys.readouterr()
    info = aigic.inspect(out.read_bytes())
    sizes = {r["chunk"]: r["bytes"] for r in info["chunks"]}
    gw, gh = info["structure_grid"]
    style = [w for w in ("lines", "cells") if f"structure canny {gw}x{gh} {w}: " in said.out]
    assert style and f"{style[0]}: {sizes['structure']} B" in said.out
    assert f"overhead: {sizes['overhead']} B" in said.out
    result = aigic.encode_result(sample_path, structure="canny")
    neg = messages.negative_text(result)
    # the image's own negative prompt, and the SDXL profile its metadata asks for (SDXL Turbo)
    profile = f"note: decoder profile sdxl-dpm25-a1111: {result.profile_why} (choose: --profile)\n"
    assert said.err == (f"note: {neg}\n" if neg else "") + profile
    budget = sizes["semantic"] + sizes["texture"] + 25  # room for text and colour only
    args = ["encode", str(sample_path), "-o", str(out), "--budget", str(budget)]
    assert main([*args, "--structure", "canny"]) == 0
    kept = {r["chunk"] for r in aigic.inspect(out.read_bytes())["chunks"]}
    assert kept == {"semantic", "texture", "overhead"}
    assert capsys.readouterr().err == (
        f"note: structure did not fit the budget of {budget} bytes and was left out\n"
        + (f"note: {neg}\n" if neg else "")
        + profile
    )


def test_presets_meet_their_rates_and_finer_presets_keep_more_structure(tmp_path, sample_path):
    from aigic.encoder.extractors import canny
    from aigic.encoder.presets import PRESETS
    from aigic.imaging.metrics import matched_f1

    sizes, f1 = {}, {}
    for name in ("tiny", "default", "fine"):
        out = tmp_path / f"{name}.aigic"
        assert main(["encode", str(sample_path), "-o", str(out), "--preset", name]) == 0
        data = out.read_bytes()
        lay = aigic.read_layers(data)
        w, h = lay.size
        sizes[name] = len(data)
        assert len(data) <= PRESETS[name]["bpp"] * w * h / 8
        rgb = aigic.imaging.images.to_array(
            aigic.imaging.images.load_image(sample_path)[0], lay.size
        )
        decoded = lay.structure.edges(lay.size) if lay.structure else None
        f1[name] = matched_f1(decoded, canny(rgb))[0] if decoded is not None else 0.0
    assert aigic.read_layers(tmp_path.joinpath("tiny.aigic").read_bytes()).structure is None
    assert sizes["tiny"] < sizes["default"] < sizes["fine"]
    assert 0.0 < f1["default"] < f1["fine"]


def test_style_auto_draws_thin_lines_and_never_the_lattice(tmp_path, sample_path, capsys):
    from aigic.encoder.extractors import canny
    from aigic.imaging.metrics import matched_f1

    f1, pixels = {}, {}
    for style in ("lines", "cells", "auto"):
        out = tmp_path / f"{style}.aigic"
        args = ["encode", str(sample_path), "-o", str(out), "--budget", "330", "--style", style]
        args += ["--structure", "canny"]  # lines and cells are Canny styles
        assert main(args) == 0
        said = capsys.readouterr().out
        assert f" {'lines' if style == 'auto' else style}: " in said  # the summary names it
        data = out.read_bytes()
        assert len(data) <= 330
        lay = aigic.read_layers(data)
        rgb = aigic.imaging.images.to_array(
            aigic.imaging.images.load_image(sample_path)[0], lay.size
        )
        decoded = lay.structure.edges(lay.size)
        f1[style], pixels[style] = matched_f1(decoded, canny(rgb))[0], decoded.sum()
    assert pixels["cells"] > pixels["lines"]  # the lattice draws more
    assert f1["auto"] >= f1["lines"]  # auto: the better of plain and repaired lines
    result = aigic.encode_result(sample_path, budget=330, structure="canny")
    assert result.style == "lines"
    assert (
        aigic.encode_result(sample_path, preset="lossless", structure="canny").style == "lossless"
    )
    result = aigic.encode_result(
        sample_path, budget=100_000, structure="canny"
    )  # the whole map fits
    assert result.style == "lossless"
    with pytest.raises(SystemExit):
        main(["encode", str(sample_path), "-o", str(out), "--style", "hatch"])


def test_out_of_range_grid_factor_is_one_line(tmp_path, sample_path, capsys):
    for factor in ("0", "0.5", "1000"):
        assert (
            main(["encode", str(sample_path), "-o", str(tmp_path / "f"), "--factor", factor]) == 2
        )
        err = capsys.readouterr().err
        assert "grid factor" in err and err.count("\n") == 1, err
    assert not (tmp_path / "f").exists()


def test_version_names_the_package_and_the_stream_format(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.strip() == f"aigic {aigic.__version__} (writes stream format 1.0)"


def test_edit_sketch_replaces_the_structure_on_the_same_grid(tmp_path, sample_stream, capsys):
    good, drawing = tmp_path / "good.aigic", tmp_path / "drawing.png"
    good.write_bytes(sample_stream)
    Image.new("L", (300, 300)).save(drawing)  # all black: no structure at all
    img = Image.open(drawing)
    img.paste(255, (0, 150, 300, 152))
    img.save(drawing)
    grid = aigic.inspect(sample_stream)["structure_grid"]
    for extra, want in (((), grid), (("--sketch-lossless",), (512, 512))):
        out = tmp_path / "new.aigic"
        assert main(["edit", str(good), "--sketch", str(drawing), *extra, "-o", str(out)]) == 0
        assert "structure changed, texture identical" in capsys.readouterr().out
        info = aigic.inspect(out.read_bytes())
        assert info["structure_kind"] == "sketch" and tuple(info["structure_grid"]) == tuple(want)


def test_structure_auto_is_canny_with_a_reason_when_pidinet_is_missing(
    tmp_path, sample_path, capsys, monkeypatch
):
    from aigic.encoder import extractors

    monkeypatch.setenv("AIGIC_MODEL_DIR", str(tmp_path))  # no Annotators folder here
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    extractors.available.cache_clear()
    try:
        assert main(["encode", str(sample_path), "-o", str(tmp_path / "a.aigic")]) == 0
    finally:
        extractors.available.cache_clear()
    said = capsys.readouterr()
    assert " structure canny " in said.out
    assert "note: structure canny, not a sketch: PiDiNet's weights" in said.err


def _one_line(stderr: str) -> str:
    assert stderr.count("\n") == 1 and "Traceback" not in stderr and "usage:" not in stderr
    return stderr


def test_a_bad_option_value_is_one_line_with_exit_2(tmp_path, sample_path):
    for args, says in (
        (["encode", sample_path, "-o", tmp_path / "x", "--preset", "bogus"], "invalid choice"),
        (["encode", sample_path, "-o", tmp_path / "x", "--budget", "many"], "invalid int"),
        (["decode", tmp_path / "x.aigic"], "required: -o/--output"),
        (["frobnicate"], "invalid choice"),
    ):
        r = run(*args)
        assert r.returncode == 2 and says in _one_line(r.stderr), r.stderr


def test_an_internal_error_is_one_line_with_exit_3_and_aigic_debug_shows_it(
    monkeypatch, capsys, tmp_path
):
    from aigic.cli import inspect

    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(inspect, "run", broken)
    assert main(["inspect", str(tmp_path / "x.aigic")]) == 3
    err = _one_line(capsys.readouterr().err)
    assert "internal error RuntimeError: a bug" in err and "AIGIC_DEBUG=1" in err
    monkeypatch.setenv("AIGIC_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        main(["inspect", str(tmp_path / "x.aigic")])


def test_decode_partial_decodes_the_intact_layers_of_a_damaged_stream(tmp_path, sample_stream):
    from aigic.format.codes import CHUNK_STRUCTURE
    from aigic.format.container import Chunk, parse, write

    damaged = tmp_path / "damaged.aigic"  # a whole container, but a structure payload that lies
    damaged.write_bytes(write(parse(sample_stream).with_chunk(Chunk(CHUNK_STRUCTURE, b"\x0c\x00"))))
    out = tmp_path / "out.png"
    r = run("decode", damaged, "-o", out, "--backend", "preview")
    assert r.returncode == 2 and "structure" in _one_line(r.stderr) and not out.exists()
    r = run("decode", damaged, "-o", out, "--backend", "preview", "--partial")
    assert r.returncode == 0, r.stderr
    assert "warning: damaged layers dropped: structure" in r.stderr
    assert Image.open(out).size == (512, 512)


def test_fuzz_commands_run_and_report_no_failure():
    r = run("fuzz", "--count", "40", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "inputs tried 40" in r.stdout and "failures 0" in r.stdout
    r = run("fuzz", "--metadata", "--count", "40", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "inputs tried 40" in r.stdout and "failures 0" in r.stdout


def test_the_64_megapixel_limit_refuses_a_larger_image_before_decoding_it(tmp_path):
    import time

    assert aigic.imaging.images.MAX_PIXELS == 64_000_000  # the documented default
    big = tmp_path / "big.png"
    Image.new("L", (8000, 8001)).save(big, optimize=True)  # 64.008 Mpx in a small file
    started = time.monotonic()
    r = run("encode", big, "-o", tmp_path / "big.aigic")
    assert r.returncode == 2 and "limit of 64000000 pixels" in _one_line(r.stderr)
    assert time.monotonic() - started < 30  # refused from the header: no 64 Mpx decode
    assert not (tmp_path / "big.aigic").exists()


def test_every_encode_setting_is_a_flag_declared_where_the_setting_is():
    """aigic encode's flags are EncodeSettings' declarations: same help, choices, defaults."""
    import argparse

    from aigic.cli.encode import add_settings, settings_from
    from aigic.encoder.settings import DEFAULTS, OPTIONS, EncodeSettings

    p = argparse.ArgumentParser()
    add_settings(p)
    flags = {a.dest: a for a in p._actions if a.dest != "help"}
    assert set(OPTIONS) | {"no_negative"} == set(flags)
    for name, opt in OPTIONS.items():
        assert flags[name].help == opt.help, name
        if opt.choices:
            assert list(flags[name].choices) == list(opt.choices), name
    assert settings_from(p.parse_args([])) == EncodeSettings()  # the defaults are the same
    assert DEFAULTS["caption"] == "auto" and DEFAULTS["preset"] == "default"
    asked = p.parse_args(
        ["--profile", "sd15-lcm4", "--layers", "semantic,texture", "--bpp", "0.01"]
    )
    assert settings_from(asked) == EncodeSettings(
        profile=1, layers=("semantic", "texture"), bpp=0.01
    )
    assert settings_from(p.parse_args(["--no-negative"])).negative == ""


def test_bpp_is_a_budget_on_the_original_size_in_the_api_too(sample_path):
    w, h = Image.open(sample_path).size
    result = aigic.encode_result(sample_path, bpp=0.005, structure="canny")
    assert result.settings.budget == int(0.005 * w * h / 8)
    assert len(result.data) <= result.settings.budget
    with pytest.raises(ValueError, match="more than 0"):
        aigic.encode(sample_path, bpp=0)
