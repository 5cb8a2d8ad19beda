import TandemProtobuf
import XCTest

/// The proto3 JSON mapping of generated messages: names, scalar forms, enums, oneofs, maps,
/// repeated fields, null, presence and the encoding and decoding options.
final class JSONMappingTests: XCTestCase {
  func decode<M: JSONCodableMessage>(
    _ type: M.Type, _ json: String, options: JSONDecodingOptions = JSONDecodingOptions(),
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> M {
    do {
      return try M(jsonString: json, options: options)
    } catch {
      XCTFail("decoding \(json) failed: \(error)", file: file, line: line)
      throw error
    }
  }

  // MARK: Names

  func testFieldNamesLowerCamelCase() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.int64Value = 5
    scalars.stringValue = "x"
    XCTAssertEqual(try scalars.jsonString(), #"{"int64Value":"5","stringValue":"x"}"#)
  }

  func testFieldNamesPreservedOnRequest() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.int64Value = 5
    scalars.renamed = 1
    let options = JSONEncodingOptions(preserveProtoFieldNames: true)
    XCTAssertEqual(try scalars.jsonString(options: options), #"{"int64_value":"5","renamed":1}"#)
  }

  func testCustomJSONNameUsedOnOutput() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.renamed = 3
    XCTAssertEqual(try scalars.jsonString(), #"{"customName":3}"#)
  }

  func testBothNamesAcceptedOnInput() throws {
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"int32Value": 1}"#).int32Value, 1)
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"int32_value": 2}"#).int32Value, 2)
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"customName": 3}"#).renamed, 3)
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"renamed": 4}"#).renamed, 4)
  }

  // MARK: Integers

  func testInt64WrittenAsStrings() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.int64Value = .min
    scalars.uint64Value = .max
    scalars.fixed64Value = 1
    scalars.sfixed64Value = -1
    scalars.sint64Value = 1 << 53 + 1
    XCTAssertEqual(
      try scalars.jsonString(),
      #"{"int64Value":"-9223372036854775808","uint64Value":"18446744073709551615","sint64Value":"9007199254740993","#
        + #""fixed64Value":"1","sfixed64Value":"-1"}"#)
  }

  func testInt32WrittenAsNumbers() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.int32Value = .min
    scalars.uint32Value = .max
    scalars.fixed32Value = 7
    XCTAssertEqual(try scalars.jsonString(), #"{"int32Value":-2147483648,"uint32Value":4294967295,"fixed32Value":7}"#)
  }

  func testInt64AcceptsNumbersAndStrings() throws {
    let precise = try decode(Tandem_Jsontest_Scalars.self, #"{"int64Value": 9007199254740993}"#)
    XCTAssertEqual(precise.int64Value, 9_007_199_254_740_993)
    let quoted = try decode(Tandem_Jsontest_Scalars.self, #"{"uint64Value": "18446744073709551615"}"#)
    XCTAssertEqual(quoted.uint64Value, .max)
    let minimum = try decode(Tandem_Jsontest_Scalars.self, #"{"sfixed64Value": "-9223372036854775808"}"#)
    XCTAssertEqual(minimum.sfixed64Value, .min)
  }

  func testIntegersAcceptExponentAndFractionZero() throws {
    let cases: [(String, Int32)] = [("1e2", 100), ("\"1.0\"", 1), ("12300e-2", 123), ("-0", 0), ("2.50e1", 25), ("0.0", 0)]
    for (text, expected) in cases {
      let scalars = try decode(Tandem_Jsontest_Scalars.self, #"{"int32Value": \#(text)}"#)
      XCTAssertEqual(scalars.int32Value, expected, text)
    }
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"int64Value": "1e18"}"#).int64Value, 1_000_000_000_000_000_000)
  }

  func testIntegersRejectFractionsAndRange() {
    for text in ["1.5", "\"0.1\"", "2147483648", "-2147483649", "1e10", "\" 1\"", "\"0x10\"", "true", "\"\""] {
      XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"int32Value": \#(text)}"#), text)
    }
    for text in ["-1", "4294967296", "\"-5\""] {
      XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"uint32Value": \#(text)}"#), text)
    }
    XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"uint64Value": "18446744073709551616"}"#))
    XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"int64Value": "9223372036854775808"}"#))
    XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"int64Value": 1e400}"#))
  }

  // MARK: Floating point

  func testFloatsWriteShortestForm() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.floatValue = 0.1
    scalars.doubleValue = 0.1
    XCTAssertEqual(try scalars.jsonString(), #"{"floatValue":0.1,"doubleValue":0.1}"#)
  }

  func testNonFiniteFloatsWrittenAsStrings() throws {
    var repeated = Tandem_Jsontest_Repeated()
    repeated.doubleValues = [.nan, .infinity, -.infinity, -0.0]
    XCTAssertEqual(try repeated.jsonString(), #"{"doubleValues":["NaN","Infinity","-Infinity",-0.0]}"#)
  }

  func testNonFiniteFloatsRead() throws {
    let repeated = try decode(Tandem_Jsontest_Repeated.self, #"{"floatValues": ["NaN", "Infinity", "-Infinity", "1.5", -0, 1e-3]}"#)
    XCTAssertEqual(repeated.floatValues.count, 6)
    XCTAssertTrue(repeated.floatValues[0].isNaN)
    XCTAssertEqual(repeated.floatValues[1], .infinity)
    XCTAssertEqual(repeated.floatValues[2], -.infinity)
    XCTAssertEqual(repeated.floatValues[3], 1.5)
    XCTAssertEqual(repeated.floatValues[4].sign, .minus)
    XCTAssertEqual(repeated.floatValues[5], 0.001)
  }

  func testNegativeZeroRoundTrips() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.doubleValue = -0.0
    let json = try scalars.jsonString()
    XCTAssertEqual(json, #"{"doubleValue":-0.0}"#)
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, json).doubleValue.sign, .minus)
  }

  func testFloatsRejectOutOfRangeAndSpellings() {
    for text in ["3.5e38", "\"nan\"", "\"inf\"", "\"1.5 \"", "\"0x1p3\"", "\".5\""] {
      XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"floatValue": \#(text)}"#), text)
    }
    XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"doubleValue": 1e309}"#))
  }

  func testFloatMaximumReadableAsDouble() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.floatValue = .greatestFiniteMagnitude
    let json = try scalars.jsonString()
    XCTAssertEqual(json, #"{"floatValue":3.4028234663852886e+38}"#)
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, json).floatValue, .greatestFiniteMagnitude)
  }

  // MARK: Bools, strings and bytes

  func testBoolRejectsStrings() {
    XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"boolValue": "true"}"#))
    XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"boolValue": 1}"#))
  }

  func testStringEscapesRoundTrip() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.stringValue = "q\"b\\s/\n\t\u{0}\u{1F}é😀"
    let json = try scalars.jsonString()
    XCTAssertEqual(json, #"{"stringValue":"q\"b\\s/\n\t\u0000\u001fé😀"}"#)
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, json).stringValue, scalars.stringValue)
  }

  func testStringUnicodeEscapesDecode() throws {
    let scalars = try decode(Tandem_Jsontest_Scalars.self, #"{"stringValue": "\u00e9\ud83d\ude00\/\b\f\r"}"#)
    XCTAssertEqual(scalars.stringValue, "é😀/\u{8}\u{C}\r")
  }

  func testBytesWrittenAsPaddedBase64() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.bytesValue = [0xFB, 0xFF, 0xBF, 0x01]
    XCTAssertEqual(try scalars.jsonString(), #"{"bytesValue":"+/+/AQ=="}"#)
  }

  func testBytesAcceptStandardAndURLSafe() throws {
    for text in ["+/+/AQ==", "-_-_AQ==", "+/+/AQ", "-_-_AQ"] {
      let scalars = try decode(Tandem_Jsontest_Scalars.self, #"{"bytesValue": "\#(text)"}"#)
      XCTAssertEqual(scalars.bytesValue, [0xFB, 0xFF, 0xBF, 0x01], text)
    }
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"bytesValue": ""}"#).bytesValue, [])
  }

  func testBytesRejectInvalidBase64() {
    for text in ["A", "AB=C", "A===", "AB*D", "AQ=", "AQ==="] {
      XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"bytesValue": "\#(text)"}"#), text)
    }
  }

  // MARK: Enums

  func testEnumsWrittenByName() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.mood = .sad
    XCTAssertEqual(try scalars.jsonString(), #"{"mood":"MOOD_SAD"}"#)
    XCTAssertEqual(try scalars.jsonString(options: JSONEncodingOptions(alwaysPrintEnumsAsInts: true)), #"{"mood":2}"#)
  }

  func testUnknownOpenEnumWrittenAsNumber() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.mood = .UNRECOGNIZED(42)
    XCTAssertEqual(try scalars.jsonString(), #"{"mood":42}"#)
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"mood":42}"#).mood, .UNRECOGNIZED(42))
  }

  func testEnumsAcceptNamesAndNumbers() throws {
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"mood": "MOOD_HAPPY"}"#).mood, .happy)
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"mood": 2}"#).mood, .sad)
    XCTAssertEqual(try decode(Tandem_Jsontest_Scalars.self, #"{"mood": "2"}"#).mood, .sad)
  }

  func testUnknownEnumNameRejected() {
    XCTAssertThrowsError(try Tandem_Jsontest_Scalars(jsonString: #"{"mood": "MOOD_ANGRY"}"#)) { error in
      XCTAssertEqual((error as? JSONDecodingError)?.kind, .unknownEnumValue("\"MOOD_ANGRY\"", enumName: "Tandem_Jsontest_Mood"))
      XCTAssertEqual((error as? JSONDecodingError)?.path, "$.mood")
    }
  }

  func testUnknownEnumNameSkippedWhenIgnoring() throws {
    let options = JSONDecodingOptions(ignoreUnknownFields: true)
    let scalars = try decode(Tandem_Jsontest_Scalars.self, #"{"mood": "MOOD_ANGRY", "int32Value": 1}"#, options: options)
    XCTAssertEqual(scalars.mood, .unspecified)
    XCTAssertEqual(scalars.int32Value, 1)
    let repeated = try decode(Tandem_Jsontest_Repeated.self, #"{"moods": ["MOOD_SAD", "MOOD_ANGRY", 1]}"#, options: options)
    XCTAssertEqual(repeated.moods, [.sad, .happy])
    let maps = try decode(Tandem_Jsontest_Maps.self, #"{"uint32ToMood": {"1": "MOOD_ANGRY", "2": "MOOD_SAD"}}"#, options: options)
    XCTAssertEqual(maps.uint32ToMood, [2: .sad])
  }

  func testClosedEnumRejectsUnknownNumber() {
    XCTAssertThrowsError(try Tandem_Jsontest2_Legacy(jsonString: #"{"shade": 7}"#)) { error in
      XCTAssertEqual((error as? JSONDecodingError)?.kind, .unknownEnumValue("7", enumName: "Tandem_Jsontest2_Shade"))
    }
  }

  // MARK: Oneofs

  func testOneofMemberWrittenEvenWhenDefault() throws {
    var presence = Tandem_Jsontest_Presence()
    presence.choiceInt = 0
    XCTAssertEqual(try presence.jsonString(), #"{"choiceInt":0}"#)
    presence.choiceInner = Tandem_Jsontest_Inner()
    XCTAssertEqual(try presence.jsonString(), #"{"choiceInner":{}}"#)
    presence.choiceNull = .nullValue
    XCTAssertEqual(try presence.jsonString(), #"{"choiceNull":null}"#)
  }

  func testOneofDecodes() throws {
    XCTAssertEqual(try decode(Tandem_Jsontest_Presence.self, #"{"choiceString": "a"}"#).choice, .choiceString("a"))
    XCTAssertEqual(try decode(Tandem_Jsontest_Presence.self, #"{"choice_inner": {"id": 3}}"#).choiceInner.id, 3)
    XCTAssertEqual(try decode(Tandem_Jsontest_Presence.self, #"{"choiceNull": null}"#).choice, .choiceNull(.nullValue))
    let value = try decode(Tandem_Jsontest_Presence.self, #"{"choiceValue": null}"#)
    XCTAssertEqual(value.choice, .choiceValue(nil))
  }

  func testOneofRejectsTwoMembers() {
    XCTAssertThrowsError(try Tandem_Jsontest_Presence(jsonString: #"{"choiceInt": 1, "choiceString": "a"}"#)) { error in
      XCTAssertEqual((error as? JSONDecodingError)?.kind, .multipleOneofFields(oneof: "choice"))
      XCTAssertEqual((error as? JSONDecodingError)?.path, "$.choiceString")
    }
  }

  func testOneofNullMemberLeavesOtherMember() throws {
    let presence = try decode(Tandem_Jsontest_Presence.self, #"{"choiceInt": 1, "choiceString": null}"#)
    XCTAssertEqual(presence.choice, .choiceInt(1))
  }

  // MARK: Repeated fields and maps

  func testRepeatedRoundTrip() throws {
    var repeated = Tandem_Jsontest_Repeated()
    repeated.int64Values = [1, -2]
    repeated.boolValues = [true, false]
    repeated.inners = [Tandem_Jsontest_Inner(), .with { $0.id = 4 }]
    let json = try repeated.jsonString()
    XCTAssertEqual(json, #"{"int64Values":["1","-2"],"boolValues":[true,false],"inners":[{},{"id":4}]}"#)
    XCTAssertEqual(try decode(Tandem_Jsontest_Repeated.self, json), repeated)
  }

  func testRepeatedReplacedNotAppended() throws {
    var repeated = Tandem_Jsontest_Repeated()
    repeated.int32Values = [9, 9]
    try repeated.merge(jsonString: #"{"int32Values": [1]}"#)
    XCTAssertEqual(repeated.int32Values, [1])
  }

  func testMapKeysWrittenAsStrings() throws {
    var maps = Tandem_Jsontest_Maps()
    maps.int32ToString = [-5: "a"]
    maps.boolToBytes = [true: [1]]
    maps.fixed64ToInt64 = [UInt64.max: 1]
    maps.int64ToInner = [7: .with { $0.note = "n" }]
    XCTAssertEqual(
      try maps.jsonString(),
      #"{"int32ToString":{"-5":"a"},"int64ToInner":{"7":{"note":"n"}},"boolToBytes":{"true":"AQ=="},"#
        + #""fixed64ToInt64":{"18446744073709551615":"1"}}"#)
  }

  func testMapsDecode() throws {
    let maps = try decode(
      Tandem_Jsontest_Maps.self,
      #"{"int32ToString": {"-5": "a", "6": "b"}, "boolToBytes": {"false": ""}, "uint64ToDouble": {"1": "NaN"},"#
        + #""stringToValue": {"k": null, "l": [1]}, "sint32ToFloat": {"-1": 1e2}}"#)
    XCTAssertEqual(maps.int32ToString, [-5: "a", 6: "b"])
    XCTAssertEqual(maps.boolToBytes, [false: []])
    XCTAssertEqual(maps.uint64ToDouble[1]?.isNaN, true)
    XCTAssertEqual(maps.stringToValue, ["k": nil, "l": [1]])
    XCTAssertEqual(maps.sint32ToFloat, [-1: 100])
  }

  func testMapRejectsInvalidKeys() {
    XCTAssertThrowsError(try Tandem_Jsontest_Maps(jsonString: #"{"int32ToString": {"x": "a"}}"#)) { error in
      XCTAssertEqual((error as? JSONDecodingError)?.path, "$.int32ToString.x")
    }
    XCTAssertThrowsError(try Tandem_Jsontest_Maps(jsonString: #"{"boolToBytes": {"1": ""}}"#))
    XCTAssertThrowsError(try Tandem_Jsontest_Maps(jsonString: #"{"uint32ToMood": {"-1": 1}}"#))
  }

  // MARK: Null and presence

  func testNullClearsFields() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.int32Value = 5
    scalars.inner.id = 1
    try scalars.merge(jsonString: #"{"int32Value": null, "inner": null, "mood": null}"#)
    XCTAssertEqual(scalars.int32Value, 0)
    XCTAssertFalse(scalars.hasInner)

    var repeated = Tandem_Jsontest_Repeated()
    repeated.int32Values = [1]
    try repeated.merge(jsonString: #"{"int32Values": null}"#)
    XCTAssertEqual(repeated.int32Values, [])
  }

  func testNullClearsExplicitPresence() throws {
    var presence = Tandem_Jsontest_Presence()
    presence.int32Value = 3
    try presence.merge(jsonString: #"{"int32Value": null}"#)
    XCTAssertFalse(presence.hasInt32Value)
  }

  func testExplicitPresenceWritesDefaults() throws {
    var presence = Tandem_Jsontest_Presence()
    presence.int32Value = 0
    presence.stringValue = ""
    presence.mood = .unspecified
    XCTAssertEqual(try presence.jsonString(), #"{"int32Value":0,"stringValue":"","mood":"MOOD_UNSPECIFIED"}"#)
    let decoded = try decode(Tandem_Jsontest_Presence.self, #"{"int32Value":0}"#)
    XCTAssertTrue(decoded.hasInt32Value)
    XCTAssertFalse(decoded.hasStringValue)
  }

  func testProto2PresenceAndDefaults() throws {
    var legacy = Tandem_Jsontest2_Legacy()
    XCTAssertEqual(try legacy.jsonString(), "{}")
    legacy.count = 7
    legacy.shade = .dark
    legacy.block.weight = 2
    XCTAssertEqual(try legacy.jsonString(), #"{"count":7,"shade":"DARK","block":{"weight":"2"}}"#)
    let decoded = try decode(Tandem_Jsontest2_Legacy.self, #"{"count": 7, "shade": "DARK", "block": {"weight": "2"}}"#)
    XCTAssertEqual(decoded, legacy)
    XCTAssertTrue(decoded.hasCount)
    XCTAssertFalse(decoded.hasLabel)
  }

  func testMessageFieldsMerge() throws {
    var scalars = Tandem_Jsontest_Scalars()
    scalars.inner.id = 1
    try scalars.merge(jsonString: #"{"inner": {"note": "n"}}"#)
    XCTAssertEqual(scalars.inner.id, 1)
    XCTAssertEqual(scalars.inner.note, "n")
  }

  // MARK: Options

  func testAlwaysPrintFieldsWithoutPresence() throws {
    let options = JSONEncodingOptions(alwaysPrintFieldsWithoutPresence: true)
    XCTAssertEqual(try Tandem_Jsontest_Inner().jsonString(options: options), #"{"id":0,"note":""}"#)
    let presence = try Tandem_Jsontest_Presence().jsonString(options: options)
    XCTAssertEqual(presence, "{}")
    let repeated = try Tandem_Jsontest_Repeated().jsonString(options: options)
    XCTAssertTrue(repeated.hasPrefix(#"{"int32Values":[],"int64Values":[],"#), repeated)
    let maps = try Tandem_Jsontest_Maps().jsonString(options: options)
    XCTAssertTrue(maps.hasPrefix(#"{"stringToInt32":{},"#), maps)
    let scalars = try Tandem_Jsontest_Scalars().jsonString(options: options)
    XCTAssertTrue(scalars.contains(#""mood":"MOOD_UNSPECIFIED""#), scalars)
    XCTAssertFalse(scalars.contains(#""inner""#), scalars)
  }

  func testUnknownFieldRejected() {
    XCTAssertThrowsError(try Tandem_Jsontest_Inner(jsonString: #"{"id": 1, "extra": {"a": [1, 2]}}"#)) { error in
      XCTAssertEqual((error as? JSONDecodingError)?.kind, .unknownField(name: "extra", messageName: "tandem.jsontest.Inner"))
      XCTAssertEqual((error as? JSONDecodingError)?.path, "$.extra")
    }
  }

  func testUnknownFieldIgnoredOnRequest() throws {
    let options = JSONDecodingOptions(ignoreUnknownFields: true)
    let inner = try decode(Tandem_Jsontest_Inner.self, #"{"id": 1, "extra": {"a": [1, 2]}}"#, options: options)
    XCTAssertEqual(inner.id, 1)
    XCTAssertTrue(inner.unknownFields.isEmpty)
  }

  func testBytesAPIMatchesString() throws {
    var inner = Tandem_Jsontest_Inner()
    inner.note = "é"
    let bytes = try inner.jsonUTF8Bytes()
    XCTAssertEqual(bytes, Array(#"{"note":"é"}"#.utf8))
    XCTAssertEqual(try Tandem_Jsontest_Inner(jsonUTF8Bytes: bytes), inner)
  }

  func testWhitespaceAccepted() throws {
    let inner = try decode(Tandem_Jsontest_Inner.self, " \n\t{ \"id\" :\r 1 , \"note\" : \"x\" } \n")
    XCTAssertEqual(inner.id, 1)
    XCTAssertEqual(inner.note, "x")
  }

  func testDeepRecursionWithinLimit() throws {
    var json = "{}"
    for _ in 0..<100 {
      json = #"{"child":"# + json + "}"
    }
    var tree = try decode(Tandem_Jsontest_Tree.self, json)
    var depth = 0
    while tree.hasChild {
      tree = tree.child
      depth += 1
    }
    XCTAssertEqual(depth, 100)
  }
}
