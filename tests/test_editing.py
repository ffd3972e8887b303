"""The Edit tab's pictures, cell picking, box corners and the undoable history."""

from types import SimpleNamespace

import numpy as np
import pytest

import aigic
from webapp import editing

EXAMPLE = "assets/fennec_bottle_sdxlturbo.png"


@pytest.fixture(scope="module")
def stream():
    from tests.conftest import ROOT

    return aigic.encode(ROOT / EXAMPLE, structure="canny")


def test_a_click_on_the_grid_picture_picks_the_cell_under_it(stream):
    pic = editing.grid_picture(stream)
    rows, cols = aigic.read_layers(stream).texture.q.shape[:2]
    s = editing.cell_size((rows, cols))
    assert pic.shape[:2] == (rows * s, cols * s)
    for r, c in ((0, 0), (2, 5), (rows - 1, cols - 1)):
        click = SimpleNamespace(index=(c * s + s // 2, r * s + s // 3))
        assert editing.pick_cell(stream, click) == (r, c)
    colour = aigic.read_layers(stream).texture.grid()[2, 5]
    assert (pic[2 * s + s - 3, 5 * s + s - 3] == colour).all()  # the cell's own colour


def test_the_erase_picture_draws_the_box_and_two_clicks_set_it(stream):
    pic = editing.erase_picture(stream, 0.25, 0.25, 0.75, 0.75)
    assert pic.shape == (512, 512, 3)
    assert tuple(pic[128, 300]) == (255, 40, 40)  # the box's top edge
    click = lambda x, y: SimpleNamespace(index=(x, y))
    x0, y0, x1, y1, second = editing.pick_corner(
        stream, False, 0.25, 0.25, 0.75, 0.75, click(400, 300)
    )
    assert second and (x0, y0) == (400 / 512, 300 / 512)
    box = editing.pick_corner(stream, True, x0, y0, x1, y1, click(100, 50))
    assert box == (100 / 512, 50 / 512, 400 / 512, 300 / 512, False)  # corners sorted


def test_history_records_each_edit_and_undo_goes_back_one_step(stream, monkeypatch):
    from aigic import edit

    history, table = editing.start(stream)
    assert table == []
    recoloured = edit.recolor(stream, [(1, 2)], (255, 0, 0))
    history, table = editing.record("recolour cell")(history, recoloured)
    renamed = edit.set_prompt(recoloured, "a red fox")
    history, table = editing.record("set prompt")(history, renamed)
    assert table == [
        [1, "recolour cell", "identical", "identical", "changed"],
        [2, "set prompt", "changed", "identical", "identical"],
    ]
    back, history, table, did, text = editing.undo(history)
    assert back == recoloured and len(table) == 1
    assert dict(did) == {"semantic": "changed", "structure": "identical", "texture": "identical"}
    assert text.startswith("Undid **set prompt**.") and f"{len(recoloured)} bytes" in text
    back, history, table, did, text = editing.undo(history)
    assert back == stream and table == [] and dict(did)["texture"] == "changed"
    told = []
    monkeypatch.setattr(editing.gr, "Info", told.append)
    assert editing.undo(history) == (editing.gr.skip(),) * 5  # nothing changes on the page
    assert told == [editing.NOTHING_TO_UNDO]


def test_the_new_prompt_box_starts_from_the_current_prompt(stream):
    assert editing.current_prompt(stream).startswith("beautiful landscape")
    assert editing.current_prompt(None) == "" and editing.grid_picture(None) is None
    assert np.asarray(editing.erase_picture(None, 0, 0, 1, 1) is None)
