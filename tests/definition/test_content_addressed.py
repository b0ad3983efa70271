"""The SDK's timestamped code prefixes become content-addressed, so unchanged code builds byte-identically."""

from __future__ import annotations

import io
import tarfile
import time

from modelbuild.definition.offline import content_addressed_code_prefixes


def archive(files: dict[str, bytes], mtime: float) -> bytes:
    output = io.BytesIO()
    with tarfile.open(fileobj=output, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uid = len(data), mtime, 1000
            tar.addfile(info, io.BytesIO(data))
    return output.getvalue()


def build(stamp: str, code: bytes, mtime: float) -> tuple[str, dict[str, bytes]]:
    """What the SDK gives for a FrameworkProcessor and a ModelTrainer built at one moment."""
    processor = f"s3://bkt/count-{stamp}/source/"
    trainer = f"s3://bkt/fit/fit-{stamp.replace('-', '')[:14]}/input/code"
    text = f'{{"Code": "{processor}", "Channel": "{trainer}"}}'
    uploads = {f"{processor}sourcedir.tar.gz": archive({"count.py": code}, mtime),
               f"{trainer}/train.py": code}
    return text, uploads


def test_two_builds_of_the_same_code_are_byte_identical():
    first = content_addressed_code_prefixes(*build("2026-11-30-05-06-24-764", b"print(1)\n", time.time()))
    second = content_addressed_code_prefixes(*build("2026-11-30-07-01-02-003", b"print(1)\n", time.time() + 60))

    assert first == second
    text, uploads = first
    assert "2026" not in text and not any("2026" in uri for uri in uploads)
    assert set(uploads) == {f"s3://bkt/count-{text.split('count-')[1][:16]}/source/sourcedir.tar.gz",
                            f"s3://bkt/fit/fit-{text.split('fit-')[1][:16]}/input/code/train.py"}


def test_changed_code_gets_a_new_prefix():
    before, _ = content_addressed_code_prefixes(*build("2026-11-30-05-06-24-764", b"print(1)\n", 0))
    after, _ = content_addressed_code_prefixes(*build("2026-11-30-05-06-24-764", b"print(2)\n", 0))

    assert before != after


def test_the_repacked_archive_keeps_the_files():
    _, uploads = content_addressed_code_prefixes(*build("2026-11-30-05-06-24-764", b"print(1)\n", time.time()))

    packed = next(data for uri, data in uploads.items() if uri.endswith(".tar.gz"))
    with tarfile.open(fileobj=io.BytesIO(packed)) as tar:
        assert tar.extractfile("count.py").read() == b"print(1)\n"
        assert tar.getmember("count.py").mtime == 0


def test_uploads_without_a_timestamp_are_left_alone():
    text, uploads = content_addressed_code_prefixes('{"a": "s3://bkt/P/code/abc123/run.py"}',
                                                    {"s3://bkt/P/code/abc123/run.py": b"x"})

    assert text == '{"a": "s3://bkt/P/code/abc123/run.py"}' and uploads == {"s3://bkt/P/code/abc123/run.py": b"x"}
