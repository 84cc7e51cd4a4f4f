"""Chinese place and facility names for the synthetic demo district (deterministic, fictional)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

_COMMUNITY_HEAD = "锦桂玉红望青府芳紫翠金光新双东和安福长建祥永同文育银丽滨清星春莲梧枫柳晨盛华兴瑞泰嘉怡松鹤蓝白雅康宁顺畅泉沙城"
_COMMUNITY_TAIL = "华溪林星江龙河草荆竹沙明鸿桥光平康兴城和安心化才杏景源辰晖花桐苑园湖山泉阳丰坊街门堂里台湾岸府庭"
_VILLAGE_HEAD = "桂石高白黄青杨柏杉梨桃李柳松竹槐枣马牛鹤凤龙金银铁新老大小上中东西南北双三五七九何王陈刘张罗唐曾谢蒋冯"
_VILLAGE_TAIL = "花板桥林坝湾沟堰塘河坪场庙山岗寺岩田院坡溪垭口湖泉井台园店铺营滩坎嘴"
_STREET_HEAD = "春锦玉府青草双合建抚沙万肖新桂中金华光永望龙和天红蜀芙蓉"
_STREET_TAIL = "熙官林南羊堂楠江湾桥河泉门安兴坝阳源洲城口宁平"
_TOWN_HEAD = "龙白黄石三五太永金安福清洛花柏兴万宝大平"
_TOWN_TAIL = "泉马水桥河镇坝场溪江山堰寺田坪湾兴"
_COMPOUND_TAIL = ("苑", "小区", "花园", "家园", "公寓", "雅居", "新村", "名都", "华庭", "院")
_BRAND = "康宁福寿颐和安乐祥瑞泰嘉怡松鹤椿萱悦馨恒"
_HOME_TAIL = ("颐养院", "养老院", "护理院", "康养中心")
_NUMERALS = "一二三四五六七八九十"


def _combine(head: str, tail: str) -> NDArray[np.str_]:
    """All two-character combinations of a head and a tail character, head != tail."""
    pairs = [h + t for h in head for t in tail if h != t]
    return np.array(sorted(set(pairs)))


def _draw_unique(rng: np.random.Generator, pool: NDArray[np.str_], n: int) -> list[str]:
    """Draw ``n`` names, unique while the pool lasts, then with a numeral (``锦华二``)."""
    rounds = -(-n // len(pool)) if n else 0
    names: list[str] = []
    for k in range(rounds):
        marker = "" if k == 0 else _NUMERALS[min(k, len(_NUMERALS) - 1)]
        names.extend(str(s) + marker for s in rng.permutation(pool))
    return names[:n]


def build_unit_names(
    rng: np.random.Generator, n_urban: int, n_rural: int
) -> tuple[list[str], list[str]]:
    """Names of communities (``锦华社区``) and villages (``桂花村``)."""
    urban = [
        s + "社区" for s in _draw_unique(rng, _combine(_COMMUNITY_HEAD, _COMMUNITY_TAIL), n_urban)
    ]
    rural = [s + "村" for s in _draw_unique(rng, _combine(_VILLAGE_HEAD, _VILLAGE_TAIL), n_rural)]
    return urban, rural


def build_parent_names(
    rng: np.random.Generator, n_streets: int, n_towns: int
) -> tuple[list[str], list[str]]:
    """Names of streets (``春熙街道``) and towns (``龙泉镇``)."""
    streets = [
        s + "街道" for s in _draw_unique(rng, _combine(_STREET_HEAD, _STREET_TAIL), n_streets)
    ]
    towns = [s + "镇" for s in _draw_unique(rng, _combine(_TOWN_HEAD, _TOWN_TAIL), n_towns)]
    return streets, towns


def build_compound_names(rng: np.random.Generator, n: int) -> NDArray[np.str_]:
    """Names of gated compounds (``翠竹花园``); repeats are allowed, as in real cities."""
    pool = _combine(_COMMUNITY_HEAD, _COMMUNITY_TAIL)
    heads = pool[rng.integers(0, len(pool), n)]
    tails = np.array(_COMPOUND_TAIL)[rng.integers(0, len(_COMPOUND_TAIL), n)]
    return np.char.add(heads, tails)


def build_home_names(rng: np.random.Generator, n: int) -> NDArray[np.str_]:
    """Names of nursing homes (``康宁颐养院``)."""
    pool = _combine(_BRAND, _BRAND)
    heads = pool[rng.integers(0, len(pool), n)]
    tails = np.array(_HOME_TAIL)[rng.integers(0, len(_HOME_TAIL), n)]
    return np.char.add(heads, tails)


def number_duplicates(names: pd.Series) -> pd.Series:
    """Suffix repeated names with ``（二）``, ``（三）`` ... so every name is distinct."""
    rank = names.groupby(names).cumcount()
    marks = np.array(["", *[f"（{c}）" for c in _NUMERALS[1:]]])
    suffix = np.where(
        rank < len(marks),
        marks[np.minimum(rank, len(marks) - 1)],
        "（" + (rank + 1).astype(str) + "）",
    )
    return names + pd.Series(suffix, index=names.index)
