/// A protobuf service as the service renderer sees it, with every name already resolved to Swift.
///
/// The message generator builds one `ServiceModel` per `service` in a `.proto` file and hands the list
/// to `ServiceRenderer.render(_:accessLevel:)`, whose output goes into the same `.tandem.swift` file
/// as the file's messages.
public struct ServiceModel: Sendable, Hashable {
  /// Fully qualified proto name without a leading dot, for example `echo.v1.Echo`.
  public var protoName: String
  /// Name of the Swift namespace enum for the service, for example `Echo_V1_Echo`.
  public var swiftNamespace: String
  /// Leading comments of the service in the `.proto` file, one entry per line, without `//` markers.
  public var comments: [String]
  /// The service's methods in declaration order.
  public var methods: [MethodModel]

  public init(protoName: String, swiftNamespace: String, comments: [String], methods: [MethodModel]) {
    self.protoName = protoName
    self.swiftNamespace = swiftNamespace
    self.comments = comments
    self.methods = methods
  }
}

/// One RPC method of a ``ServiceModel``.
public struct MethodModel: Sendable, Hashable {
  /// Method name as written in the `.proto` file, for example `Get`.
  public var protoName: String
  /// lowerCamelCase Swift name, backquoted when it is a Swift keyword, for example `get` or `` `init` ``.
  public var swiftName: String
  /// Swift type name of the request message, for example `Echo_V1_EchoRequest`.
  public var inputSwiftType: String
  /// Swift type name of the response message.
  public var outputSwiftType: String
  public var clientStreaming: Bool
  public var serverStreaming: Bool
  /// Leading comments of the method, one entry per line, without `//` markers.
  public var comments: [String]

  public init(
    protoName: String,
    swiftName: String,
    inputSwiftType: String,
    outputSwiftType: String,
    clientStreaming: Bool,
    serverStreaming: Bool,
    comments: [String]
  ) {
    self.protoName = protoName
    self.swiftName = swiftName
    self.inputSwiftType = inputSwiftType
    self.outputSwiftType = outputSwiftType
    self.clientStreaming = clientStreaming
    self.serverStreaming = serverStreaming
    self.comments = comments
  }
}
