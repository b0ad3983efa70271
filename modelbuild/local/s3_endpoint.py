"""An S3-compatible endpoint on 127.0.0.1 over the local store, for a job's own boto3 (and any SDK's) S3 calls.

For the run's duration jobs get `AWS_ENDPOINT_URL_S3` pointing here (see `modelbuild.local.job_environment`), so
`boto3.resource("s3").Bucket(b).download_file(k, f)` in a seed-style script reads the store, and what a
job uploads lands in it. The real S3 REST wire protocol (path-style, as botocore addresses an IP
endpoint): ListBuckets, Head/CreateBucket, GetBucketLocation, ListObjects(V2), Get/Head/Put/Copy/Delete
Object, DeleteObjects, and multipart uploads (Create, UploadPart, Complete, Abort); ranged GETs and
If-Match (s3transfer's parallel downloads use both), aws-chunked request bodies (botocore's default
checksums). Signatures are not checked: the endpoint listens on loopback only, for throwaway credentials.

Why a server here rather than a library: the store (files below `<state>/s3`) is the one source of
truth, and reads must stream from it and writes land in it atomically. moto keeps objects in memory, so
it would need the whole store copied in before every job and diffed out after (channels can be
gigabytes, see the data-at-scale work); no maintained Python package serves a directory as S3
(local-s3-server and fake-s3 are single-author, unmaintained). The protocol is small and is tested
here against the real boto3 client.

ETags: the MD5 of the content (as S3 gives for a single PUT), remembered per file version; above
`MD5_LIMIT` a multipart-style ETag from the file's identity, since S3 clients never compare those to a
content MD5 and hashing gigabytes for a HEAD would stall the job.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MD5_LIMIT = 64 * 1024 * 1024
UPLOADS = ".uploads"  # multipart parts, inside the store root (same filesystem: completing is a rename)
CHUNK = 1024 * 1024
POLL_SECONDS = 0.02


class S3Endpoint:
    """A running endpoint: `url`, and the store root it serves."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._etags: dict[tuple[int, int, int, int], str] = {}
        handler = type("Handler", (_Handler,), {"endpoint": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True  # a keep-alive client never holds up the end of a run
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # serve_forever notices shutdown() only at its next poll: 0.5 s by default, which every run would wait
        # at its end (a rerun with every step cached takes less than that in all).
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
                                        name="modelbuild-s3", daemon=True)

    def start(self) -> S3Endpoint:
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    # -- the store as buckets and keys ----------------------------------------------------------------

    def bucket_dir(self, bucket: str) -> Path | None:
        """The bucket's folder, or None for a name that is not a bucket here (hidden, or escaping)."""
        if not bucket or bucket.startswith(".") or "/" in bucket or "\\" in bucket:
            return None
        return self.root / bucket

    def object_path(self, bucket: str, key: str) -> Path | None:
        """The file of `key`, or None when the key cannot be a file of the store ('..', hidden parts)."""
        folder = self.bucket_dir(bucket)
        parts = [part for part in key.split("/") if part]
        if folder is None or not parts or any(p in (".", "..") or p.startswith(".") for p in parts):
            return None
        return folder.joinpath(*parts)

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        """Every key below `prefix` in S3's order (hidden and staging files are not objects)."""
        folder = self.bucket_dir(bucket)
        if folder is None or not folder.is_dir():
            return iter(())
        start = folder.joinpath(*[p for p in prefix.split("/")[:-1] if p])
        found = []
        for path, dirs, names in os.walk(start):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                if not name.startswith("."):
                    key = Path(path, name).relative_to(folder).as_posix()
                    if key.startswith(prefix):
                        found.append(key)
        return iter(sorted(found, key=lambda k: k.encode()))

    @staticmethod
    def _version(path: Path) -> tuple[int, int, int, int]:
        stat = path.stat()
        return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)

    def remember(self, path: Path, etag: str) -> None:
        """Give the file's current version `etag` (a multipart upload's, which no content hash gives back)."""
        self._etags[self._version(path)] = etag

    def etag(self, path: Path) -> str:
        """The quoted ETag of the file's current version."""
        version = self._version(path)
        known = self._etags.get(version)
        if known is None:
            if version[2] > MD5_LIMIT:
                known = f'"{hashlib.md5(repr(version).encode()).hexdigest()}-1"'
            else:
                digest = hashlib.md5()
                with path.open("rb") as stream:
                    for block in iter(lambda: stream.read(CHUNK), b""):
                        digest.update(block)
                known = f'"{digest.hexdigest()}"'
            self._etags[version] = known
        return known

    def publish(self, source: Path, target: Path) -> None:
        """Move a finished temporary file to `target` atomically (readers see the old or the new object)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)

    def temp_file(self, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        os.close(fd)
        return Path(temp)


@contextmanager
def serve(root: Path) -> Iterator[S3Endpoint]:
    """An endpoint over the store at `root` for the duration of the block."""
    endpoint = S3Endpoint(root).start()
    try:
        yield endpoint
    finally:
        endpoint.close()


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _no_such_key(key: str) -> S3Error:
    return S3Error(404, "NoSuchKey", f"The specified key does not exist: {key}")


def _no_such_bucket(bucket: str) -> S3Error:
    return S3Error(404, "NoSuchBucket", f"The specified bucket does not exist: {bucket}")


class _Handler(BaseHTTPRequestHandler):
    """One request; `endpoint` is set on the subclass made per endpoint."""

    endpoint: S3Endpoint
    protocol_version = "HTTP/1.1"  # keep-alive, and `Expect: 100-continue` for uploads

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # requests are the job's business; its own log shows its errors

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        bucket, _, key = unquote(url.path).lstrip("/").partition("/")
        try:
            if self.headers.get("X-Amz-Target") or (method == "POST" and not bucket):
                raise S3Error(501, "NotImplemented", "the local engine serves only S3 to jobs; other AWS "
                              "services are not emulated (set MODELBUILD_JOB_AWS=inherit to reach your account)")
            if not bucket:
                self._list_buckets()
            elif not key:
                self._bucket(method, bucket)
            else:
                self._object(method, bucket, key)
        except S3Error as exc:
            self._drain()
            self._error(exc)
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- buckets ---------------------------------------------------------------------------------------

    def _list_buckets(self) -> None:
        buckets = sorted(p.name for p in self.endpoint.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        items = "".join(f"<Bucket><Name>{escape(b)}</Name><CreationDate>{_iso(self.endpoint.root / b)}"
                        "</CreationDate></Bucket>" for b in buckets)
        self._xml("ListAllMyBucketsResult", f"<Owner><ID>local</ID></Owner><Buckets>{items}</Buckets>")

    def _bucket(self, method: str, bucket: str) -> None:
        folder = self.endpoint.bucket_dir(bucket)
        if folder is None:
            raise S3Error(400, "InvalidBucketName", f"bucket name {bucket!r} is not valid here")
        if method == "PUT":
            self._drain()
            folder.mkdir(parents=True, exist_ok=True)
            self._reply(200, headers={"Location": f"/{bucket}"})
            return
        if not folder.is_dir():
            raise _no_such_bucket(bucket)
        if method == "HEAD":
            self._reply(200)
        elif method == "GET" and "location" in self.query:
            self._xml("LocationConstraint", "")
        elif method == "GET":
            self._list_objects(bucket)
        elif method == "POST" and "delete" in self.query:
            self._delete_objects(bucket)
        elif method == "DELETE":
            raise S3Error(409, "BucketNotEmpty", "buckets of the local store are not deleted by jobs")
        else:
            raise S3Error(501, "NotImplemented", f"{method} on a bucket is not served locally")

    def _list_objects(self, bucket: str) -> None:
        v2 = self.query.get("list-type") == "2"
        prefix, delimiter = self.query.get("prefix", ""), self.query.get("delimiter", "")
        limit = max(0, min(int(self.query.get("max-keys") or 1000), 1000))
        after = self.query.get("continuation-token") or self.query.get("start-after" if v2 else "marker") or ""
        contents, prefixes, truncated, last = [], [], False, ""
        for key in self.endpoint.keys(bucket, prefix):
            if key.encode() <= after.encode():
                continue
            rest = key[len(prefix):]
            if delimiter and delimiter in rest:
                common = prefix + rest[:rest.index(delimiter) + len(delimiter)]
                if prefixes and prefixes[-1] == common or common.encode() <= after.encode():
                    continue
                item: tuple[str, str | None] = (common, None)
            else:
                item = (key, key)
            if len(contents) + len(prefixes) == limit:
                truncated = True
                break
            if item[1] is None:
                prefixes.append(common)
                last = common + "\U0010ffff"  # continue past every key the common prefix stands for
            else:
                contents.append(key)
                last = key
        folder = self.endpoint.bucket_dir(bucket)
        body = [f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix><MaxKeys>{limit}</MaxKeys>",
                f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"]
        if delimiter:
            body.append(f"<Delimiter>{escape(delimiter)}</Delimiter>")
        for key in contents:
            path = folder / key
            body.append(f"<Contents><Key>{escape(key)}</Key><LastModified>{_iso(path)}</LastModified>"
                        f"<ETag>{escape(self.endpoint.etag(path))}</ETag><Size>{path.stat().st_size}</Size>"
                        "<StorageClass>STANDARD</StorageClass></Contents>")
        body += [f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes]
        if v2:
            body.append(f"<KeyCount>{len(contents) + len(prefixes)}</KeyCount>")
            if truncated:
                body.append(f"<NextContinuationToken>{escape(last)}</NextContinuationToken>")
        elif truncated:
            body.append(f"<NextMarker>{escape(last)}</NextMarker>")
        self._xml("ListBucketResult", "".join(body))

    def _delete_objects(self, bucket: str) -> None:
        document = ElementTree.fromstring(self._body())
        deleted = []
        for element in document.iter():
            if element.tag.rpartition("}")[2] == "Key" and element.text:
                path = self.endpoint.object_path(bucket, element.text)
                if path is not None and path.is_file():
                    path.unlink()
                deleted.append(f"<Deleted><Key>{escape(element.text)}</Key></Deleted>")
        self._xml("DeleteResult", "".join(deleted))

    # -- objects ---------------------------------------------------------------------------------------

    def _object(self, method: str, bucket: str, key: str) -> None:
        folder = self.endpoint.bucket_dir(bucket)
        if folder is None or not folder.is_dir():
            raise _no_such_bucket(bucket)
        path = self.endpoint.object_path(bucket, key)
        if path is None:
            if method == "PUT" and key.endswith("/"):  # a "folder" marker: the store has real folders
                self._drain()
                self._reply(200, headers={"ETag": '"d41d8cd98f00b204e9800998ecf8427e"'})
                return
            raise S3Error(400, "InvalidKey", f"key {key!r} cannot be stored locally ('.', '..' or hidden parts)")
        if method in ("GET", "HEAD"):
            self._get(path, key, head=method == "HEAD")
        elif method == "PUT" and "uploadId" in self.query:
            self._upload_part(path)
        elif method == "PUT" and self.headers.get("x-amz-copy-source"):
            self._copy(path)
        elif method == "PUT":
            self._put(path)
        elif method == "POST" and "uploads" in self.query:
            self._create_upload(bucket, key)
        elif method == "POST" and "uploadId" in self.query:
            self._complete_upload(bucket, key, path)
        elif method == "DELETE" and "uploadId" in self.query:
            shutil.rmtree(self._upload_dir(), ignore_errors=True)
            self._reply(204)
        elif method == "DELETE":
            if path.is_file():
                path.unlink()
            self._reply(204)
        else:
            raise S3Error(501, "NotImplemented", f"{method} on an object is not served locally")

    def _get(self, path: Path, key: str, *, head: bool) -> None:
        if not path.is_file():
            raise _no_such_key(key)
        etag, size = self.endpoint.etag(path), path.stat().st_size
        wanted = self.headers.get("If-Match")
        if wanted and wanted.strip() not in (etag, "*"):
            raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
        start, end, status = 0, size - 1, 200
        headers = {"ETag": etag, "Last-Modified": formatdate(path.stat().st_mtime, usegmt=True),
                   "Accept-Ranges": "bytes", "Content-Type": "binary/octet-stream"}
        ranged = self.headers.get("Range")
        if ranged and ranged.startswith("bytes=") and size:
            first, _, last = ranged[6:].partition("-")
            if first:
                start, end = int(first), min(int(last or size - 1), size - 1)
            else:  # bytes=-N: the last N bytes
                start = max(0, size - int(last))
            if start >= size or start > end:
                raise S3Error(416, "InvalidRange", "The requested range is not satisfiable")
            status, headers["Content-Range"] = 206, f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        self._reply(status, length=length, headers=headers)
        if head or not length:
            return
        with path.open("rb") as stream:
            stream.seek(start)
            remaining = length
            while remaining:
                block = stream.read(min(CHUNK, remaining))
                if not block:
                    break
                self.wfile.write(block)
                remaining -= len(block)

    def _put(self, path: Path) -> None:
        temp = self.endpoint.temp_file(path)
        try:
            digest = self._receive(temp)
            self.endpoint.publish(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        self._reply(200, headers={"ETag": f'"{digest}"'})

    def _copy(self, path: Path) -> None:
        self._drain()
        source = unquote(self.headers["x-amz-copy-source"].split("?")[0]).lstrip("/")
        source_bucket, _, source_key = source.partition("/")
        source = self.endpoint.object_path(source_bucket, source_key)
        if source is None or not source.is_file():
            raise _no_such_key(source_key)
        temp = self.endpoint.temp_file(path)
        try:
            shutil.copyfile(source, temp)
            self.endpoint.publish(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        self._xml("CopyObjectResult", f"<LastModified>{_iso(path)}</LastModified>"
                  f"<ETag>{escape(self.endpoint.etag(path))}</ETag>")

    def _upload_dir(self) -> Path:
        upload_id = self.query["uploadId"]
        if not upload_id.isalnum():
            raise S3Error(404, "NoSuchUpload", "The specified upload does not exist")
        return self.endpoint.root / UPLOADS / upload_id

    def _create_upload(self, bucket: str, key: str) -> None:
        self._drain()
        upload_id = uuid.uuid4().hex
        (self.endpoint.root / UPLOADS / upload_id).mkdir(parents=True)
        self._xml("InitiateMultipartUploadResult", f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>"
                  f"<UploadId>{upload_id}</UploadId>")

    def _upload_part(self, path: Path) -> None:
        folder = self._upload_dir()
        if not folder.is_dir():
            raise S3Error(404, "NoSuchUpload", "The specified upload does not exist")
        number = int(self.query.get("partNumber", "0"))
        if not 1 <= number <= 10000:
            raise S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000")
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".part-")
        os.close(fd)
        digest = self._receive(Path(temp))
        os.replace(temp, folder / f"{number:05d}")
        self._reply(200, headers={"ETag": f'"{digest}"'})

    def _complete_upload(self, bucket: str, key: str, path: Path) -> None:
        folder = self._upload_dir()
        document = ElementTree.fromstring(self._body())
        if not folder.is_dir():
            raise S3Error(404, "NoSuchUpload", "The specified upload does not exist")
        numbers = [int(e.text or 0) for e in document.iter() if e.tag.rpartition("}")[2] == "PartNumber"]
        temp = self.endpoint.temp_file(path)
        md5s = hashlib.md5()
        try:
            with temp.open("wb") as output:
                for number in numbers:
                    part = folder / f"{number:05d}"
                    if not part.is_file():
                        raise S3Error(400, "InvalidPart", f"part {number} was not uploaded")
                    with part.open("rb") as stream:
                        md5s.update(hashlib.md5(stream.read()).digest())
                        stream.seek(0)
                        shutil.copyfileobj(stream, output, CHUNK)
            self.endpoint.publish(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        etag = f'"{md5s.hexdigest()}-{len(numbers)}"'
        self.endpoint.remember(path, etag)
        self._xml("CompleteMultipartUploadResult", f"<Location>/{escape(bucket)}/{escape(key)}</Location>"
                  f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag>")

    # -- bodies ----------------------------------------------------------------------------------------

    def _receive(self, target: Path) -> str:
        """Write the request body to `target` (aws-chunked decoded); returns its MD5 hex digest."""
        digest = hashlib.md5()
        with target.open("wb") as output:
            for block in self._body_blocks():
                digest.update(block)
                output.write(block)
        return digest.hexdigest()

    def _body(self) -> bytes:
        return b"".join(self._body_blocks())

    def _drain(self) -> None:
        if not getattr(self, "_drained", False):
            for _ in self._body_blocks():
                pass

    def _body_blocks(self) -> Iterator[bytes]:
        self._drained = True
        raw = self._raw_blocks()
        chunked = ("aws-chunked" in (self.headers.get("Content-Encoding") or "")
                   or (self.headers.get("x-amz-content-sha256") or "").startswith("STREAMING-"))
        return _aws_chunks(raw) if chunked else raw

    def _raw_blocks(self) -> Iterator[bytes]:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            yield from _http_chunks(self.rfile)
            return
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining:
            block = self.rfile.read(min(CHUNK, remaining))
            if not block:  # the client went away mid-body: nothing of it may be published
                raise ConnectionResetError("request body cut short")
            remaining -= len(block)
            yield block

    # -- responses -------------------------------------------------------------------------------------

    def _reply(self, status: int, body: bytes = b"", *, length: int | None = None,
               headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("x-amz-request-id", secrets.token_hex(8))
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _xml(self, root: str, inner: str) -> None:
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NS}">{inner}</{root}>'.encode()
        self._reply(200, body, headers={"Content-Type": "application/xml"})

    def _error(self, error: S3Error) -> None:
        if self.headers.get("X-Amz-Target"):  # a JSON-protocol service (SageMaker, ...): an error it parses
            body = json.dumps({"__type": error.code, "message": error.message}).encode()
            self._reply(error.status, body, headers={"Content-Type": "application/x-amz-json-1.1"})
            return
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{error.code}</Code>'
                f"<Message>{escape(error.message)}</Message><Resource>{escape(quote(self.path))}</Resource>"
                "</Error>").encode()
        self._reply(error.status, body, headers={"Content-Type": "application/xml"})


def _aws_chunks(raw: Iterator[bytes]) -> Iterator[bytes]:
    """Decode an aws-chunked body: `<hex size>[;chunk-signature=..]\\r\\n<data>\\r\\n` ... `0\\r\\n<trailers>`."""
    buffer = b""
    source = iter(raw)

    def fill(size: int) -> bool:
        nonlocal buffer
        while len(buffer) < size:
            block = next(source, b"")
            if not block:
                return False
            buffer += block
        return True

    while True:
        while b"\r\n" not in buffer:
            if not fill(len(buffer) + 1):
                raise ConnectionResetError("aws-chunked body cut short")
        line, _, buffer = buffer.partition(b"\r\n")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return  # trailers (checksums) follow; the content is complete
        if not fill(size + 2):
            raise ConnectionResetError("aws-chunked body cut short")
        yield buffer[:size]
        buffer = buffer[size + 2:]


def _http_chunks(stream) -> Iterator[bytes]:
    while True:
        line = stream.readline()
        if not line:
            raise ConnectionResetError("chunked body cut short")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline().strip():  # trailers
                pass
            return
        yield stream.read(size)
        stream.readline()


def _iso(path: Path) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(path.stat().st_mtime))

