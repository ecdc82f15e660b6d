#!/usr/bin/env bash
# Makes a Debian root filesystem tarball for `podman import`, with no image
# registry: debootstrap from the host's own Debian mirror.
#
#   make-base.sh OUTPUT.tar [PACKAGE,...]
#
# The tarball is written beside OUTPUT under a temporary name and renamed at
# the end, so an interrupted run never leaves a half-made base to be reused.
set -euo pipefail

output=$1
include=${2:-}
suite=bookworm

mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)}
mirror=${mirror:-http://deb.debian.org/debian}

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/cld-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT

echo "Making a Debian $suite base from $mirror${include:+ with $include}" >&2
debootstrap --variant=minbase ${include:+--include="$include"} \
  "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  tail -n 20 "$rootfs.log" >&2
  rm -f "$rootfs.log"
  exit 1
}
rm -f "$rootfs.log"

# Only what runs is kept: package lists, caches and documentation would be
# dead weight in every image built on top.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/*

mkdir -p "$(dirname "$output")"
tar --numeric-owner -C "$rootfs" -cf "$output.partial" .
mv "$output.partial" "$output"
echo "Wrote $output ($(du -h "$output" | cut -f1))" >&2
