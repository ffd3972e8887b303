"""The app over HTTP: a launched demo (or ``python app.py``) driven by gradio_client."""

from __future__ import annotations

import os
import runpy
import socket
import time
from pathlib import Path

import pytest

import app

from .conftest import wait_for_port
from .test_app import BAD_IMAGES, EXAMPLE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    demo = app.build_demo("preview")
    demo.queue(default_concurrency_limit=4)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        max_file_size=app.MAX_UPLOAD,
        quiet=True,
    )
    time.sleep(1)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_api_encode_inspect_decode(server):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    table, *_ = client.predict(
        handle_file(EXAMPLE), "", "canny", "default", None, "auto", api_name="/encode"
    )
    assert [r[0] for r in table["data"]][-2:] == ["overhead", "total"]
    rows, header, *_ = client.predict(api_name="/inspect")
    assert header["width"] == 512 and rows["data"][0][0] == "semantic"
    *images, note = client.predict(["semantic", "structure", "texture"], 1, api_name="/decode")
    assert all(images) and "preview" in note
    # a bad upload is an error for that call only; the session keeps its stream
    bad = app.OUT / "bad.aigic"
    bad.write_bytes(b"junk")
    with pytest.raises(Exception, match="bitstream|magic|aigic"):
        client.predict(handle_file(str(bad)), api_name="/load_stream")
    assert client.predict(api_name="/inspect")[1]["width"] == 512
    *_, cmp_table = client.predict(handle_file(EXAMPLE), api_name="/compare")
    assert cmp_table["data"][0][0] == "aigic"  # the session knows which image it encoded


@pytest.mark.parametrize("content, message", BAD_IMAGES)
def test_api_bad_image_uploads_are_one_readable_line(server, tmp_path, content, message):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    for args, api in (((), "/read_prompt"), (("", "canny", "default", 0, "auto"), "/encode")):
        with pytest.raises(Exception, match=message) as err:
            client.predict(handle_file(str(bad)), *args, api_name=api)
        assert "\n" not in str(err.value) and "verbose error reporting" not in str(err.value)
    prompt, *_ = client.predict(handle_file(EXAMPLE), api_name="/read_prompt")
    assert prompt.startswith("beautiful landscape")  # the next good upload works


def test_readme_api_example_runs_as_written(server, monkeypatch, tmp_path):
    root = Path(__file__).parents[1]
    monkeypatch.chdir(root)  # the example names assets/ relative to the repository
    readme = (root / "README.md").read_text()
    snippet = next(b for b in readme.split("```python")[1:] if "gradio_client" in b)
    snippet = snippet.split("```")[0].replace("http://127.0.0.1:7860/", server)
    example = tmp_path / "readme_example.py"
    example.write_text(snippet)
    scope = runpy.run_path(str(example))
    assert scope["table"]["data"][-1][0] == "total"
    assert scope["header"]["width"] == 512 and scope["prompt"]
    assert scope["text_only"] and scope["plus_texture"] and "preview" in scope["note"]


@pytest.fixture()
def server_log(tmp_path):
    """``python app.py`` in a subprocess, its stdout and stderr in a file."""
    import subprocess
    import sys

    port, log = free_port(), tmp_path / "server.log"
    env = dict(os.environ, AIGIC_PORT=str(port), AIGIC_BACKEND="preview")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=app.ROOT, env=env, stdout=out, stderr=out
        )
    try:
        assert wait_for_port(port), "the app did not start within 90 s"
        time.sleep(1)
        yield f"http://127.0.0.1:{port}/", log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_user_errors_leave_no_traceback_in_the_server_log(server_log):
    from gradio_client import Client, handle_file

    url, log = server_log
    client = Client(url, verbose=False)
    bad = app.OUT / "junk.aigic"
    bad.write_bytes(b"junk")
    for args, api in (((handle_file(str(bad)),), "/read_prompt"), ((), "/inspect")):
        with pytest.raises(Exception, match="readable image|no stream yet"):
            client.predict(*args, api_name=api)
    with pytest.raises(Exception, match="aigic stream"):
        client.predict(handle_file(str(bad)), api_name="/load_stream")
    time.sleep(0.5)
    assert "Traceback" not in log.read_text()


def test_api_oversize_upload_is_one_readable_line(server, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG" + b"\0" * (21 << 20))
    with pytest.raises(Exception, match="exceeds the maximum file size") as err:
        client.predict(handle_file(str(huge)), api_name="/read_prompt")
    assert "\n" not in str(err.value)
