// protoc-gen-tandem: the protoc plugin that generates Tandem messages and service stubs.
//
// protoc runs it with a serialized CodeGeneratorRequest on stdin and reads a CodeGeneratorResponse
// from stdout. Generation errors go into the response, which protoc prints; an unreadable request
// exits with status 1 and a message on stderr.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TandemCodeGen
import TandemProtobuf

func readStandardInput() -> [UInt8] {
  var input: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
    if count > 0 {
      input.append(contentsOf: chunk[0..<count])
    } else if count == 0 || errno != EINTR {
      return input
    }
  }
}

func writeStandardOutput(_ bytes: [UInt8]) -> Bool {
  var offset = 0
  while offset < bytes.count {
    let written = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
    if written > 0 {
      offset += written
    } else if written < 0 && errno != EINTR {
      return false
    }
  }
  return true
}

func fail(_ message: String) -> Never {
  let bytes = Array("protoc-gen-tandem: \(message)\n".utf8)
  _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
  exit(1)
}

let request: Google_Protobuf_Compiler_CodeGeneratorRequest
do {
  request = try Google_Protobuf_Compiler_CodeGeneratorRequest(serializedBytes: readStandardInput())
} catch {
  fail("cannot decode the CodeGeneratorRequest on stdin (\(error)); run this program from protoc")
}
let response = CodeGenerator.generate(request: request)
do {
  guard writeStandardOutput(try response.serializedBytes()) else {
    fail("cannot write the CodeGeneratorResponse to stdout: \(String(cString: strerror(errno)))")
  }
} catch {
  fail("cannot encode the CodeGeneratorResponse: \(error)")
}
