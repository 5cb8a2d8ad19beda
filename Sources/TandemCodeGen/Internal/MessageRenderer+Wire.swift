import TandemProtobuf

/// The `decodeMessage(from:)`, `encodedSize(into:)` and `encode(to:)` bodies of a message.
extension MessageRenderer {
  // MARK: Decoding

  func renderDecode(
    _ fields: [FieldModel], oneofs: [OneofModel], extensionRanges: [Range<Int>], into p: inout CodePrinter
  ) {
    p.block("\(access)mutating func decodeMessage(from decoder: inout WireDecoder) throws(ProtobufDecodingError)") { p in
      p.block("while let tag = try decoder.nextTag()") { p in
        if fields.isEmpty && extensionRanges.isEmpty {
          p.line("try decoder.skipField(tag, into: &self.unknownFields)")
          return
        }
        p.switchBlock("switch tag.fieldNumber") { p in
          for field in fields {
            renderDecodeCases(field, oneofs: oneofs, into: &p)
          }
          if !extensionRanges.isEmpty {
            p.line("case \(extensionRanges.map { "\($0.lowerBound)..<\($0.upperBound)" }.joined(separator: ", ")):")
            p.indent()
            p.line("try decoder.decodeExtensionField(")
            p.line("  tag, messageName: Self.protoMessageName, into: &self.extensionFields, unknownFields: &self.unknownFields)")
            p.outdent()
          }
          p.line("default:")
          p.indent()
          p.line("try decoder.skipField(tag, into: &self.unknownFields)")
          p.outdent()
        }
      }
    }
  }

  private func caseLine(_ field: FieldModel, _ wireType: FieldWireType) -> String {
    "case \(field.number) where tag.wireType == \(wireType.swiftCase):"
  }

  /// Statement that decodes one value of `field` into the Swift expression `target` with
  /// `assign` (`=` or append), for scalars and enums.
  private func decodeValueLines(_ field: FieldModel, decoder: String, assign: (String) -> String,
                                unknownFields: String) -> [String] {
    switch field.kind {
    case .scalar(let scalar):
      return [assign("try \(decoder).decode\(scalar.methodSuffix)()")]
    case .enumeration(let info):
      if info.isClosed {
        return [
          "let fieldStart = \(decoder).fieldStartOffset",
          "if let value = \(info.swiftName)(rawValue: try \(decoder).decodeEnum()) {",
          "  " + assign("value"),
          "} else {",
          "  \(decoder).keepField(from: fieldStart, in: &\(unknownFields))",
          "}",
        ]
      }
      return [assign("\(info.swiftName)(rawValue: try \(decoder).decodeEnum())")]
    case .message:
      return []
    }
  }

