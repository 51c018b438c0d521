"""Reading LEDES files into exact frames: 1998B and 98BI V2 here, XML 2.1 in :mod:`.xml21`.

What real systems emit is accepted: CRLF, LF or CR line ends, with or without a newline after
the last line; ASCII, UTF-8 (with or without a BOM) or cp1252 ("ANSI"); numbers such as
``2.00``, ``0.200``, ``1250.``, ``-70``; blank optional fields. What is wrong with the file is
reported as findings (line numbers as in the file), never by stopping at the first problem:

* a file saved as UTF-16 or UTF-32 (with a byte-order mark, or recognised by its zero bytes)
  is an ENCODING error naming the encoding, and is then read and checked like any other;
* a damaged first line (``LEDES1998BB[]``, ``NOT_THE_SPEC[]``) is a HEADER error, and the file
  is read in the format its lines have (24 fields: 1998B, 52: 98BI V2) or, when they do not
  say, the format the first line comes closest to; a damaged line of field names is a
  FIELD_NAMES error naming each misnamed field.

Only a file that is not LEDES at all raises :class:`NotLedesError`.

How it stays fast on a few hundred thousand lines: the structure (line ends, ``|`` per line,
``[]`` terminators, field widths) is read from the raw bytes with NumPy, the well-formed lines
go through pandas' C tokenizer in one call, and every column is converted on its distinct
values only (:mod:`.values`). No Python runs per line except for lines that are broken.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from billxl.ledes.findings import NotLedesError, combine, found
from billxl.ledes.formats import FORMATS, LEDES_98BI, PipeFormat
from billxl.ledes.lines import LedesFile, typed_lines

__all__ = ["LedesFile", "parse", "read_bytes", "detect_format"]

_CP1252_UNDEFINED = np.array([0x81, 0x8D, 0x8F, 0x90, 0x9D], dtype=np.uint8)
_KNOWN_OTHER = {"LEDES98BI": "LEDES 98BI (version 1)", "LEDES2000": "LEDES 2000",
                "LEDES1998BI": "LEDES 98BI (version 1)"}
#: Encodings billxl can read but LEDES does not allow, as a secretary's editor names them.
_WIDE = {"utf-16-le": "UTF-16 (little-endian)", "utf-16-be": "UTF-16 (big-endian)",
         "utf-32-le": "UTF-32 (little-endian)", "utf-32-be": "UTF-32 (big-endian)"}
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_UTF8_BODY = ("ascii", "utf-8", "utf-8-sig", *_WIDE)  # what the layout's bytes are in
_FIELD_NAMES = {n.upper() for n in LEDES_98BI.names}  # 1998B's are the first 24 of them


# =================================================================================== bytes
def read_bytes(source) -> tuple[bytes, str]:
    """The bytes of ``source`` (a path, or the bytes themselves) and a name for messages."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), "<bytes>"
    path = Path(os.fspath(source))
    try:
        return path.read_bytes(), str(path)
    except FileNotFoundError:
        raise NotLedesError(f"{path}: there is no such file.") from None
    except IsADirectoryError:
        raise NotLedesError(f"{path} is a folder, not a LEDES file.") from None


def _decode_plan(data: bytes) -> tuple[bytes, str]:
    """Strip a BOM and say which encoding the bytes are in (UTF-16 and UTF-32 are re-encoded
    as UTF-8, to be read like any other file once their ENCODING error is noted)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:], "utf-8-sig"
    wide, bom = _wide_encoding(data)
    if wide:
        return data[bom:].decode(wide, errors="replace").encode("utf-8"), wide
    arr = np.frombuffer(data, dtype=np.uint8)
    if len(arr) == 0 or arr.max() < 0x80:
        return data, "ascii"
    return data, "utf-8"  # until a strict decode says otherwise (then cp1252)


def _wide_encoding(data: bytes) -> tuple[str | None, int]:
    """UTF-16 or UTF-32 (and the length of its BOM): from the BOM, or, without one, from the
    zero bytes that text of one or three bytes per character has in every second or fourth
    place. None for anything else (a binary file has zeros too, but not in that pattern)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    head = np.frombuffer(data[:4096 - 4096 % 4] if len(data) >= 4096 else
                         data[:len(data) - len(data) % 4], dtype=np.uint8)
    if len(head) < 8:
        return None, 0
    zero = head == 0
    if zero.mean() < 0.25:
        return None, 0
    by4 = zero.reshape(-1, 4).mean(axis=0)
    by2 = zero.reshape(-1, 2).mean(axis=0)
    for share, codec in ((by4, "utf-32-le"), (by4[::-1], "utf-32-be"), (by2, "utf-16-le"),
                         (by2[::-1], "utf-16-be")):
        if share[0] < 0.5 and share[1:].min() > 0.9:
            return codec, 0
    return None, 0


