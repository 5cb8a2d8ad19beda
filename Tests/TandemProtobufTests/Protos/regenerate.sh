#!/bin/sh
# Regenerates Tests/TandemProtobufTests/Generated from the test protos with protoc-gen-tandem.
# Usage: regenerate.sh PATH_TO_PROTOC_GEN_TANDEM
set -eu
plugin=${1:?usage: regenerate.sh PATH_TO_PROTOC_GEN_TANDEM}
here=$(cd "$(dirname "$0")" && pwd)
protoc --plugin=protoc-gen-tandem="$plugin" -I"$here" --tandem_out="$here/../Generated" \
  tandem_test.proto tandem_test_proto2.proto tandem_test_required.proto tandem_test_naming.proto \
  json_test.proto json_test_proto2.proto protobufc_test.proto protobufc_test_proto2.proto
