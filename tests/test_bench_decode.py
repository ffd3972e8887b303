"""``aigic bench-decode``'s timer: nested watched modules (a MultiAdapter running adapters
that were watched on their own before) are timed once, by the outermost call."""

import torch

from aigic.eval.bench_decode import Timer


def test_nested_watched_modules_are_timed_once():
    inner = torch.nn.Linear(4, 4)
    outer = torch.nn.Sequential(inner, torch.nn.ReLU())
    timer = Timer("cpu")
    timer.watch("adapter", inner)  # a single-adapter pipeline watched it first
    timer.watch("adapter", outer)  # then the MultiAdapter that holds it
    outer(torch.ones(1, 4))
    inner(torch.ones(1, 4))
    assert timer.spent["adapter"] > 0 and not timer._start and set(timer._depth.values()) == {0}


def test_a_short_warm_up_loads_everything_and_the_timed_runs_keep_the_profiles_steps(
    backend, sample_stream, monkeypatch
):
    """``--warm-up-steps 1``: the untimed first decode runs one step; the timed ones the
    profile's 4 (sd15-lcm4-a1111), every part of the pipeline timed."""
    from aigic import api
    from aigic.backends.profiles import PROFILES
    from aigic.eval import bench_decode
    from aigic.format.codes import PROFILE_SD15_LCM4_A1111

    backend.pixels = 64 * 64  # the tiny models decode at 64x64
    decode, steps = api.decode, []

    def counted(*args, **kwargs):
        out = decode(*args, **kwargs)
        steps.append(backend.steps)
        return out

    monkeypatch.setattr(bench_decode.api, "decode", counted)
    r = bench_decode._row(
        backend, Timer("cpu"), sample_stream, PROFILE_SD15_LCM4_A1111, "all", 2, 1
    )
    assert steps == [1, None, None] and backend.steps is None  # None: the profile's
    assert r["evals"] == PROFILES[PROFILE_SD15_LCM4_A1111].unet_evaluations == 4
    assert r["unet"] > 0 and r["vae"] > 0 and r["median"] > 0
