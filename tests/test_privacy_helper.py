"""The leak detector finds what it must (else the privacy tests could not fail)."""

import io
import struct

import pandas as pd

from tests.privacy import Register


def test_detector_finds_names_ids_and_coordinates() -> None:
    reg = Register(pd.DataFrame({"姓名": ["合成老人0001"], "编号": ["SYN-000001"],
                                 "经度": [104.043258], "纬度": [30.649276]}))
    assert reg.leaks(b"nothing here 104.04 30.64") == []
    assert reg.leaks("x 合成老人0001 y".encode()) == ["合成老人0001"]
    assert reg.leaks(b'{"id": "SYN-000001"}') == ["SYN-000001"]
    assert reg.leaks(b"[104.043258, 30.649276]") == ["104.043258,30.649276"]
    assert reg.leaks(b"[30.649276,104.043258]") == ["30.649276,104.043258"]
    assert reg.leaks(b"[104.043258, 30.649277]") == []
    assert reg.leaks(b"wkb" + struct.pack("<d", 104.043258)) == ["binary lon 104.043258"]
    buf = io.BytesIO()
    pd.DataFrame({"n": ["合成老人0001"]}).to_excel(buf, index=False)
    assert reg.leaks(buf.getvalue()) == ["合成老人0001"]
