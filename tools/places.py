#!/usr/bin/env python3
"""Writes crates/customers/src/places.rs: the prefecture-level cities of
the region catalogue (migration 000017, written by tools/regions.py), as
company names use them: 深圳市 and 深圳. The duplicate check reads a
city in brackets after a name as the city before it
(clientele_customers::name::normalise_name).

    python3 tools/places.py

Only prefectures whose name ends in 市 are taken: autonomous prefectures,
leagues and areas (延边朝鲜族自治州, 兴安盟, 阿里地区) have no short form
names use alike.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = ROOT / "migrations/sqlite/2026-12-06-000017_regions/up.sql"
TARGET = ROOT / "crates/customers/src/places.rs"


def main():
    rows = re.findall(r"\('(\d{6})', '([^']*)', (?:NULL|'\d{6}')", SOURCE.read_text("utf-8"))
    cities = sorted(
        {name for code, name in rows if code[2:4] != "00" and code[4:] == "00" and name.endswith("市")}
    )
    lines = [
        "//! The prefecture-level cities of the region catalogue (2023), as",
        "//! company names write them: in full and short. Written by",
        "//! `tools/places.py` from migration 000017; do not edit by hand.",
        "",
        f"pub(crate) const CITIES: [(&str, &str); {len(cities)}] = [",
    ]
    lines += [f'    ("{name}", "{name[:-1]}"),' for name in cities]
    lines += ["];", ""]
    TARGET.write_text("\n".join(lines), "utf-8")
    print(f"{len(cities)} cities written to {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
