// swift-tools-version:6.0
import PackageDescription

// Swift side of the protobuf benchmark (see ../README.md). Sources/TandemProtobuf links to the
// runtime in this checkout; Sources/ProtobufBench/bench.tandem.swift is generated from
// ../bench.proto by protoc-gen-tandem (../run.sh regenerates it).
let package = Package(
  name: "TandemProtobufBench",
  targets: [
    .target(name: "TandemProtobuf"),
    .executableTarget(name: "ProtobufBench", dependencies: ["TandemProtobuf"]),
  ]
)
