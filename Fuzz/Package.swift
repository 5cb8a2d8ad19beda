// swift-tools-version:6.0
import PackageDescription

// libFuzzer target for TandemProtobuf's binary and JSON decoders. Build and run it from this folder
// (see README.md):
//   swift build -Xswiftc -sanitize=fuzzer,address
//   .build/debug/ProtobufFuzzer -max_total_time=20
// Sources/TandemProtobuf links to the runtime and Sources/ProtobufFuzzer/Generated to the test
// messages, so the fuzzer always checks the code in this checkout.
let package = Package(
  name: "TandemFuzz",
  targets: [
    .target(name: "TandemProtobuf"),
    .target(name: "CFuzzerDriver"),
    // main.swift hands control to libFuzzer's LLVMFuzzerRunDriver, because SwiftPM names an
    // executable's entry point itself and so libFuzzer's own main() cannot be used.
    .executableTarget(name: "ProtobufFuzzer", dependencies: ["TandemProtobuf", "CFuzzerDriver"]),
  ]
)
