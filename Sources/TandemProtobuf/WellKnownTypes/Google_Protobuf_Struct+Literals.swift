extension Google_Protobuf_Struct: ExpressibleByDictionaryLiteral {
  /// Creates a struct from its fields.
  public init(fields: [String: Google_Protobuf_Value]) {
    self.init()
    self.fields = fields
  }

  /// Creates a struct from a literal; a key listed twice keeps its last value.
  public init(dictionaryLiteral elements: (String, Google_Protobuf_Value)...) {
    self.init()
    for (key, value) in elements {
      fields[key] = value
    }
  }

  /// Accesses the value of field `key`, which is nil when the struct has no such field. Setting nil
  /// removes the field.
  public subscript(key: String) -> Google_Protobuf_Value? {
    get { fields[key] }
    set { fields[key] = newValue }
  }
}

extension Google_Protobuf_ListValue: ExpressibleByArrayLiteral {
  /// Creates a list from its values.
  public init(values: [Google_Protobuf_Value]) {
    self.init()
    self.values = values
  }

  public init(arrayLiteral elements: Google_Protobuf_Value...) {
    self.init(values: elements)
  }
}

/// `Value` literals: `nil` is a null value, numbers are `numberValue` (a `Double`), and arrays and
/// dictionaries are `listValue` and `structValue`.
extension Google_Protobuf_Value: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) {
    self.init()
    kind = .nullValue(.nullValue)
  }

  public init(booleanLiteral value: Bool) {
    self.init()
    kind = .boolValue(value)
  }

  /// Creates a number value; integers beyond +-2^53 lose precision, as any JSON number does.
  public init(integerLiteral value: Int64) {
    self.init()
    kind = .numberValue(Double(value))
  }

  public init(floatLiteral value: Double) {
    self.init()
    kind = .numberValue(value)
  }

  public init(stringLiteral value: String) {
    self.init()
    kind = .stringValue(value)
  }

  public init(arrayLiteral elements: Google_Protobuf_Value...) {
    self.init()
    kind = .listValue(Google_Protobuf_ListValue(values: elements))
  }

  public init(dictionaryLiteral elements: (String, Google_Protobuf_Value)...) {
    self.init()
    var fields: [String: Google_Protobuf_Value] = [:]
    for (key, value) in elements {
      fields[key] = value
    }
    kind = .structValue(Google_Protobuf_Struct(fields: fields))
  }

  public init(_ value: Double) {
    self.init(floatLiteral: value)
  }

  public init(_ value: String) {
    self.init(stringLiteral: value)
  }

  public init(_ value: Bool) {
    self.init(booleanLiteral: value)
  }

  public init(_ value: Google_Protobuf_Struct) {
    self.init()
    kind = .structValue(value)
  }

  public init(_ value: Google_Protobuf_ListValue) {
    self.init()
    kind = .listValue(value)
  }
}
