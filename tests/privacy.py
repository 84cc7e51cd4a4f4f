"""Search bytes for personal data of an older-adult register (names, ids, coordinates)."""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile

import pandas as pd

_LONLAT = re.compile(rb"(\d{2,3}\.\d{5,6})\d*[^\d.]{1,6}?(\d{2,3}\.\d{5,6})")


class Register:
    """What must never appear in a public byte: each name, id and lon/lat pair of a register.

    Names and ids are found through every occurrence of their shared pattern (``name_pattern``,
    ``id_pattern``) and then checked against the register; coordinates through every pair of
    decimal numbers (lon, lat or lat, lon) at the register's own precision (6 decimals), and as
    binary doubles. Pairs at 5 decimals are not checked: a 5-decimal pair is a 1 m lattice
    point, and pages that draw the street network (thousands of 5-decimal vertices) meet a
    synthetic person's rounded position there by chance.
    """

    def __init__(self, frame: pd.DataFrame, name_pattern: str = "合成老人\\d{4}",
                 id_pattern: str = "SYN-\\d{6}") -> None:
        self.values = {str(v).encode() for v in (*frame["姓名"], *frame["编号"])}
        self.pattern = re.compile(f"{name_pattern}|{id_pattern}".encode())
        located = frame.dropna(subset=["经度", "纬度"])
        self.coords: set[tuple[bytes, bytes]] = set()
        self.packed = [struct.pack("<d", float(x)) for x in located["经度"]]
        for x, y in zip(located["经度"], located["纬度"], strict=True):
            for digits in (6,):
                lon, lat = f"{x:.{digits}f}".encode(), f"{y:.{digits}f}".encode()
                self.coords.update({(lon, lat), (lat, lon)})

    def leaks(self, blob: bytes) -> list[str]:
        """Which personal values occur in ``blob`` (xlsx cells read out; binary doubles too)."""
        if blob[:2] == b"PK":  # xlsx/zip: search the cells, not the compressed bytes
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                blob = "".join(html.unescape(archive.read(n).decode("utf-8", "replace"))
                               for n in archive.namelist()).encode()
        found = {m.group().decode() for m in self.pattern.finditer(blob)
                 if m.group() in self.values}
        pairs = set()
        pos = 0
        while (m := _LONLAT.search(blob, pos)) is not None:
            pairs.add((m.group(1), m.group(2)))
            pos = m.start(2)
        found |= {f"{a.decode()},{b.decode()}" for a, b in pairs & self.coords}
        found |= {f"binary lon {struct.unpack('<d', p)[0]}" for p in self.packed if p in blob}
        return sorted(found)