  func renderDecodeCases(_ field: FieldModel, oneofs: [OneofModel], into p: inout CodePrinter) {
    let target = "self.\(field.escaped)"
    let decodeMethod: String
    if case .message(_, let isGroup) = field.kind {
      decodeMethod = isGroup ? "decodeGroup" : "decodeMessage"
    } else {
      decodeMethod = ""
    }
    switch field.cardinality {
    case .implicit, .explicit:
      p.line(caseLine(field, field.wireType))
      p.indent()
      if case .message = field.kind {
        let storage = "self.\(field.storageName)"
        if field.isBoxed {
          p.line("var value = \(storage)?.value ?? \(field.swiftType)()")
          p.line("\(storage) = nil")
          p.line("try decoder.\(decodeMethod)(&value)")
          p.line("\(storage) = ProtobufBox(value)")
        } else {
          p.line("if \(storage) == nil { \(storage) = \(field.swiftType)() }")
          p.line("try decoder.\(decodeMethod)(&\(storage)!)")
        }
      } else {
        for line in decodeValueLines(field, decoder: "decoder", assign: { "\(target) = \($0)" }, unknownFields: "self.unknownFields") {
          p.line(line)
        }
      }
      p.outdent()

    case .repeated:
      p.line(caseLine(field, field.wireType))
      p.indent()
      if case .message = field.kind {
        p.line("var value = \(field.swiftType)()")
        p.line("try decoder.\(decodeMethod)(&value)")
        p.line("\(target).append(value)")
      } else {
        for line in decodeValueLines(field, decoder: "decoder", assign: { "\(target).append(\($0))" }, unknownFields: "self.unknownFields") {
          p.line(line)
        }
      }
      p.outdent()
      if field.isPackable {
        // Packed and unpacked encodings are both accepted, whatever the field's declared packing.
        p.line(caseLine(field, .lengthDelimited))
        p.indent()
        switch field.kind {
        case .scalar(let scalar):
          p.line("try decoder.decodePacked\(scalar.methodSuffix)(into: &\(target))")
        case .enumeration(let info):
          p.line("var numbers: [Int32] = []")
          p.line("try decoder.decodePackedEnum(into: &numbers)")
          if info.isClosed {
            p.block("for number in numbers") { p in
              p.block("if let value = \(info.swiftName)(rawValue: number)") { p in
                p.line("\(target).append(value)")
              }
              p.block("else") { p in
                p.line("decoder.keepVarint(fieldNumber: \(field.number), value: number, in: &self.unknownFields)")
              }
            }
          } else {
            p.line("\(target).append(contentsOf: numbers.map { \(info.swiftName)(rawValue: $0) })")
          }
        case .message:
          break
        }
        p.outdent()
      }

    case .map(let key, let value):
      p.line(caseLine(field, .lengthDelimited))
      p.indent()
      let valueIsClosedEnum = value.isClosedEnum
      if valueIsClosedEnum {
        p.line("let entryStart = decoder.fieldStartOffset")
        p.line("var isKnownValue = true")
      }
      p.line("var key: \(key.swiftType) = \(key.defaultValue)")
      p.line("var value: \(value.swiftType) = \(value.defaultValue)")
      p.line("try decoder.decodeMapEntry { (entry: inout WireDecoder) throws(ProtobufDecodingError) in")
      p.indent()
      do {
        p.block("while let entryTag = try entry.nextTag()") { p in
          p.switchBlock("switch entryTag.fieldNumber") { p in
            p.line("case 1 where entryTag.wireType == \(key.wireType.swiftCase):")
            p.indent()
            for line in decodeValueLines(key, decoder: "entry", assign: { "key = \($0)" }, unknownFields: "") {
              p.line(line)
            }
            p.outdent()
            p.line("case 2 where entryTag.wireType == \(value.wireType.swiftCase):")
            p.indent()
            switch value.kind {
            case .message:
              p.line("try entry.decodeMessage(&value)")
            case .enumeration(let info) where info.isClosed:
              p.block("if let known = \(info.swiftName)(rawValue: try entry.decodeEnum())") { p in
                p.line("value = known")
              }
              p.block("else") { p in
                p.line("isKnownValue = false")
              }
            default:
              for line in decodeValueLines(value, decoder: "entry", assign: { "value = \($0)" }, unknownFields: "") {
                p.line(line)
              }
            }
            p.outdent()
            p.line("default:")
            p.indent()
            p.line("try entry.skipField(entryTag)")
            p.outdent()
          }
        }
      }
      p.outdent()
      p.line("}")
      if valueIsClosedEnum {
        p.block("if isKnownValue") { p in
          p.line("\(target)[key] = value")
        }
        p.block("else") { p in
          p.line("decoder.keepField(from: entryStart, in: &self.unknownFields)")
        }
      } else {
        p.line("\(target)[key] = value")
      }
      p.outdent()

    case .oneofMember:
      let oneof = "self." + oneofName(of: field, in: oneofs)
      p.line(caseLine(field, field.wireType))
      p.indent()
      if case .message = field.kind {
        p.line("var value = \(field.swiftType)()")
        p.block("if case .\(field.escaped)(let existing)? = \(oneof)") { p in
          p.line("value = existing")
          p.line("\(oneof) = nil")
        }
        p.line("try decoder.\(decodeMethod)(&value)")
        p.line("\(oneof) = .\(field.escaped)(value)")
      } else {
        for line in decodeValueLines(field, decoder: "decoder", assign: { "\(oneof) = .\(field.escaped)(\($0))" }, unknownFields: "self.unknownFields") {
          p.line(line)
        }
      }
      p.outdent()
    }
  }

  // MARK: Size

  /// Renders `encodedSize(into:)` and `encodedSize(of:into:)`, which differ only in how they read
  /// the message: through `self`, or through a pointer for elements of repeated fields.
  func renderSize(
    _ fields: [FieldModel], oneofs: [OneofModel], extensionRanges: [Range<Int>], into p: inout CodePrinter
  ) {
    p.block("\(access)func encodedSize(into sizes: inout SizeCache) -> Int") { p in
      renderSizeBody(fields, oneofs: oneofs, extensionRanges: extensionRanges, receiver: "self", into: &p)
    }
    p.line()
    p.block("\(access)static func encodedSize(of message: UnsafePointer<Self>, into sizes: inout SizeCache) -> Int") { p in
      renderSizeBody(fields, oneofs: oneofs, extensionRanges: extensionRanges, receiver: Self.pointerReceiver, into: &p)
    }
  }

