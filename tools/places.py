#!/usr/bin/env python3
"""Writes crates/customers/src/places.rs: the prefecture-level and
county-level cities of the region catalogue (migration 000017, written by
tools/regions.py), as company names use them: 深圳市 and 深圳, 昆山市 and
昆山. The duplicate check reads a city in brackets after a name as the
city before it (clientele_customers::name::normalise_name).

    python3 tools/places.py

Only cities (names ending in 市) are taken: autonomous prefectures,
leagues and areas (延边朝鲜族自治州, 兴安盟, 阿里地区) have no short form
names use alike (海南藏族自治州 would be 海南, the province), and counties
and districts (顺义区, 长兴县) are too small and too many to be a
company's place in brackets. A city whose short form is one character
(芒市) keeps its full name as its short one.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = ROOT / "migrations/sqlite/2026-12-06-000017_regions/up.sql"
TARGET = ROOT / "crates/customers/src/places.rs"


def short(city):
    """As names write a city: without 市, unless one character is left."""
    return city[:-1] if len(city) > 2 else city


def main():
    rows = re.findall(r"\('(\d{6})', '([^']*)', (?:NULL|'\d{6}')", SOURCE.read_text("utf-8"))
    cities = sorted({name for code, name in rows if code[2:4] != "00" and name.endswith("市")})
    lines = [
        "//! The prefecture-level and county-level cities of the region",
        "//! catalogue (2023), as company names write them: in full and short.",
        "//! Written by `tools/places.py` from migration 000017; do not edit by",
        "//! hand.",
        "",
        f"pub(crate) static CITIES: [(&str, &str); {len(cities)}] = [",
    ]
    lines += [f'    ("{name}", "{short(name)}"),' for name in cities]
    lines += ["];", ""]
    TARGET.write_text("\n".join(lines), "utf-8")
    print(f"{len(cities)} cities written to {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
