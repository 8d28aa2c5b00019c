"""`mfc serve-check`: a page on 127.0.0.1 where a council or police data officer drops the files
of a return and sees the report the nightly run would give them, failing rows and all, with
those rows as a CSV file to download.

Nothing is kept. The upload is streamed, chunk by chunk, into a temporary folder laid out as the
landing folder the nightly run reads (council/<authority>/<year>/<files>,
police/<force>/<YYYY-MM>.csv, aggregate/<source>/<file>), checked there by mfc.check, and the
folder is deleted before the page is sent. The CSV travels inside the page as a data: link, so
the server keeps no copy of it either.

Limits (each refused with a plain message and the form shown again): at most MAX_FILES files,
each at most MAX_FILE_BYTES (an upload stops being written the moment it passes the limit), and
only the file types the nightly run reads for that kind of return.
"""

from __future__ import annotations

import base64
import logging
import re
import socket
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.middleware.trustedhost import TrustedHostMiddleware

from mfc import config
from mfc.reports.html import render
from mfc.returns.aggregate import SUFFIXES as AGGREGATE_SUFFIXES

if TYPE_CHECKING:
    from mfc.check import Checker

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_FILES = 10                      # a council return is three files; room for stray extras
MAX_FILE_BYTES = 50 * 1024 * 1024   # per file
MAX_FIELD_BYTES = 1024              # a text field of the form (authority, year, ...)

KINDS = {
    "council": "A council return: the SSDA903 header, episodes and missing CSV files",
    "police": "A police month file: one force's incidents for one calendar month, as CSV",
    "aggregate": "Aggregate figures: an FOI answer or a published table, as CSV or Excel",
}
SUFFIXES = {"council": (".csv",), "police": (".csv",), "aggregate": tuple(AGGREGATE_SUFFIXES)}
TEXT_FIELDS = ("kind", "authority", "year", "force", "month", "source")
# Where an error points the reader: the field it is about (the first radio for the kind).
ANCHORS = {"kind": "kind-council", **{name: name for name in TEXT_FIELDS[1:]}, "files": "files"}


