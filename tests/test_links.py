"""A stream in a link: aigic.links, ``aigic inspect --link`` and link inputs on the CLI."""

from __future__ import annotations

import pytest

from aigic import FormatError, from_link, to_link
from aigic.errors import AigicError
from aigic.links import MAX_LINK_BYTES
from tests.conftest import ROOT
from tests.test_cli import run

STREAM = (ROOT / "tests" / "golden" / "fennec.aigic").read_bytes()


def test_a_link_carries_the_stream_exactly():
    link = to_link(STREAM, "https://example.org/aigic/")
    assert link.startswith("https://example.org/aigic/?s=")
    assert "=" not in link.split("?s=")[1]  # base64url without padding
    assert from_link(link) == STREAM
    assert from_link(link.split("?s=")[1]) == STREAM  # the token alone
    fragment = "https://example.org/#s=" + link.split("?s=")[1]
    assert from_link(fragment) == STREAM


def test_a_base_with_a_query_keeps_it_and_the_environment_sets_the_default(monkeypatch):
    link = to_link(STREAM, "https://example.org/app?lang=en#top")
    assert link.startswith("https://example.org/app?lang=en&s=") and "#" not in link
    assert from_link(link) == STREAM
    monkeypatch.setenv("AIGIC_LINK_BASE", "https://space.example/")
    assert to_link(STREAM).startswith("https://space.example/?s=")


def test_a_stream_too_long_for_a_link_is_refused_with_the_way_out():
    with pytest.raises(AigicError, match="too long for a link.*share the .aigic file"):
        to_link(b"\0" * (MAX_LINK_BYTES + 1))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("https://x.org/?q=1", "holds no stream"),
        ("https://x.org/?s=", "holds no stream"),
        ("abc$%", "not base64url"),
        ("A", "not base64url"),  # a length no base64 text has
        ("AAAAAAAA", "not an aigic stream"),
        ("https://x.org/?s=" + "A" * (3 * MAX_LINK_BYTES), "not an aigic link"),
    ],
)
def test_bad_link_data_is_one_line(text, says):
    with pytest.raises(FormatError, match=says) as info:
        from_link(text)
    assert "\n" not in str(info.value)


def test_a_damaged_stream_in_a_link_is_refused_as_a_damaged_file_is():
    import base64

    damaged = bytearray(STREAM)
    damaged[len(damaged) // 2] ^= 0xFF
    token = base64.urlsafe_b64encode(bytes(damaged)).decode().rstrip("=")
    with pytest.raises(FormatError):
        from_link(token)
    truncated = base64.urlsafe_b64encode(STREAM[:40]).decode().rstrip("=")
    with pytest.raises(FormatError):
        from_link(truncated)


def test_inspect_prints_the_link_and_reads_one(tmp_path):
    path = tmp_path / "s.aigic"
    path.write_bytes(STREAM)
    out = run("inspect", path, "--link", "--link-base", "https://example.org/")
    link = out.stdout.strip()
    assert out.returncode == 0 and link == to_link(STREAM, "https://example.org/")
    assert "semantic" in run("inspect", link).stdout
    bad = run("inspect", "https://example.org/?s=AAAA")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "aigic stream" in bad.stderr
