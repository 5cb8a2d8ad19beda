#!/bin/sh
# Regenerates Sources/TandemProtobuf/WellKnownTypes/*.tandem.swift from the well-known type protos
# that Debian's libprotobuf-dev installs under /usr/include/google/protobuf.
# Usage: regenerate-well-known-types.sh PATH_TO_PROTOC_GEN_TANDEM [INCLUDE_DIRECTORY]
# The generated files are part of the TandemProtobuf module itself, so their
# `import TandemProtobuf` line is removed.
set -eu
plugin=${1:?usage: regenerate-well-known-types.sh PATH_TO_PROTOC_GEN_TANDEM [INCLUDE_DIRECTORY]}
include=${2:-/usr/include}
here=$(cd "$(dirname "$0")" && pwd)
output="$here/../Sources/TandemProtobuf/WellKnownTypes"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
names="any api duration empty field_mask source_context struct timestamp type wrappers"
protos=""
for name in $names; do
  protos="$protos google/protobuf/$name.proto"
done
# shellcheck disable=SC2086 # $protos is a list of paths without spaces.
protoc --plugin=protoc-gen-tandem="$plugin" -I"$include" --tandem_out="$work" \
  --tandem_opt=Visibility=Public,Services=false $protos
for name in $names; do
  grep -v '^import TandemProtobuf$' "$work/google/protobuf/$name.tandem.swift" >"$output/$name.tandem.swift"
done
