extension ServiceRenderContext {
  /// Writes the `Service` protocol: one requirement per RPC, in declaration order.
  func renderServiceProtocol(into writer: inout ServiceSourceWriter) {
    writer.line("/// Implemented by servers of `\(service.protoName)`: one function per RPC.")
    writer.line("///")
    writer.line("/// A thrown `RPCError` sets the call's status, and any other error ends the call with `unknown`.")
    writer.block("\(access)protocol Service: TandemCore.RPCService {") { writer in
      for (index, method) in methods.enumerated() {
        if index > 0 {
          writer.line()
        }
        writer.documentation(method.model.comments, fallback: ["Handles `\(service.protoName)/\(method.model.protoName)`."])
        writer.line("func \(method.name.escaped)(\(serverParameters(method))) async throws\(serverResult(method))")
      }
    }
  }

  /// Writes the extension whose `registerMethods(with:)` routes every RPC to its requirement.
  func renderRegistration(into writer: inout ServiceSourceWriter) {
    writer.block("nonisolated extension \(namespace).Service {") { writer in
      writer.line("/// Registers every `\(service.protoName)` method with `router`, each calling the matching requirement.")
      writer.block("\(access)func registerMethods(with router: inout TandemCore.ServiceRouter) {") { writer in
        for method in methods {
          renderRegistration(of: method, into: &writer)
        }
      }
    }
  }

  private func renderRegistration(of method: ServiceMethodContext, into writer: inout ServiceSourceWriter) {
    let descriptor = descriptorReference(method)
    let requests = "TandemCore.RequestStream<\(method.input)>"
    let responses = "TandemCore.ResponseWriter<\(method.output)>"
    let context = "context: TandemCore.ServerContext"
    let call = "self.\(method.name.escaped)"

    switch (method.model.clientStreaming, method.model.serverStreaming) {
    case (false, false):
      writer.block("router.registerUnary(\(descriptor)) { (request: \(method.input), \(context)) in") { writer in
        writer.line("try await \(call)(request, context: context)")
      }
    case (false, true):
      writer.block(
        "router.registerServerStreaming(\(descriptor)) { (request: \(method.input), responses: \(responses), \(context)) in"
      ) { writer in
        writer.line("try await \(call)(request, responses: responses, context: context)")
      }
    case (true, false):
      writer.block("router.registerClientStreaming(\(descriptor)) { (requests: \(requests), \(context)) in") { writer in
        writer.line("try await \(call)(requests, context: context)")
      }
    case (true, true):
      writer.block(
        "router.registerBidirectionalStreaming(\(descriptor)) { (requests: \(requests), responses: \(responses), \(context)) in"
      ) { writer in
        writer.line("try await \(call)(requests, responses: responses, context: context)")
      }
    }
  }

  private func serverParameters(_ method: ServiceMethodContext) -> String {
    let request = method.model.clientStreaming
      ? "_ requests: TandemCore.RequestStream<\(method.input)>"
      : "_ request: \(method.input)"
    let responses = method.model.serverStreaming ? ", responses: TandemCore.ResponseWriter<\(method.output)>" : ""
    return "\(request)\(responses), context: TandemCore.ServerContext"
  }

  private func serverResult(_ method: ServiceMethodContext) -> String {
    method.model.serverStreaming ? "" : " -> \(method.output)"
  }
}