  private func renderSizeBody(
    _ fields: [FieldModel], oneofs: [OneofModel], extensionRanges: [Range<Int>], receiver: String,
    into p: inout CodePrinter
  ) {
    p.line("var size = 0")
    for item in Self.fieldsAndRanges(fields, extensionRanges) {
      switch item {
      case .field(let field):
        renderSizeField(field, oneofs: oneofs, receiver: receiver, into: &p)
      case .extensionRange(let range):
        p.line("size += \(receiver).extensionFields.encodedSize(\(range.lowerBound)..<\(range.upperBound), into: &sizes)")
      }
    }
    p.line("size += \(receiver).unknownFields.count")
    p.line("return size")
  }

  /// Returns the expression that reads an explicit-presence field's stored value after a nil check.
  private func unwrapped(_ field: FieldModel, receiver: String) -> String {
    field.isBoxed ? "\(receiver).\(field.storageName)!.value" : "\(receiver).\(field.storageName)!"
  }

  /// Returns the condition that binds `value` to a pointer to an explicit-presence sub-message when
  /// the encoder reads the message through the pointer `message`, or `nil` when the field is read by
  /// value. Reading it by value would copy the sub-message (see `Message.encodedSize(of:into:)`).
  /// Groups and boxed fields are read by value.
  private func subMessagePointerBinding(_ field: FieldModel, receiver: String) -> String? {
    guard receiver == Self.pointerReceiver, case .message(_, false) = field.kind, !field.isBoxed else { return nil }
    return "let value = WireFormat.wrappedValuePointer(message.pointer(to: \\.\(field.storageName))!)"
  }

  /// The receiver of the pointer-based `encodedSize(of:into:)` and `encode(_:to:)`.
  static let pointerReceiver = "message.pointee"


  func renderSizeField(_ field: FieldModel, oneofs: [OneofModel], receiver: String, into p: inout CodePrinter) {
    let target = "\(receiver).\(field.escaped)"
    let tagSize = field.tagSize
    switch field.cardinality {
    case .implicit:
      p.block("if \(field.nonDefaultCondition(target))") { p in
        p.line("size += \(tagSize) + \(field.sizeExpression(target))")
      }
    case .explicit:
      if let binding = subMessagePointerBinding(field, receiver: receiver) {
        p.block("if \(binding)") { p in
          p.line("size += \(tagSize) + sizes.lengthDelimitedSize(ofMessageAt: value)")
        }
      } else {
        p.block("if case .some = \(receiver).\(field.storageName)") { p in
          p.line("size += \(tagSize) + \(field.sizeExpression(unwrapped(field, receiver: receiver)))")
        }
      }
    case .oneofMember:
      let sizeExpression = field.sizeExpression("value")
      let usesValue = sizeExpression.contains("value")
      let pattern = usesValue ? ".\(field.escaped)(let value)?" : ".\(field.escaped)?"
      p.block("if case \(pattern) = \(receiver).\(oneofName(of: field, in: oneofs))") { p in
        p.line("size += \(tagSize) + \(sizeExpression)")
      }
    case .repeated(let packed):
      if packed {
        let lengthTagSize = WireFormat.varintSize(UInt64(field.tag(.lengthDelimited)))
        p.block("if !\(target).isEmpty") { p in
          if case .scalar(let scalar) = field.kind, let fixed = scalar.fixedSize {
            p.line("size += \(lengthTagSize) + WireFormat.lengthDelimitedSize(\(target).count * \(fixed))")
          } else {
            p.line("let slot = sizes.reserveSlot()")
            p.line("var payload = 0")
            p.block("for value in \(target)") { p in
              p.line("payload += \(field.sizeExpression("value"))")
            }
            p.line("sizes.record(payload, in: slot)")
            p.line("size += \(lengthTagSize) + WireFormat.lengthDelimitedSize(payload)")
          }
        }
      } else if case .scalar(let scalar) = field.kind, let fixed = scalar.fixedSize {
        p.line("size += \(target).count * \(tagSize + fixed)")
      } else if case .message(_, false) = field.kind {
        p.line("size += sizes.repeatedMessagesSize(of: \(target), tagSize: \(tagSize))")
      } else {
        p.block("for value in \(target)") { p in
          p.line("size += \(tagSize) + \(field.sizeExpression("value"))")
        }
      }
    case .map(let key, let value):
      let keySize = key.sizeExpression("key")
      let valueSize = value.sizeExpression("value")
      // Fixed-width keys and values need no binding, which would be an unused variable.
      let keyBinding = keySize.contains("key") ? "key" : "_"
      let valueBinding = valueSize.contains("value") ? "value" : "_"
      let loopHeader = keyBinding == "_" && valueBinding == "_"
        ? "for _ in \(target)" : "for (\(keyBinding), \(valueBinding)) in \(target)"
      p.block(loopHeader) { p in
        p.line("let slot = sizes.reserveSlot()")
        p.line("let entrySize = \(key.tagSize) + \(keySize) + \(value.tagSize) + \(valueSize)")
        p.line("sizes.record(entrySize, in: slot)")
        p.line("size += \(tagSize) + WireFormat.lengthDelimitedSize(entrySize)")
      }
    }
  }

