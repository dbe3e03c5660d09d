#!/usr/bin/env bash
# Fetches the official FHIR R4 definitions and examples (npm package hl7.fhir.r4.examples@4.0.1)
# into .cache/fhir/ of the repo (ignored by git, never committed) and extracts it there.
# Idempotent: does nothing when the package is already extracted. The only network use is `npm pack`.
# Prints the directory that holds Bundle-resources.json, Bundle-types.json and the examples.
set -euo pipefail

package="hl7.fhir.r4.examples"
version="4.0.1"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${HELSEBRO_FHIR_CACHE:-$repo/.cache/fhir}"
dest="$cache/package"

if [[ -f "$dest/Bundle-resources.json" && -f "$dest/Bundle-types.json" && -f "$dest/Bundle-valuesets.json" ]]; then
  echo "$dest"
  exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to fetch $package@$version" >&2; exit 1; }
mkdir -p "$cache"
work="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "Fetching $package@$version with npm pack ..." >&2
tarball="$(cd "$work" && npm pack --silent "$package@$version" | tail -n 1)"
[[ -f "$work/$tarball" ]] || { echo "npm pack did not produce a tarball for $package@$version" >&2; exit 1; }
tar -xzf "$work/$tarball" -C "$work"
[[ -f "$work/package/Bundle-resources.json" ]] || { echo "$tarball has no package/Bundle-resources.json" >&2; exit 1; }

# Swap in atomically so an interrupted run never leaves a half-extracted package behind.
rm -rf "$dest"
mv "$work/package" "$dest"
mv "$work/$tarball" "$cache/$tarball"
echo "$dest"
