/// Renders the Swift source for protobuf services: descriptors, the server protocol and the client.
///
/// For each service the output contains one namespace enum named `ServiceModel.swiftNamespace`
/// (for `package echo.v1; service Echo` that is `Echo_V1_Echo`) holding:
///
/// - `serviceName`, the fully qualified proto name;
/// - `Method`, one `MethodDescriptor` per RPC;
/// - `Service`, a protocol with one `async throws` requirement per RPC that servers implement;
/// - `Client`, a `Sendable` struct over `any RPCChannel` with one function per RPC, plus an overload
///   that takes a `Sequence` of requests for client-streaming and bidirectional RPCs;
///
/// followed by an extension of `Service` whose `registerMethods(with:)` registers every RPC with a
/// `ServiceRouter`.
///
/// Framework types are written module-qualified (`TandemCore.Metadata`) so that a message named
/// like one of them does not shadow it. The output expects the file to `import TandemCore` and
/// `import TandemProtobuf`, and it emits no imports itself.
///
/// The namespace enum and the `Service` extension are marked `nonisolated` (which needs Swift 6.1),
/// so in a target whose default actor isolation is `MainActor` (SwiftPM
/// `.defaultIsolation(MainActor.self)`) the descriptors, clients and `registerMethods(with:)` stay
/// usable from any isolation domain. Nested types inherit it. The `Service` protocol needs no
/// marking because protocols do not take the default isolation.
public enum ServiceRenderer {
  /// Renders `services` in order, separated by blank lines. Returns an empty string for no services.
  ///
  /// - Parameter accessLevel: `"internal"` (no modifier is written), `"public"` or `"package"`,
  ///   matched without regard to case. The caller validates the value, and any other value is written
  ///   as the modifier unchanged, so a mistake fails when the output is compiled.
  public static func render(_ services: [ServiceModel], accessLevel: String) -> String {
    let access = accessModifier(accessLevel)
    var writer = ServiceSourceWriter()
    for (index, service) in services.enumerated() {
      if index > 0 {
        writer.line()
      }
      let context = ServiceRenderContext(service: service, access: access)
      context.renderNamespace(into: &writer)
      writer.line()
      context.renderRegistration(into: &writer)
    }
    return writer.text
  }

  static func accessModifier(_ accessLevel: String) -> String {
    let lowered = accessLevel.lowercased()
    if lowered.isEmpty || lowered == "internal" {
      return ""
    }
    return lowered + " "
  }
}

/// The resolved names, kinds and access modifier of one service, shared by every part of its output.
struct ServiceRenderContext {
  let service: ServiceModel
  /// The access modifier followed by a space, or an empty string for internal.
  let access: String
  let methods: [ServiceMethodContext]
  /// Name of the generic parameter for `onResponse` results, normally `Result`.
  let resultType: String

  init(service: ServiceModel, access: String) {
    self.service = service
    self.access = access
    let names = ServiceNaming.methodNames(for: service.methods)
    self.methods = zip(service.methods, names).map { ServiceMethodContext(model: $0, name: $1) }
    self.resultType = ServiceNaming.resultTypeName(for: service)
  }

  var namespace: String { service.swiftNamespace }

  func descriptorReference(_ method: ServiceMethodContext) -> String {
    "\(namespace).Method.\(method.name.escaped)"
  }

  func renderNamespace(into writer: inout ServiceSourceWriter) {
    writer.documentation(
      service.comments,
      fallback: ["The `\(service.protoName)` service: method descriptors, the server protocol and the client."]
    )
    writer.block("nonisolated \(access)enum \(namespace) {") { writer in
      writer.line("/// The fully qualified service name, `\(service.protoName)`.")
      writer.line("\(access)static let serviceName = \(Self.stringLiteral(service.protoName))")
      writer.line()
      renderDescriptors(into: &writer)
      writer.line()
      renderServiceProtocol(into: &writer)
      writer.line()
      renderClient(into: &writer)
    }
  }

  private func renderDescriptors(into writer: inout ServiceSourceWriter) {
    writer.line("/// Descriptors of the `\(service.protoName)` methods, one per RPC.")
    writer.block("\(access)enum Method {") { writer in
      for (index, method) in methods.enumerated() {
        if index > 0 {
          writer.line()
        }
        writer.line("/// `\(service.protoName)/\(method.model.protoName)`, \(method.kindDescription).")
        let arguments = "service: \(Self.stringLiteral(service.protoName)), "
          + "method: \(Self.stringLiteral(method.model.protoName)), kind: .\(method.kindCase)"
        writer.line(
          "\(access)static let \(method.name.escaped) = TandemCore.MethodDescriptor(\(arguments))"
        )
      }
    }
  }
}

/// One method with its resolved Swift name.
struct ServiceMethodContext {
  let model: MethodModel
  let name: ServiceMethodName

  var input: String { model.inputSwiftType }
  var output: String { model.outputSwiftType }

  /// The `RPCKind` case name.
  var kindCase: String {
    switch (model.clientStreaming, model.serverStreaming) {
    case (false, false): return "unary"
    case (false, true): return "serverStreaming"
    case (true, false): return "clientStreaming"
    case (true, true): return "bidirectionalStreaming"
    }
  }

  var kindDescription: String {
    switch (model.clientStreaming, model.serverStreaming) {
    case (false, false): return "unary"
    case (false, true): return "server streaming"
    case (true, false): return "client streaming"
    case (true, true): return "bidirectional streaming"
    }
  }
}

extension ServiceRenderContext {
  /// Writes `value` as a Swift string literal, escaping quotes, backslashes and control characters.
  static func stringLiteral(_ value: String) -> String {
    Naming.stringLiteral(value)
  }
}