  // MARK: Encoding

  /// A field or an extension range, in the field-number order of the encoding.
  enum EncodingItem {
    case field(FieldModel)
    case extensionRange(Range<Int>)
  }

  /// Fields and extension ranges sorted by number, so that extensions are written between the fields
  /// around their range, as the reference runtimes write them.
  static func fieldsAndRanges(_ fields: [FieldModel], _ ranges: [Range<Int>]) -> [EncodingItem] {
    var items: [(Int, EncodingItem)] = fields.map { ($0.number, .field($0)) }
    items += ranges.map { ($0.lowerBound, .extensionRange($0)) }
    return items.sorted { $0.0 < $1.0 }.map(\.1)
  }

  /// Renders `encode(to:)` and `encode(_:to:)`, which differ only in how they read the message:
  /// through `self`, or through a pointer for elements of repeated fields.
  func renderEncode(
    _ fields: [FieldModel], oneofs: [OneofModel], extensionRanges: [Range<Int>], into p: inout CodePrinter
  ) {
    p.block("\(access)func encode(to encoder: inout WireEncoder)") { p in
      renderEncodeBody(fields, oneofs: oneofs, extensionRanges: extensionRanges, receiver: "self", into: &p)
    }
    p.line()
    p.block("\(access)static func encode(_ message: UnsafePointer<Self>, to encoder: inout WireEncoder)") { p in
      renderEncodeBody(fields, oneofs: oneofs, extensionRanges: extensionRanges, receiver: Self.pointerReceiver, into: &p)
    }
  }

  private func renderEncodeBody(
    _ fields: [FieldModel], oneofs: [OneofModel], extensionRanges: [Range<Int>], receiver: String,
    into p: inout CodePrinter
  ) {
    for item in Self.fieldsAndRanges(fields, extensionRanges) {
      switch item {
      case .field(let field):
        renderEncodeField(field, oneofs: oneofs, receiver: receiver, into: &p)
      case .extensionRange(let range):
        p.line("\(receiver).extensionFields.encode(\(range.lowerBound)..<\(range.upperBound), to: &encoder)")
      }
    }
    p.line("encoder.writeUnknownFields(\(receiver).unknownFields)")
  }

  func renderEncodeField(_ field: FieldModel, oneofs: [OneofModel], receiver: String, into p: inout CodePrinter) {
    let target = "\(receiver).\(field.escaped)"
    let writeTag = "encoder.writeTag(\(field.tagValue))"
    switch field.cardinality {
    case .implicit:
      p.block("if \(field.nonDefaultCondition(target))") { p in
        p.line(writeTag)
        p.line(field.writeStatement(target))
      }
    case .explicit:
      if let binding = subMessagePointerBinding(field, receiver: receiver) {
        p.block("if \(binding)") { p in
          p.line(writeTag)
          p.line("encoder.writeMessage(at: value)")
        }
      } else {
        // Checking for nil and then reading the stored value borrows it; `if let` would copy it.
        p.block("if case .some = \(receiver).\(field.storageName)") { p in
          p.line(writeTag)
          p.line(field.writeStatement(unwrapped(field, receiver: receiver)))
        }
      }
    case .oneofMember:
      p.block("if case .\(field.escaped)(let value)? = \(receiver).\(oneofName(of: field, in: oneofs))") { p in
        p.line(writeTag)
        p.line(field.writeStatement("value"))
      }
    case .repeated(let packed):
      if packed {
        p.block("if !\(target).isEmpty") { p in
          p.line("encoder.writeTag(\(field.tag(.lengthDelimited)))")
          switch field.kind {
          case .scalar(let scalar): p.line("encoder.writePacked\(scalar.methodSuffix)(\(target))")
          case .enumeration: p.line("encoder.writePackedEnum(\(target))")
          case .message: break
          }
        }
      } else if case .message(_, false) = field.kind {
        p.line("encoder.writeRepeatedMessages(\(target), tag: \(field.tagValue))")
      } else {
        p.block("for value in \(target)") { p in
          p.line(writeTag)
          p.line(field.writeStatement("value"))
        }
      }
    case .map(let key, let value):
      p.block("for (key, value) in \(target)") { p in
        p.line(writeTag)
        p.line("encoder.writeVarint(UInt64(encoder.nextCachedSize()))")
        p.line("encoder.writeTag(\(key.tagValue))")
        p.line(key.writeStatement("key"))
        p.line("encoder.writeTag(\(value.tagValue))")
        p.line(value.writeStatement("value"))
      }
    }
  }
}
