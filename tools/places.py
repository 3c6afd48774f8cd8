#!/usr/bin/env python3
"""Writes crates/customers/src/places.rs: the prefecture-level and
county-level cities of the region catalogue (migration 000017, written by
tools/regions.py), its other prefecture-level divisions, and its counties
and autonomous counties, as company names use them: 深圳市 and 深圳,
昆山市 and 昆山, 延边朝鲜族自治州 and 延边, 锡林郭勒盟 and 锡林郭勒,
喀什地区 and 喀什, 安吉县 and 安吉, 长阳土家族自治县 and 长阳. The
duplicate check reads such a place in brackets after a name, or in it,
as the place before it, and a place before it in full as in short
(clientele_customers::name::normalise_name).

    python3 tools/places.py

An autonomous prefecture is named without its peoples (恩施土家族苗族自治州
is 恩施), a league without 盟, an area without 地区; one whose short form
is a province's (海南藏族自治州 would be 海南) keeps its full name as its
short one, as does a city whose short form is one character (芒市). An
autonomous county is named without its peoples too, a county without 县,
in full where one character or nothing would be left (和县, 东乡族自治县)
or a province's name made (河南蒙古族自治县). Districts (顺义区) and
banners (巴林左旗) are left out: a district's name repeats from city to
city (朝阳区, 城关区), and names write a banner in full.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = ROOT / "migrations/sqlite/2026-12-06-000017_regions/up.sql"
TARGET = ROOT / "crates/customers/src/places.rs"


# The peoples an autonomous prefecture's name carries, as it writes them.
PEOPLES = (
    "朝鲜|土家|苗|侗|布依|藏|羌|彝|白|哈尼|壮|傣|景颇|傈僳|回|蒙古|哈萨克|柯尔克孜"
    "|满|畲|瑶|仫佬|毛南|黎|仡佬|水|纳西|拉祜|佤|布朗|独龙|怒|普米|裕固|保安|东乡"
    "|撒拉|土|塔吉克|锡伯|各"
)
PREFECTURE = re.compile(rf"^(.+?)(?:(?:{PEOPLES})族?)+自治州$")
# An autonomous county's peoples end in 族 but for four the catalogue
# writes without (巴里坤哈萨克自治县); 族 is required of the rest, or 彭水
# would be 彭 and the 水 people.
AUTONOMOUS_COUNTY = re.compile(rf"^(.*?)(?:(?:{PEOPLES})族|哈萨克|锡伯|蒙古|塔吉克)+自治县$")


def short(place, provinces):
    """As names write a place: a city without 市, a prefecture without its
    peoples, a league or an area without 盟 or 地区; in full where one
    character would be left or a province's name would be made."""
    prefecture = PREFECTURE.match(place) or AUTONOMOUS_COUNTY.match(place)
    if prefecture:
        name = prefecture.group(1)
    elif place.endswith("自治县"):
        raise ValueError(f"an autonomous county of peoples not listed: {place}")
    elif place.endswith("县"):
        name = place[:-1]
    elif place.endswith("地区"):
        name = place[:-2]
    elif place.endswith(("市", "盟")):
        name = place[:-1]
    else:
        name = place
    return place if len(name) < 2 or name in provinces else name


def province_short(full):
    """A province-level division as names write it (as name.rs reads it)."""
    for end in ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市"):
        if full.endswith(end):
            return full[: -len(end)]
    return full


def main():
    rows = re.findall(r"\('(\d{6})', '([^']*)', (?:NULL|'\d{6}')", SOURCE.read_text("utf-8"))
    provinces = {province_short(name) for code, name in rows if code[2:] == "0000"}
    prefectures = {
        name
        for code, name in rows
        if code[2:4] != "00" and code[4:] == "00" and name.endswith(("自治州", "盟", "地区"))
    }
    cities = {name for code, name in rows if code[2:4] != "00" and name.endswith("市")}
    counties = {name for code, name in rows if code[4:] != "00" and name.endswith("县")}
    places = sorted(cities | prefectures | counties)
    lines = [
        "//! The prefecture-level and county-level cities of the region",
        "//! catalogue (2023), its autonomous prefectures, leagues and areas,",
        "//! and its counties and autonomous counties, as company names write",
        "//! them: in full and short. Written by `tools/places.py` from",
        "//! migration 000017; do not edit by hand.",
        "",
        f"pub(crate) static PLACES: [(&str, &str); {len(places)}] = [",
    ]
    lines += [f'    ("{name}", "{short(name, provinces)}"),' for name in places]
    lines += ["];", ""]
    TARGET.write_text("\n".join(lines), "utf-8")
    print(f"{len(places)} places written to {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
