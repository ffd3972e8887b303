"""The bitstream format: golden file, integrity, unknown chunks, versions, overhead."""

import itertools
from pathlib import Path

import pytest

from aigic.errors import FormatError
from aigic.format.container import Bitstream, Chunk, crc8, overhead, parse, write

GOLDEN = Path(__file__).parent / "golden" / "fennec.aigic"


def test_golden_stream_parses_and_rewrites_byte_for_byte():
    data = GOLDEN.read_bytes()
    bs = parse(data)
    assert (bs.width, bs.height, bs.seed) == (512, 512, 7)
    assert [c.type for c in bs.chunks] == [1, 2, 3]
    assert write(bs) == data


def test_every_single_byte_change_is_detected_and_located():
    data = GOLDEN.read_bytes()
    for i in range(len(data)):
        for delta in (1, 0x80):
            bad = bytearray(data)
            bad[i] = (bad[i] + delta) & 0xFF
            with pytest.raises(FormatError) as err:
                parse(bytes(bad))
            assert str(err.value)


def test_every_truncation_is_detected():
    data = GOLDEN.read_bytes()
    for n in range(len(data)):
        with pytest.raises(FormatError):
            parse(data[:n])


def test_damage_message_names_the_chunk():
    data = bytearray(GOLDEN.read_bytes())
    bs = parse(bytes(data))
    tex_start = len(data) - 2 - 1 - len(bs.chunks[2].payload) + 5
    data[tex_start] ^= 0x10
    with pytest.raises(FormatError, match="texture"):
        parse(bytes(data))


def test_unknown_chunks_are_carried_over_on_rewrite():
    bs = parse(GOLDEN.read_bytes())
    extended = Bitstream(
        bs.width, bs.height, bs.seed, bs.profile, (*bs.chunks, Chunk(200, b"future"))
    )
    again = parse(write(extended))
    assert again.chunk(200).payload == b"future"
    assert write(again) == write(extended)
    import aigic

    assert aigic.inspect(write(extended))["unknown_chunks"] == [200]
    aigic.decode(write(extended), backend="preview")  # skipped by the decoder


def test_unknown_major_version_is_refused_with_both_versions():
    data = bytearray(GOLDEN.read_bytes())
    data[2] = 0x20
    with pytest.raises(FormatError, match=r"2\.0.*1\.x"):
        parse(bytes(data))


def test_overhead_of_a_three_layer_512_stream_is_at_most_24_bytes():
    bs = parse(GOLDEN.read_bytes())
    assert overhead(bs) <= 24
    big = Bitstream(
        512, 512, 0, 0, (Chunk(1, b"x" * 60), Chunk(2, b"y" * 900), Chunk(3, b"z" * 90))
    )
    assert overhead(big) <= 24


def test_sizes_are_bounded_before_allocation():
    header = write(Bitstream(8, 8, chunks=(Chunk(1, b"a"),)))
    # a chunk length of 2**34 announced in 5 varint bytes: refused without allocating
    evil = header[:9] + bytes([0x1, 0x80, 0x80, 0x80, 0x80, 0x40])
    with pytest.raises(FormatError, match="limit|varint|truncated"):
        parse(evil)
    with pytest.raises(FormatError):
        parse(b"\xa1G" + b"\x10" + b"\xff" * 10)


def test_not_a_stream():
    for junk in (b"", b"PNG", b"\x89PNG\r\n\x1a\n" + bytes(50)):
        with pytest.raises(FormatError):
            parse(junk)


def test_crc8_detects_every_single_byte_error():
    msg = bytes(range(40))
    for i in range(len(msg)):
        for v in range(256):
            if v != msg[i]:
                assert crc8(msg[:i] + bytes([v]) + msg[i + 1 :]) != crc8(msg)


def test_inspect_offsets_point_at_each_chunk(sample_stream):
    import aigic
    from aigic.format.reader import varint

    info = aigic.inspect(sample_stream)
    chunks = info.chunks
    assert [c.chunk for c in chunks] == ["semantic", "structure", "texture"]
    for c in chunks:
        assert sample_stream[c.offset] == c.type  # the framing starts with the type byte
    for a, b in itertools.pairwise(chunks):
        assert b.offset == a.offset + 1 + len(varint(a.bytes)) + a.bytes + 1
    last = chunks[-1]
    assert last.offset + 1 + len(varint(last.bytes)) + last.bytes + 1 + 2 == len(sample_stream)
    framing = sum(2 + len(varint(c.bytes)) for c in chunks)
    assert info.overhead == chunks[0].offset + framing + 2


def test_an_unknown_ancillary_chunk_is_copied_by_edits_and_ignored_by_decoders(sample_stream):
    import aigic
    from aigic import edit
    from aigic.format.codes import is_ancillary

    bs = parse(sample_stream)
    marked = write(bs.with_chunk(Chunk(200, b"\x00provenance")))
    assert is_ancillary(200) and not is_ancillary(3)
    edited = parse(edit.set_prompt(marked, "a red fox"))
    assert edited.chunk(200).payload == b"\x00provenance"
    plain = aigic.decode(sample_stream, backend="preview")
    assert list(plain.getdata()) == list(aigic.decode(marked, backend="preview").getdata())
    assert aigic.inspect(marked).unknown_chunks == (200,)