def _encoding_finding(encoding: str) -> pd.DataFrame:
    shown = _WIDE[encoding]
    return found("ENCODING", [1], "", f"The file is saved as {shown}. A LEDES file is plain "
                 "text in ASCII, ANSI (cp1252) or UTF-8, and e-billing portals refuse "
                 f"{shown.split()[0]} files. billxl read it anyway, to check the rest.",
                 "Save the file as UTF-8 or ANSI (in Notepad: File, Save As, Encoding UTF-8) "
                 "and send that.")


def detect_format(first_line: str) -> str | None:
    """'1998B' or '98BI' from a header line, None when it is not one."""
    key = re.sub(r"\s+", "", first_line).upper().removesuffix("[]")
    if key == "LEDES1998B":
        return "1998B"
    if key in ("LEDES98BIV2", "LEDES98BIVERSION2"):
        return "98BI"
    return None


def parse(source, *, currency: str = "USD", name: str | None = None) -> LedesFile:
    """Read a LEDES 1998B, 98BI V2 or XML 2.1 file (a path or its bytes).

    ``currency`` is the currency of a 1998B file's amounts (the format does not say; 98BI and
    XML files carry their own).
    """
    data, shown = read_bytes(source)
    shown = name or shown
    body, encoding = _decode_plan(data)
    if body.lstrip()[:1] == b"<":
        from billxl.ledes import xml21

        if encoding in _WIDE:  # the declaration still says UTF-16: the bytes are UTF-8 now
            body = re.sub(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])[^\"']*", rb"\1UTF-8", body,
                          count=1)
        file = xml21.read(body, name=shown, encoding=encoding)
    else:
        file = _read_pipe(body, encoding, shown, currency)
    if encoding in _WIDE:
        file.findings = combine([file.findings, _encoding_finding(encoding)])
    return file


# =================================================================================== pipe formats
@dataclass
class _Layout:
    """Where each line of the file starts and ends, and what it holds (from the bytes)."""

    data: bytes
    starts: np.ndarray
    ends: np.ndarray  # exclusive, line end characters excluded
    pipes: np.ndarray  # positions of every '|'
    first_pipe: np.ndarray  # index into pipes of each line's first '|'
    fields: np.ndarray  # fields on each line ('|' + 1)
    terminated: np.ndarray

    def text(self, i: int, encoding: str) -> str:
        return self.data[self.starts[i]:self.ends[i]].decode(_codec(encoding), errors="replace")


def _codec(encoding: str) -> str:
    return "utf-8" if encoding in _UTF8_BODY else encoding


def _layout(data: bytes) -> _Layout:
    arr = np.frombuffer(data, dtype=np.uint8)
    returns = np.flatnonzero(arr == 13)
    if len(returns):
        follows = arr[np.minimum(returns + 1, len(arr) - 1)]
        if ((follows != 10) | (returns == len(arr) - 1)).any():  # lone CRs end lines too
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            return _layout(data)
    newlines = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], newlines + 1])
    ends = np.concatenate([newlines, [len(arr)]])
    if len(returns):  # CRLF: the CR is not part of the line
        ends[:-1] -= 1
    if len(starts) > 1 and starts[-1] == len(arr):  # a final newline ends the last line
        starts, ends = starts[:-1], ends[:-1]
    pipes = np.flatnonzero(arr == 124)
    first_pipe = np.searchsorted(pipes, starts)
    fields = np.searchsorted(pipes, ends) - first_pipe + 1
    length = ends - starts
    if len(arr):
        terminated = ((length >= 2) & (arr[np.maximum(ends - 1, 0)] == 93)
                      & (arr[np.maximum(ends - 2, 0)] == 91))
    else:
        terminated = np.zeros(len(starts), dtype=bool)
    return _Layout(data, starts, ends, pipes, first_pipe, fields, terminated)