class Refused(Exception):
    """The upload is refused: HTTP status, the form field it is about, one plain message."""

    def __init__(self, status: int, field_name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field_name, self.message = status, field_name, message


@dataclass
class Limits:
    max_files: int = MAX_FILES
    max_file_bytes: int = MAX_FILE_BYTES

    @property
    def largest(self) -> str:
        return _size(self.max_file_bytes)

    @property
    def whole_request(self) -> int:
        """More than this cannot be a permitted upload (files, fields and multipart framing)."""
        return self.max_files * (self.max_file_bytes + 64 * 1024) + 1024 * 1024


def _size(n: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n:,} bytes"


@dataclass
class Upload:
    name: str     # the file's own name, as the officer's computer gave it
    path: Path    # where it was streamed to, inside the temporary folder
    size: int = 0


@dataclass
class Form:
    """What the officer sent: the text fields, the files received, and what is wrong."""
    values: dict[str, str] = field(default_factory=lambda: dict.fromkeys(TEXT_FIELDS, ""))
    files: list[Upload] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200

    def refuse(self, status: int, field_name: str, message: str) -> None:
        """Record an error on a field (its first); the highest status wins (413 over 400)."""
        self.errors.setdefault(field_name, message)
        self.status = max(self.status, status)


class _Receiver:
    """Feeds the request body to python-multipart's streaming parser and writes each file part
    straight to disk, stopping at the limits. Text fields are kept, up to MAX_FIELD_BYTES."""

    def __init__(self, folder: Path, limits: Limits, form: Form) -> None:
        self.folder, self.limits, self.form = folder, limits, form
        self.refused: Refused | None = None
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._field: str | None = None      # the text field being read
        self._text = bytearray()
        self._upload: Upload | None = None  # the file being written
        self._out: Any = None
        self._skip = False                  # a part to ignore (an empty file input)

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value_, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data,
                "on_part_end": self._end}

    def _begin(self) -> None:
        self._disposition, self._field, self._upload, self._skip = b"", None, None, False
        self._text = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        if self.refused:
            self._skip = True
            return
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            self._field = name if name in TEXT_FIELDS else None
            self._skip = self._field is None
            return
        filename = _base_name(options[b"filename"].decode("utf-8", "replace"))
        if name != "files" or not filename:  # an empty file input sends a nameless part
            self._skip = True
            return
        if len(self.form.files) >= self.limits.max_files:
            self._refuse(413, "files", f"Too many files: at most {self.limits.max_files} can be "
                         "checked at once (a council return is three: header.csv, episodes.csv "
                         "and missing.csv).")
            return
        suffix = Path(filename).suffix.lower()
        if suffix not in {s for kind in SUFFIXES.values() for s in kind}:
            self._refuse(400, "files", _not_read(filename, self.form.values["kind"]))
            return
        self._upload = Upload(filename, self.folder / f"{len(self.form.files) + 1}{suffix}")
        self._out = self._upload.path.open("wb")
        self.form.files.append(self._upload)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._skip or self.refused:
            return
        if self._field is not None:
            self._text += data[start:end]
            if len(self._text) > MAX_FIELD_BYTES:
                self._refuse(400, self._field, f"The {self._field} given is too long (at most "
                             f"{MAX_FIELD_BYTES} characters).")
            return
        upload = self._upload
        if upload is None:
            return
        upload.size += end - start
        if upload.size > self.limits.max_file_bytes:
            self._refuse(413, "files", f"{upload.name} is larger than {self.limits.largest}, "
                         "the most one file may be; nothing was checked.")
            return
        self._out.write(data[start:end])

    def _end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._field is not None and not self.refused:
            self.form.values[self._field] = self._text.decode("utf-8", "replace").strip()
        self._field, self._upload = None, None

    def _refuse(self, status: int, field_name: str, message: str) -> None:
        """Stop writing: the partial file goes, the rest of the body is read and dropped."""
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._upload is not None:
            self._upload.path.unlink(missing_ok=True)
        self.refused = Refused(status, field_name, message)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def _base_name(name: str) -> str:
    """The file's own name, whatever path the browser sent with it; '' if it has none a folder
    could hold (hidden names are ignored by the landing folder, so they are refused too)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base.startswith(".") or any(ord(c) < 32 for c in base):
        return ""
    return base


def _not_read(name: str, kind: str) -> str:
    """Why a file of this type is refused, and what to send instead."""
    if kind == "council":
        return (f"{name} is not a CSV file: a council return is read from .csv files, as the "
                "nightly run reads it; save each table as CSV and choose it again.")
    if kind == "police":
        return (f"{name} is not a CSV file: a police month is read from one .csv file, as the "
                "nightly run reads it; save it as CSV and choose it again.")
    if kind == "aggregate":
        return (f"{name} is not a CSV or Excel (.xlsx) file: aggregate figures are read from "
                "one of those, as the nightly run reads them; save it as one and choose it "
                "again.")
    return (f"{name} is not a CSV file: the check reads .csv files (and .xlsx for aggregate "
            "figures), as the nightly run does; save it as CSV and choose it again.")


async def receive(stream: AsyncIterator[bytes], boundary: bytes, folder: Path,
                  limits: Limits) -> Form:
    """Read a multipart upload into folder (files as 1.csv, 2.xlsx, ... by arrival). Once a
    limit is passed nothing more is written; the rest of the body is read and dropped so that
    the browser gets the answer, up to a bound past which the connection is simply closed."""
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser

    form = Form()
    receiver = _Receiver(folder, limits, form)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    drained = 0
    try:
        async for chunk in stream:
            if receiver.refused:
                drained += len(chunk)
                if drained > limits.whole_request:
                    break
                continue
            parser.write(chunk)
        if not receiver.refused:
            parser.finalize()
    except FormParserError:
        receiver.close()
        form.refuse(400, "files", "The upload arrived incomplete or is not a form upload; "
                    "send the form again.")
        return form
    finally:
        receiver.close()
    if receiver.refused:
        form.refuse(receiver.refused.status, receiver.refused.field_name,
                    receiver.refused.message)
    return form


@dataclass
class Ready:
    """A return that passed the form's checks, laid out as the landing folder expects."""
    kind: str
    path: Path                 # the council folder, or the police/aggregate file
    authority: str | None
    period: str | None


def lay_out(form: Form, landing: Path, register: Any) -> Ready | None:
    """Check the fields and files as the nightly run would read them, then move the files into
    the landing layout under landing. None, with form.errors set, if something is wrong."""
    kind = form.values["kind"]
    if kind not in KINDS:
        form.refuse(400, "kind", "Choose what you are checking: a council return, a police "
                    "month file or aggregate figures.")
        kind = ""
    who, period = {"council": _council, "police": _police, "aggregate": _aggregate,
                   "": lambda form, register: (None, None)}[kind](form, register)
    if "files" not in form.errors:
        _check_files(form, kind)
    if form.errors or not kind or who is None:
        return None
    folder = landing / kind / who / (period if kind == "council" else "")
    folder.mkdir(parents=True)
    if kind == "council":
        for upload in form.files:
            upload.path.rename(folder / upload.name)
        return Ready(kind, folder, who, period)
    # One file: a police month is named for its month, as the nightly run reads it.
    [upload] = form.files
    path = folder / (f"{period}.csv" if kind == "police" else upload.name)
    upload.path.rename(path)
    return Ready(kind, path, who, period)


