#!/usr/bin/env python3
"""Writes migration 000017's region catalogue from the public code tables.

The source is the `china-division` package (npm, 2.7.0; WTFPL), which
carries the National Bureau of Statistics' 2023 division codes (统计用区划代码,
as of 2023-06-30): the six-digit GB/T 2260 codes down to the county level.
Fetch it with `npm pack china-division@2.7.0`, unpack, and run

    python3 tools/regions.py package/dist

Placeholder prefectures (市辖区, 县, 省直辖县级行政区划 …) are left out, as
GB/T 2260 leaves them out: their counties hang from the province. A county
whose code is its prefecture's (东莞市 441900) is the prefecture. Taiwan,
Hong Kong and Macao have province-level codes only.
"""

import csv
import pathlib
import sys

PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
OUTSIDE = [("71", "台湾省"), ("81", "香港特别行政区"), ("82", "澳门特别行政区")]
VERSION = "2026-12-06-000017_regions"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def rows(dist: pathlib.Path):
    read = lambda name: list(csv.DictReader(open(dist / name, encoding="utf-8")))
    out = [(p["code"] + "0000", p["name"], None) for p in read("provinces.csv")]
    out += [(code + "0000", name, None) for code, name in OUTSIDE]
    cities = {}
    for c in read("cities.csv"):
        code = c["code"] + "00"
        parent = c["provinceCode"] + "0000"
        cities[c["code"]] = None if c["name"] in PLACEHOLDERS else code
        if c["name"] not in PLACEHOLDERS:
            out.append((code, c["name"], parent))
    for a in read("areas.csv"):
        city = cities[a["cityCode"]]
        if a["code"] == city:
            continue
        out.append((a["code"], a["name"], city or a["provinceCode"] + "0000"))
    return out


def sql(rows):
    q = lambda v: "NULL" if v is None else "'" + v.replace("'", "''") + "'"
    head = (
        "-- Administrative divisions (GB/T 2260), province to county level, seeded from\n"
        "-- the 2023 statistical division codes; written by tools/regions.py.\n"
        "CREATE TABLE regions (\n"
        "    code TEXT PRIMARY KEY NOT NULL CHECK (length(code) = 6),\n"
        "    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 50),\n"
        "    parent_code TEXT REFERENCES regions (code),\n"
        "    active BOOLEAN NOT NULL DEFAULT TRUE,\n"
        "    version BIGINT NOT NULL DEFAULT 1,\n"
        "    updated_at TIMESTAMP NOT NULL\n"
        ");\n"
        "CREATE INDEX ix_regions_parent ON regions (parent_code, code);\n"
    )
    parts = [head]
    for i in range(0, len(rows), 400):
        chunk = rows[i : i + 400]
        values = ",\n".join(
            f"    ({q(c)}, {q(n)}, {q(p)}, '2026-12-06 00:00:00')" for c, n, p in chunk
        )
        parts.append(
            "INSERT INTO regions (code, name, parent_code, updated_at) VALUES\n" + values + ";\n"
        )
    return "".join(parts)


def main():
    data = rows(pathlib.Path(sys.argv[1]))
    codes = [c for c, _, _ in data]
    assert len(codes) == len(set(codes)), "duplicate codes"
    known = set()
    for code, _, parent in data:
        assert parent is None or parent in known, f"{code} before its parent {parent}"
        known.add(code)
    text = sql(data)
    for backend in ("sqlite", "postgres"):
        d = ROOT / "migrations" / backend / VERSION
        d.mkdir(parents=True, exist_ok=True)
        (d / "up.sql").write_text(text, encoding="utf-8")
        (d / "down.sql").write_text("DROP TABLE regions;\n", encoding="utf-8")
    print(f"{len(data)} regions")


if __name__ == "__main__":
    main()