def _read_pipe(data: bytes, encoding: str, name: str, currency: str) -> LedesFile:
    if b"\x00" in data[:4096]:
        raise NotLedesError(f"{name} is not a LEDES file: it holds binary data (is it a "
                            "spreadsheet, a PDF or a zip?). Export the invoice as LEDES text.")
    layout = _layout(data)
    n_lines = len(layout.starts)
    nonblank = np.flatnonzero(layout.ends > layout.starts)
    if len(nonblank) == 0:
        raise NotLedesError(f"{name} is not a LEDES file: it is empty.")
    findings = []
    first = int(nonblank[0])
    first_text = layout.text(first, encoding).strip()
    shown = first_text if len(first_text) <= 60 else first_text[:57] + "..."
    fmt_name = detect_format(first_text)
    data_from = first + 1
    if fmt_name is not None:
        fmt = FORMATS[fmt_name]
        if first_text != fmt.header + "[]":
            findings.append(found("HEADER", [first + 1], "", f"The header line is "
                                  f"{first_text!r}; a {fmt.title} file starts with exactly "
                                  f"'{fmt.header}[]'.",
                                  f"Write the first line as '{fmt.header}[]'."))
    else:
        key = re.sub(r"\s+", "", first_text).upper().removesuffix("[]")
        if key in _KNOWN_OTHER:
            raise NotLedesError(f"{name} is a {_KNOWN_OTHER[key]} file; billxl reads LEDES "
                                "1998B, 98BI V2 and XML 2.1.")
        fmt_name, why = _likely_format(layout, nonblank, key)
        if fmt_name is None:
            raise NotLedesError(
                f"{name} is not a LEDES file: its first line is {shown!r}, where a LEDES file "
                "starts with 'LEDES1998B[]' or 'LEDES98BI V2[]'.")
        fmt = FORMATS[fmt_name]
        starts_with = ("the field names" if _is_field_names(first_text) else "a line item"
                       if layout.fields[first] == len(fmt.fields) else None)
        if starts_with:  # no header line at all: the first line is already the file's content
            data_from = first
            findings.append(found("HEADER", [first + 1], "", "The header line is missing: the "
                                  f"file starts with {starts_with}.",
                                  f"Add a first line '{fmt.header}[]'."))
        else:
            findings.append(found(
                "HEADER", [first + 1], "", f"The first line is {shown!r}, which is not a LEDES "
                f"header: a {fmt.title} file starts with exactly '{fmt.header}[]'. The rest of "
                f"the file was checked as {fmt.title} ({why}).",
                f"Write the first line as '{fmt.header}[]', or export the file again."))

    # the field names (tolerated when missing: some systems leave them out)
    names_at = data_from
    while names_at < n_lines and layout.ends[names_at] == layout.starts[names_at]:
        names_at += 1
    if names_at < n_lines:
        names_text = layout.text(names_at, encoding).strip()
        if _is_field_names(names_text):
            data_from = names_at + 1
            written = names_text.removesuffix("[]").split("|")
            if written != fmt.names:
                findings.append(_field_names_finding(written, fmt, names_at + 1))
        else:
            findings.append(found("FIELD_NAMES", [names_at + 1], "", "The line of field names "
                                  "is missing.", f"Add the {len(fmt.fields)} field names as "
                                  "line 2 (INVOICE_DATE|INVOICE_NUMBER|...[])."))

    rows = np.arange(data_from, n_lines)
    blank = layout.ends[rows] == layout.starts[rows]
    content = rows[~blank]
    trailing_blank = rows > (content[-1] if len(content) else -1)
    blank_inside = rows[blank & ~trailing_blank]
    if len(blank_inside):
        findings.append(found("BLANK_LINE", blank_inside + 1, "", "A blank line between line "
                              "items.", "Delete the blank line: some portals stop reading there."))
    n_fields = len(fmt.fields)
    right_count = layout.fields[content] == n_fields
    good = content[right_count]
    bad = content[~right_count]
    unterminated = good[~layout.terminated[good]]
    if len(unterminated):
        findings.append(found("TERMINATOR", unterminated + 1, "", "The line does not end with "
                              "'[]'.", "End every line with '[]'."))
    raw, encoding = _tokenize(layout, good, fmt, encoding)
    broken_invoices: set[str] = set()
    if len(bad):
        findings.append(_bad_lines(layout, bad, fmt, encoding, int(content[-1]),
                                   broken_invoices))
    if len(content) == 0:
        findings.append(found("NO_LINES", [max(n_lines, 1)], "", "The file has no line items "
                              "after its header: is it cut short?",
                              "Export the invoice again."))

    line_numbers = good + 1
    if encoding == "cp1252" and len(good):
        arr = np.frombuffer(layout.data, dtype=np.uint8)
        positions = np.flatnonzero(np.isin(arr, _CP1252_UNDEFINED))
        at_line = np.searchsorted(layout.starts, positions, side="right") - 1
        hit = np.unique(at_line)
        if len(hit):
            findings.append(found("ENCODING", hit + 1, "", "The line has bytes that are neither "
                                  "UTF-8 nor cp1252 (ANSI) text.",
                                  "Save the file as UTF-8 or ANSI from the billing system."))
    first_non_ascii = None  # its line, for portals that read ANSI
    if encoding != "ascii":
        wide = np.frombuffer(layout.data, dtype=np.uint8) >= 0x80
        at = int(wide.argmax())
        if wide[at]:
            first_non_ascii = int(np.searchsorted(layout.starts, at, side="right"))
    widths = _field_widths(layout, good, n_fields)
    labels = {f.column: f.name for f in fmt.fields}
    lines, exact, digits, value_findings, unreadable = typed_lines(
        raw, list(fmt.fields), line_numbers, labels, currency=currency, widths=widths,
        has_currency=fmt_name == "98BI", has_tax=fmt_name == "98BI")
    return LedesFile(format=fmt_name, encoding=encoding, name=name, lines=lines, raw=raw,
                     exact=exact, digits=digits, labels=labels,
                     findings=combine([*findings, value_findings]), unreadable=unreadable,
                     unchecked_invoices=frozenset(broken_invoices), last_line=n_lines,
                     extra={"first_non_ascii_line": first_non_ascii})


