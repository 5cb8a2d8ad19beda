import EchoProtos
import Tandem

/// The Echo service: returns what it receives, and copies request metadata whose key starts
/// with `x-echo-` into both the initial and the trailing response metadata. The initial
/// metadata also names the HTTP version the call came in on (`x-served-over: HTTP/3`).
struct EchoService: Echo_V1_Echo.Service {
  /// The prefix of request metadata keys that the service echoes back.
  static let echoedMetadataPrefix = "x-echo-"
  /// The initial response metadata key that names the call's HTTP version.
  static let servedOverKey = "x-served-over"

  func get(_ request: Echo_V1_EchoRequest, context: ServerContext) async throws -> Echo_V1_EchoResponse {
    echoMetadata(context)
    return .with {
      $0.text = request.text
      $0.payload = request.payload
    }
  }

  func expand(
    _ request: Echo_V1_EchoRequest,
    responses: ResponseWriter<Echo_V1_EchoResponse>,
    context: ServerContext
  ) async throws {
    echoMetadata(context)
    for word in request.text.split(separator: " ") {
      try await responses.write(.with { $0.text = String(word) })
    }
  }

  func collect(
    _ requests: RequestStream<Echo_V1_EchoRequest>,
    context: ServerContext
  ) async throws -> Echo_V1_EchoResponse {
    echoMetadata(context)
    var texts: [String] = []
    for try await request in requests {
      texts.append(request.text)
    }
    return .with { $0.text = texts.joined(separator: " ") }
  }

  func update(
    _ requests: RequestStream<Echo_V1_EchoRequest>,
    responses: ResponseWriter<Echo_V1_EchoResponse>,
    context: ServerContext
  ) async throws {
    echoMetadata(context)
    for try await request in requests {
      try await responses.write(
        .with {
          $0.text = request.text
          $0.payload = request.payload
        }
      )
    }
  }

  private func echoMetadata(_ context: ServerContext) {
    var echoed = Metadata()
    for (key, value) in context.requestMetadata where key.hasPrefix(Self.echoedMetadataPrefix) {
      switch value {
      case .string(let text): echoed.addString(text, forKey: key)
      case .binary(let bytes): echoed.addBinary(bytes, forKey: key)
      }
    }
    context.trailingResponseMetadata = echoed
    echoed.addString("\(context.transport)", forKey: Self.servedOverKey)
    context.initialResponseMetadata = echoed
  }
}