def _council(form: Form, register: Any) -> tuple[str | None, str | None]:
    """The authority's folder name and the collection year, or an error on each."""
    from mfc.geography import UnknownAuthority
    from mfc.returns.council import CollectionYear

    authority, label = form.values["authority"], form.values["year"]
    year = None
    if not label:
        form.refuse(400, "year", "Enter the collection year, for example 2023-24.")
    else:
        try:
            year = CollectionYear.parse(label)
        except ValueError:
            form.refuse(400, "year", f"The collection year {label!r} is not a year April to "
                        "March written like 2023-24.")
    if not authority:
        form.refuse(400, "authority", "Enter the authority: its name, GSS code or DfE code, "
                    "for example Middlesbrough, E06000002 or 806.")
        return None, None
    if year is None:
        return None, None  # an authority is known or not on the year's last day
    try:
        found = register.resolve(authority, on=year.end)
    except UnknownAuthority as err:
        form.refuse(400, "authority", _sentence(str(err)))
        return None, None
    # The folder is named as the officer named the authority (the report says so), unless
    # the name cannot be a folder's.
    return (authority if _folder_name(authority) else found.gss_code), year.label


def _police(form: Form, register: Any) -> tuple[str | None, str | None]:
    """The force's code and the month, or an error on each."""
    from mfc.returns.police import ReturnMonth, force_codes

    force, label = form.values["force"].upper(), form.values["month"]
    month = None
    if force not in force_codes():
        form.refuse(400, "force", "Choose the police force.")
    if not label:
        form.refuse(400, "month", "Enter the month, for example 2024-03.")
    else:
        try:
            month = ReturnMonth.parse(label).label
        except ValueError:
            form.refuse(400, "month", f"The month {label!r} is not a calendar month written "
                        "like 2024-03.")
    return (force, month) if force in force_codes() and month else (None, None)


def _aggregate(form: Form, register: Any) -> tuple[str | None, str | None]:
    """The source's folder name, or an error."""
    source = form.values["source"]
    if not source:
        form.refuse(400, "source", "Enter the source: who produced the figures, for example "
                    "foi-2024-0412.")
        return None, None
    if not _folder_name(source):
        form.refuse(400, "source", f"The source {source!r} cannot name a folder: leave out "
                    "slashes and do not start it with a dot.")
        return None, None
    return source, None


def _folder_name(text: str) -> bool:
    """Whether text can name one folder of the landing layout (no separators, not hidden)."""
    return bool(text) and not text.startswith(".") and not any(
        c in "/\\" or ord(c) < 32 for c in text)


def _check_files(form: Form, kind: str) -> None:
    files = form.files
    if not files:
        form.refuse(400, "files", "Choose the files to check" + (
            " (header.csv, episodes.csv and missing.csv)." if kind == "council" else "."))
        return
    if kind in SUFFIXES:
        allowed = SUFFIXES[kind]
        for upload in files:
            if Path(upload.name).suffix.lower() not in allowed:
                form.refuse(400, "files", _not_read(upload.name, kind))
                return
    if kind in ("police", "aggregate") and len(files) > 1:
        what = ("A police return is one file per month" if kind == "police"
                else "Aggregate figures are checked one file at a time")
        form.refuse(400, "files", f"{what}: choose one file ({len(files)} were chosen).")
        return
    names = [u.name.lower() for u in files]
    twice = sorted({u.name for u in files if names.count(u.name.lower()) > 1})
    if twice:
        form.refuse(400, "files", f"{', '.join(twice)} was chosen twice; choose each file once.")