def _is_field_names(text: str) -> bool:
    """Whether a line is a line of field names, misspelt or not: most of its fields are names
    of LEDES fields (``INVOIC_DATE|INVOICE_NUMBER|...`` is; a line item never is)."""
    parts = text.removesuffix("[]").split("|")
    named = sum(p.strip().upper() in _FIELD_NAMES for p in parts)
    return len(parts) > 1 and 2 * named >= len(parts)


def _likely_format(layout: _Layout, nonblank: np.ndarray, key: str) -> tuple[str | None, str]:
    """The format of a file whose first line does not name one, and why: the number of fields
    most of its lines have (24: 1998B, 52: 98BI V2), else the format name the first line comes
    closest to (``LEDES1998BB`` is 1998B); None when neither says (not a LEDES file)."""
    counts = layout.fields[nonblank]
    having = {n: int((counts == len(f.fields)).sum()) for n, f in FORMATS.items()}
    most = max(having, key=having.get)
    if having[most] and 2 * having[most] >= len(counts) - 1:  # the first line aside, most lines
        lines = "its line has" if having[most] == 1 else "its lines have"
        fmt = FORMATS[most]
        return most, f"{lines} {len(fmt.fields)} fields, as {fmt.title} lines do"
    likeness = {n: difflib.SequenceMatcher(None, key, re.sub(r"\s+", "", f.header)).ratio()
                for n, f in FORMATS.items()}
    best = max(likeness, key=likeness.get)
    if likeness[best] >= 0.8:
        return best, f"the first line comes closest to '{FORMATS[best].header}[]'"
    return None, ""


def _field_names_finding(written: list[str], fmt: PipeFormat, line: int) -> pd.DataFrame:
    expected = fmt.names
    wrong = [(i, got, want) for i, (got, want) in enumerate(zip(written, expected, strict=False))
             if got.strip().upper() != want.upper()]
    if wrong and len(written) == len(expected):  # each misnamed field, where the rest fit
        return found("FIELD_NAMES", [line] * len(wrong), [want for _, _, want in wrong],
                     [f"Field {i + 1} is named {got!r}; {fmt.title} has {want!r} there."
                      for i, got, want in wrong],
                     f"Write the {len(expected)} field names of {fmt.title} in order.")
    for i, got, want in wrong[:1]:
        return found("FIELD_NAMES", [line], want, f"Field {i + 1} is named {got!r}; "
                     f"{fmt.title} has {want!r} there.",
                     f"Write the {len(expected)} field names of {fmt.title} in order.")
    if len(written) != len(expected):
        return found("FIELD_NAMES", [line], "", f"The line names {len(written)} fields; "
                     f"{fmt.title} has {len(expected)}.",
                     f"Write the {len(expected)} field names of {fmt.title} in order.")
    return found("FIELD_NAMES", [line], "", "The field names are not written in capitals.",
                 "Write the field names exactly as the format spells them.")


