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
