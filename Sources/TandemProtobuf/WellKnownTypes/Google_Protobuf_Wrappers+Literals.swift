// Initializers and literal conformances of the wrapper types, for example
// `let limit: Google_Protobuf_Int32Value = 10`. Each `init(_:)` wraps its value unchanged.

extension Google_Protobuf_DoubleValue: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
  public init(_ value: Double) {
    self.init()
    self.value = value
  }

  public init(floatLiteral value: Double) {
    self.init(value)
  }

  public init(integerLiteral value: Double) {
    self.init(value)
  }
}

extension Google_Protobuf_FloatValue: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
  public init(_ value: Float) {
    self.init()
    self.value = value
  }

  public init(floatLiteral value: Float) {
    self.init(value)
  }

  public init(integerLiteral value: Float) {
    self.init(value)
  }
}

extension Google_Protobuf_Int64Value: ExpressibleByIntegerLiteral {
  public init(_ value: Int64) {
    self.init()
    self.value = value
  }

  public init(integerLiteral value: Int64) {
    self.init(value)
  }
}

extension Google_Protobuf_UInt64Value: ExpressibleByIntegerLiteral {
  public init(_ value: UInt64) {
    self.init()
    self.value = value
  }

  public init(integerLiteral value: UInt64) {
    self.init(value)
  }
}

extension Google_Protobuf_Int32Value: ExpressibleByIntegerLiteral {
  public init(_ value: Int32) {
    self.init()
    self.value = value
  }

  public init(integerLiteral value: Int32) {
    self.init(value)
  }
}

extension Google_Protobuf_UInt32Value: ExpressibleByIntegerLiteral {
  public init(_ value: UInt32) {
    self.init()
    self.value = value
  }

  public init(integerLiteral value: UInt32) {
    self.init(value)
  }
}

extension Google_Protobuf_BoolValue: ExpressibleByBooleanLiteral {
  public init(_ value: Bool) {
    self.init()
    self.value = value
  }

  public init(booleanLiteral value: Bool) {
    self.init(value)
  }
}

extension Google_Protobuf_StringValue: ExpressibleByStringLiteral {
  public init(_ value: String) {
    self.init()
    self.value = value
  }

  public init(stringLiteral value: String) {
    self.init(value)
  }
}

extension Google_Protobuf_BytesValue: ExpressibleByArrayLiteral {
  public init(_ value: [UInt8]) {
    self.init()
    self.value = value
  }

  public init(arrayLiteral elements: UInt8...) {
    self.init(elements)
  }
}