def _bad_lines(layout: _Layout, bad: np.ndarray, fmt: PipeFormat, encoding: str,
               last_content: int, broken: set[str]) -> pd.DataFrame:
    """Findings for lines with the wrong number of fields (the only per-line Python)."""
    n_fields = len(fmt.fields)
    lines, messages, rules, fields, invoices = [], [], [], [], []
    for i in bad.tolist():
        count = int(layout.fields[i])
        text = layout.text(i, encoding)
        parts = text.removesuffix("[]").split("|")
        invoice = parts[1].strip() if len(parts) > 1 else ""
        if invoice:
            broken.add(invoice)
        truncated = i == last_content and not layout.terminated[i] and count < n_fields
        if truncated:
            rules.append("TRUNCATED")
            messages.append(f"The file stops in the middle of this line: {count} of "
                            f"{n_fields} fields and no '[]' (the last field read is "
                            f"{fmt.names[count - 1]}).")
            fields.append(fmt.names[count - 1])
        else:
            rules.append("FIELD_COUNT")
            what = "missing" if count < n_fields else "too many"
            messages.append(f"The line has {count} fields; {fmt.title} has {n_fields} "
                            f"({abs(n_fields - count)} {what}"
                            + ("" if layout.terminated[i] else ", and no '[]' at the end") + ").")
            fields.append("")
        lines.append(i + 1)
        invoices.append(invoice)
    out = []
    for rule in ("TRUNCATED", "FIELD_COUNT"):
        pick = [k for k, r in enumerate(rules) if r == rule]
        if pick:
            suggestion = ("The file was cut off: export or download it again." if
                          rule == "TRUNCATED" else "A field is missing or a '|' was added "
                          "inside a description: compare the line with the field names.")
            out.append(found(rule, [lines[k] for k in pick], [fields[k] for k in pick],
                             [messages[k] for k in pick], suggestion,
                             [invoices[k] for k in pick]))
    return combine(out)


def _tokenize(layout: _Layout, good: np.ndarray, fmt: PipeFormat,
              encoding: str) -> tuple[pd.DataFrame, str]:
    """The well-formed lines as text columns (canonical names), through pandas' C tokenizer.

    Returns the columns and the encoding they were read in: a file that is not valid UTF-8 is
    read as cp1252 (the tokenizer decodes strictly, so that check costs nothing extra).
    """
    columns = [f.column for f in fmt.fields]
    if len(good) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}), encoding
    data = layout.data
    last_line = len(layout.starts) - 1
    if len(good) == good[-1] - good[0] + 1 and good[-1] == last_line:
        body = data[layout.starts[good[0]]:]
    else:
        body = b"\n".join(data[s:e] for s, e in zip(layout.starts[good].tolist(),
                                                    layout.ends[good].tolist(), strict=True))
    options = dict(sep="|", header=None, names=columns, dtype=object, keep_default_na=False,
                   na_filter=False, quoting=csv.QUOTE_NONE, engine="c",
                   skip_blank_lines=False, index_col=False)
    if encoding in _UTF8_BODY:
        try:
            frame = pd.read_csv(io.BytesIO(body), encoding="utf-8", encoding_errors="strict",
                                **options)
        except UnicodeDecodeError:
            encoding = "cp1252"
    if encoding == "cp1252":
        frame = pd.read_csv(io.BytesIO(body), encoding="cp1252", encoding_errors="replace",
                            **options)
    if len(frame) != len(good):  # never expected: the byte scan and the tokenizer disagree
        raise NotLedesError(f"Could not split the lines of the file into fields "
                            f"({len(frame)} rows for {len(good)} lines).")
    # the [] terminator sticks to the last field: strip it from each distinct value
    last = columns[-1]
    codes, uniques = pd.factorize(frame[last].to_numpy(dtype=object))
    stripped = np.array([u.removesuffix("[]") for u in uniques], dtype=object)
    frame[last] = pd.Series(stripped[codes] if len(uniques) else stripped, dtype=object,
                            copy=False)
    return frame, encoding


def _field_widths(layout: _Layout, good: np.ndarray, n_fields: int) -> np.ndarray:
    """Bytes in each field of each well-formed line (an upper bound on its characters)."""
    if len(good) == 0:
        return np.zeros((0, n_fields), dtype=np.int64)
    at = layout.first_pipe[good][:, None] + np.arange(n_fields - 1)[None, :]
    pipes = layout.pipes[at]
    starts = np.concatenate([layout.starts[good][:, None], pipes + 1], axis=1)
    ends = np.concatenate([pipes, (layout.ends[good] - 2 * layout.terminated[good])[:, None]],
                          axis=1)
    return ends - starts