def _sentence(message: str) -> str:
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def data_uri(csv: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(csv).decode("ascii")


def create_app(checker: Checker, *, limits: Limits | None = None,
               scratch_dir: Path | None = None) -> FastAPI:
    """The page, checking with checker (entered already, and used one return at a time).

    limits: the upload limits (tests lower them). scratch_dir: where the temporary folders are
    made (default: the system's temporary folder)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import ClientDisconnect

    from mfc import check
    from mfc.geography import AuthorityRegister
    from mfc.returns.police import force_codes

    limits = limits or Limits()
    register = AuthorityRegister.from_seed()
    forces = sorted(force_codes().items(), key=lambda item: item[1])
    one_at_a_time = threading.Lock()
    app = FastAPI(title="mfc serve-check", docs_url=None, redoc_url=None, openapi_url=None)
    # Only this computer's names for itself (a page elsewhere cannot rebind a name to it).
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=[HOST, "localhost"])

    def page(form: Form, status: int = 200) -> Response:
        html = render("upload.html", title=("Error: " if form.errors else "")
                      + "Check a return before you submit it", form=form.values,
                      errors={name: form.errors[name] for name in ANCHORS
                              if name in form.errors},  # in the page's order
                      anchors=ANCHORS, kinds=KINDS, forces=forces,
                      max_files=limits.max_files, largest=limits.largest)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def run_check(ready: Ready) -> str:
        with one_at_a_time:
            report = checker.check(ready.path, kind=ready.kind, authority=ready.authority,
                                   period=ready.period, csv_href=data_uri)
        return with_back_link(report.html)

    @app.get("/")
    def form_page() -> Response:
        return page(Form())

    @app.post("/check")
    async def check_page(request: Request) -> Response:
        from python_multipart.multipart import parse_options_header

        if not _same_origin(request):
            return HTMLResponse("Refused: the form is sent from its own page only.", 403,
                                headers=HEADERS)
        form = Form()
        content_type, options = parse_options_header(request.headers.get("content-type", ""))
        length = request.headers.get("content-length", "")
        if content_type != b"multipart/form-data" or b"boundary" not in options:
            form.refuse(400, "files", "Send the files with the form below.")
            return page(form, 400)
        if length.isdigit() and int(length) > limits.whole_request:
            form.refuse(413, "files", f"The upload is too large: at most {limits.max_files} "
                        f"files, each at most {limits.largest}; nothing was checked.")
            return page(form, 413)
        with tempfile.TemporaryDirectory(prefix="mfc-serve-check-", dir=scratch_dir) as tmp:
            incoming = Path(tmp) / "incoming"
            incoming.mkdir()
            try:
                form = await receive(request.stream(), options[b"boundary"], incoming, limits)
            except ClientDisconnect:
                return HTMLResponse("", 400)
            ready = lay_out(form, Path(tmp) / "landing", register)
            if ready is None:
                return page(form, form.status)
            try:
                html = await run_in_threadpool(run_check, ready)
            except check.CheckCannotRun as err:
                form.refuse(422, "files", f"The return could not be checked: {err}")
                return page(form, 422)
            except Exception as err:  # a fault of the check, not of the return: say so
                log.exception("checking %s failed", ready.path)
                form.refuse(500, "files", "The check itself failed (" + (
                    str(err).strip().splitlines() or [type(err).__name__])[-1] + "); the "
                    "details are in the window where mfc serve-check runs.")
                return page(form, 500)
        return HTMLResponse(html, headers=HEADERS)

    return app


# The pages load nothing from anywhere (the check's machines are offline): the policy says so
# to the browser too. Reports name children's pseudonymous ids: nothing is cached.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src data:; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # the form's own Origin is sent with it, no other
    "X-Content-Type-Options": "nosniff",
}


def _same_origin(request: Request) -> bool:
    """A form posted from any other page (the browser names it in Origin) is refused."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"http://{request.headers.get('host', '')}"


def with_back_link(report_html: str) -> str:
    """The report, with a link back to the form above it (upload.html's block back_link)."""
    from mfc.reports.html import templates

    template = templates().get_template("upload.html")
    link = "".join(template.blocks["back_link"](template.new_context({})))
    body = re.search(r"<body[^>]*>", report_html)
    at = body.end() if body else 0
    return report_html[:at] + link + report_html[at:]


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def serve(port: int = DEFAULT_PORT) -> int:
    """Start the check (its scratch database: the embedded PostgreSQL unless a warehouse is
    configured), then serve the page on 127.0.0.1:port until interrupted."""
    import uvicorn

    from mfc.check import Checker

    if not port_free(port):
        raise config.ConfigurationError(
            f"port {port} on {HOST} is in use (another mfc serve-check?); give another with "
            "--port")
    print("Preparing the check (a first start of the embedded PostgreSQL takes a minute)...",
          flush=True)
    with Checker(config.warehouse_url()) as checker:
        app = create_app(checker)
        server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
        print(f"Check a return at http://{HOST}:{port}/ (only this computer can reach it; "
              "Ctrl+C stops it).", flush=True)
        try:
            server.run()
        except KeyboardInterrupt:  # uvicorn stops, then passes the Ctrl+C on
            pass
    print("Stopped.", flush=True)
    return 0
