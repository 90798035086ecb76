"""The encoding of a text table: UTF-8 (with or without BOM), UTF-16 with BOM, else GBK/GB18030,
decided line by line when a file mixes them (:func:`detect_encoding`; the rules are in
:mod:`spatial.inventory`'s notes)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from spatial.errors import InputFileError

REPLACEMENT = "\ufffd"


# --------------------------------------------------------------------------------------------
# Decoding text


def detect_encoding(raw: bytes) -> str:
    """The encoding of a text file as planners' tools write it.

    UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 (a superset of GBK, which Excel on
    Chinese Windows uses for CSV). The loader itself decodes a non-UTF-8 file line by line
    (see the module notes); this is the whole-file answer.

    >>> detect_encoding("名称".encode("utf-8"))
    'utf-8'
    >>> detect_encoding("名称".encode("gbk"))
    'gb18030'
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"cannot decode the file as UTF-8 or GBK/GB18030 (bad bytes at offset {exc.start}); "
            "save it from Excel as 'CSV UTF-8' and try again"
        ) from None


@dataclass
class _Text:
    """Decoded file text and what the decoding noticed."""

    text: str
    encoding: str
    minority: str | None = None  # the less common encoding of a mixed file
    minority_offsets: list[int] = field(default_factory=list)  # where its lines start


_COMMON_SYMBOLS = frozenset("°±×÷·²³µ№Ωμāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü")


def _common_char(char: str) -> bool:
    """A character Chinese inventories use: GB2312 hanzi, CJK and full-width punctuation."""
    code = ord(char)
    if 0x4E00 <= code <= 0x9FFF:
        try:
            char.encode("gb2312")
            return True
        except UnicodeEncodeError:
            return False
    return (
        0x3000 <= code <= 0x303F
        or 0xFF00 <= code <= 0xFFEF
        or 0x2010 <= code <= 0x203B
        or char in _COMMON_SYMBOLS
    )


def _plausible(text: str) -> bool:
    """Whether text decoded as UTF-8 reads like Chinese rather than GBK bytes misread.

    GBK bytes that happen to be valid UTF-8 decode mostly to Greek, Cyrillic, Hebrew, Arabic
    or rare hanzi; real UTF-8 text in an inventory is mostly common hanzi and punctuation.
    Control and space characters count for neither.
    """
    others = [c for c in text if ord(c) > 127 and unicodedata.category(c)[0] not in "CZ"]
    return sum(map(_common_char, others)) >= 0.8 * len(others)


def _decode_lines(body: bytes) -> _Text:
    """Decode a file that is not valid UTF-8, line by line.

    A line that is valid UTF-8 and reads like Chinese is UTF-8; else a line valid in GB18030 is
    GB18030; else valid UTF-8 after all; else GB18030 (or UTF-8, whichever most lines are) with
    U+FFFD for the bad bytes, which rejects its row.
    """
    pieces: list[str] = []
    kinds: list[int] = []  # 0 ascii, 1 utf-8, 2 gb18030, 3 neither
    lines = body.splitlines(keepends=True)
    for line in lines:
        if line.isascii():
            pieces.append(line.decode("ascii"))
            kinds.append(0)
            continue
        try:
            as_utf8: str | None = line.decode("utf-8")
        except UnicodeDecodeError:
            as_utf8 = None
        if as_utf8 is not None and _plausible(as_utf8):
            pieces.append(as_utf8)
            kinds.append(1)
            continue
        try:
            pieces.append(line.decode("gb18030"))
            kinds.append(2)
            continue
        except UnicodeDecodeError:
            pass
        if as_utf8 is not None:
            pieces.append(as_utf8)
            kinds.append(1)
        else:
            pieces.append(line.decode("gb18030", errors="replace"))
            kinds.append(3)
    n_utf8, n_gb = kinds.count(1), kinds.count(2)
    main, other, other_kind = ("gb18030", "utf-8", 1) if n_gb >= n_utf8 else ("utf-8", "gb18030", 2)
    if 3 in kinds and main == "utf-8":
        pieces = [
            line.decode("utf-8", errors="replace") if kind == 3 else piece
            for line, piece, kind in zip(lines, pieces, kinds, strict=True)
        ]
    if not (n_utf8 and n_gb):
        return _Text("".join(pieces), main)
    offsets, position = [], 0
    for piece, kind in zip(pieces, kinds, strict=True):
        if kind == other_kind:
            offsets.append(position)
        position += len(piece)
    return _Text("".join(pieces), f"{main}+{other}", other, offsets)


def _decode(raw: bytes, path: Path) -> _Text:
    """The file's text, as it is: a NUL or other control character stays in its cell, and
    :func:`_check_text` rejects that row (a number with a NUL inside is never read as the
    digits around it)."""
    return _decode_raw(raw, path)


def _decode_raw(raw: bytes, path: Path) -> _Text:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _Text(raw.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{path}: the file starts like UTF-16 but has bad bytes at offset {exc.start}; "
                "save it from Excel as 'CSV UTF-8' and try again"
            ) from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    try:
        return _Text(body.decode("utf-8"), "utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        if exc.end == len(body) and exc.reason == "unexpected end of data":
            # UTF-8 cut off inside the last character (a truncated file): that row is rejected
            text = body.decode("utf-8", errors="replace")
            return _Text(text, "utf-8-sig" if bom else "utf-8")
    return _decode_lines(body)
