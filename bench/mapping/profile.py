#!/usr/bin/env python3
"""Where mapping::apply's time goes, from `perf script -F tid,ip,sym` of `bench_mapping --profile`
recorded with --call-graph dwarf. Only samples under helsebro::mapping::apply count (setup is left
out). Each sample goes to the first bucket, in this order, that one of its frames matches, so the
buckets add up to 100% (validation's own FHIRPath invariants count as validation, FHIRPath inside
building a message as FHIRPath). Prints one line: bucket=percent ... samples=N.
"""
import re
import sys

BUCKETS = [
    ("validate", re.compile(r"helsebro::fhir::validate\b")),
    ("fhirpath", re.compile(r"helsebro::fhir::fhirpath::Expression::evaluate\b")),
    ("outgoing", re.compile(r"helsebro::mapping::message_bundle\b")),
    ("provenance", re.compile(r"helsebro::mapping::provenance\b")),
    ("ordering", re.compile(r"helsebro::fhir::order_by_definition\b")),
    ("ids", re.compile(r"helsebro::mapping::derived_id\b")),
    ("records", re.compile(r"Application::(keep|upsert|find_match|rewrite_references|bind_patient|state)\b"
                           r"|\b(keep|upsert|find_match|rewrite_references|bind_patient|state) \(inlined\)"
                           r"|helsebro::mapping::(assign|build|build_object|reference_to|same)\b")),
    ("changed_bundle", re.compile(r"\bafter_changes\b")),
]
APPLY = re.compile(r"helsebro::mapping::apply\b")


def main(path):
    counts = {name: 0 for name, _ in BUCKETS}
    counts["other"] = 0
    total = 0
    frames = []

    def flush():
        nonlocal total
        if not frames or not any(APPLY.search(f) for f in frames):
            return
        total += 1
        for name, pattern in BUCKETS:
            if any(pattern.search(f) for f in frames):
                counts[name] += 1
                return
        counts["other"] += 1

    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("\t") or line.startswith(" "):
                frames.append(line.strip())
            elif line.strip():
                flush()
                frames = []
        flush()
    if total == 0:
        print("samples=0")
        return
    print(" ".join(f"{k}={100 * v / total:.1f}" for k, v in counts.items()) + f" samples={total}")


if __name__ == "__main__":
    main(sys.argv[1])
