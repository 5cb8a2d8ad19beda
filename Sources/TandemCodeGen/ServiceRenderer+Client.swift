extension ServiceRenderContext {
  private var metadataParameter: String { "metadata: TandemCore.Metadata = [:]" }
  private var optionsParameter: String { "options: TandemCore.CallOptions = .defaults" }

  /// Writes the `Client` struct: one function per RPC, plus a `Sequence` overload for RPCs that
  /// stream requests.
  func renderClient(into writer: inout ServiceSourceWriter) {
    writer.line("/// Calls `\(service.protoName)` through a channel. Creating one is cheap because the channel owns the connections.")
    writer.block("\(access)struct Client: Swift.Sendable {") { writer in
      writer.line("/// The channel that carries every call of this client.")
      writer.line("\(access)let channel: any TandemCore.RPCChannel")
      writer.line()
      writer.line("/// Creates a client that sends its calls through `channel`.")
      writer.block("\(access)init(channel: any TandemCore.RPCChannel) {") { writer in
        writer.line("self.channel = channel")
      }
      for method in methods {
        writer.line()
        switch (method.model.clientStreaming, method.model.serverStreaming) {
        case (false, false):
          renderUnary(method, into: &writer)
        case (false, true):
          renderServerStreaming(method, into: &writer)
        case (true, false):
          renderClientStreaming(method, into: &writer)
          writer.line()
          renderClientStreamingSequence(method, into: &writer)
        case (true, true):
          renderBidirectional(method, into: &writer)
          writer.line()
          renderBidirectionalSequence(method, into: &writer)
        }
      }
    }
  }

  private func onResponseParameter(_ method: ServiceMethodContext) -> String {
    "onResponse: @escaping @Sendable (TandemCore.ClientResponse<\(method.output)>) async throws -> \(resultType)"
      + " = { try $0.message }"
  }

  private func requestProducerParameter(_ method: ServiceMethodContext) -> String {
    "requestProducer: @escaping @Sendable (TandemCore.RequestWriter<\(method.input)>) async throws -> Swift.Void"
  }

  private func sequenceParameter(_ method: ServiceMethodContext) -> String {
    "_ requests: some Swift.Sequence<\(method.input)> & Swift.Sendable"
  }

  private func renderProtoComments(_ method: ServiceMethodContext, into writer: inout ServiceSourceWriter) {
    let comments = ServiceSourceWriter.trimmedCommentLines(method.model.comments)
    if !comments.isEmpty {
      writer.documentation(comments)
      writer.line("///")
    }
  }

  /// Writes a function signature whose parameters go one per line, followed by its body.
  private func renderFunction(
    _ head: String,
    parameters: [String],
    tail: String,
    body: String,
    into writer: inout ServiceSourceWriter
  ) {
    writer.line("\(head)(")
    writer.indented { writer in
      for (index, parameter) in parameters.enumerated() {
        writer.line(index == parameters.count - 1 ? parameter : parameter + ",")
      }
    }
    writer.block("\(tail) {") { writer in
      writer.line(body)
    }
  }

  private func renderUnary(_ method: ServiceMethodContext, into writer: inout ServiceSourceWriter) {
    renderProtoComments(method, into: &writer)
    writer.line("/// Calls `\(service.protoName)/\(method.model.protoName)` (unary) and returns what `onResponse` returns.")
    writer.line("/// By default that is the response message, and a failed call throws its `RPCError`.")
    renderFunction(
      "\(access)func \(method.name.escaped)<\(resultType): Swift.Sendable>",
      parameters: ["_ request: \(method.input)", metadataParameter, optionsParameter, onResponseParameter(method)],
      tail: ") async throws -> \(resultType)",
      body: "try await self.channel.unary(\(descriptorReference(method)), request: request, metadata: metadata, "
        + "options: options, onResponse: onResponse)",
      into: &writer
    )
  }

  private func renderServerStreaming(_ method: ServiceMethodContext, into writer: inout ServiceSourceWriter) {
    renderProtoComments(method, into: &writer)
    writer.line("/// Calls `\(service.protoName)/\(method.model.protoName)` (server streaming) when the returned")
    writer.line("/// stream is first iterated. The stream yields each response and throws the call's `RPCError`.")
    renderFunction(
      "\(access)func \(method.name.escaped)",
      parameters: ["_ request: \(method.input)", metadataParameter, optionsParameter],
      tail: ") -> TandemCore.ResponseStream<\(method.output)>",
      body: "self.channel.serverStreaming(\(descriptorReference(method)), request: request, metadata: metadata, "
        + "options: options)",
      into: &writer
    )
  }

  private func renderClientStreaming(_ method: ServiceMethodContext, into writer: inout ServiceSourceWriter) {
    renderProtoComments(method, into: &writer)
    writer.line("/// Calls `\(service.protoName)/\(method.model.protoName)` (client streaming): `requestProducer` writes")
    writer.line("/// the requests, and the call returns what `onResponse` returns, by default the response message.")
    renderFunction(
      "\(access)func \(method.name.escaped)<\(resultType): Swift.Sendable>",
      parameters: [metadataParameter, optionsParameter, requestProducerParameter(method), onResponseParameter(method)],
      tail: ") async throws -> \(resultType)",
      body: "try await self.channel.clientStreaming(\(descriptorReference(method)), metadata: metadata, "
        + "options: options, requestProducer: requestProducer, onResponse: onResponse)",
      into: &writer
    )
  }

  private func renderClientStreamingSequence(_ method: ServiceMethodContext, into writer: inout ServiceSourceWriter) {
    writer.line("/// Calls `\(service.protoName)/\(method.model.protoName)` (client streaming) with the messages of")
    writer.line("/// `requests`, in order, and returns the response message.")
    writer.line("\(access)func \(method.name.escaped)(")
    writer.indented { writer in
      writer.line(sequenceParameter(method) + ",")
      writer.line(metadataParameter + ",")
      writer.line(optionsParameter)
    }
    writer.block(") async throws -> \(method.output) {") { writer in
      writer.block("try await self.\(method.name.escaped)(", closing: ")") { writer in
        writer.line("metadata: metadata,")
        writer.line("options: options,")
        writer.block("requestProducer: { writer in", closing: "},") { writer in
          writer.block("for request in requests {") { writer in
            writer.line("try await writer.write(request)")
          }
        }
        writer.line("onResponse: { (response: TandemCore.ClientResponse<\(method.output)>) in try response.message }")
      }
    }
  }

  private func renderBidirectional(_ method: ServiceMethodContext, into writer: inout ServiceSourceWriter) {
    renderProtoComments(method, into: &writer)
    writer.line("/// Calls `\(service.protoName)/\(method.model.protoName)` (bidirectional streaming) when the returned")
    writer.line("/// stream is first iterated: `requestProducer` writes the requests while the stream yields responses.")
    renderFunction(
      "\(access)func \(method.name.escaped)",
      parameters: [metadataParameter, optionsParameter, requestProducerParameter(method)],
      tail: ") -> TandemCore.ResponseStream<\(method.output)>",
      body: "self.channel.bidirectionalStreaming(\(descriptorReference(method)), metadata: metadata, "
        + "options: options, requestProducer: requestProducer)",
      into: &writer
    )
  }

  private func renderBidirectionalSequence(_ method: ServiceMethodContext, into writer: inout ServiceSourceWriter) {
    writer.line("/// Calls `\(service.protoName)/\(method.model.protoName)` (bidirectional streaming) with the messages")
    writer.line("/// of `requests`, in order, and the returned stream yields the responses.")
    writer.line("\(access)func \(method.name.escaped)(")
    writer.indented { writer in
      writer.line(sequenceParameter(method) + ",")
      writer.line(metadataParameter + ",")
      writer.line(optionsParameter)
    }
    writer.block(") -> TandemCore.ResponseStream<\(method.output)> {") { writer in
      writer.block("self.\(method.name.escaped)(metadata: metadata, options: options) { writer in") { writer in
        writer.block("for request in requests {") { writer in
          writer.line("try await writer.write(request)")
        }
      }
    }
  }
}
