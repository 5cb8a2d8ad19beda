import Foundation
import TandemProtobuf
import XCTest

/// The well-known types: their Swift conveniences and their special JSON forms.
final class WellKnownTypeTests: XCTestCase {
  func json<M: JSONCodableMessage>(_ message: M, options: JSONEncodingOptions = JSONEncodingOptions()) throws -> String {
    try message.jsonString(options: options)
  }

  // MARK: Timestamp

  func testTimestampFormats() throws {
    let cases: [(Int64, Int32, String)] = [
      (0, 0, "1970-01-01T00:00:00Z"),
      (63_108_020, 21_000_000, "1972-01-01T10:00:20.021Z"),
      (63_108_020, 21_000, "1972-01-01T10:00:20.000021Z"),
      (63_108_020, 21, "1972-01-01T10:00:20.000000021Z"),
      (-1, 999_999_999, "1969-12-31T23:59:59.999999999Z"),
      (-62_135_596_800, 0, "0001-01-01T00:00:00Z"),
      (253_402_300_799, 999_999_999, "9999-12-31T23:59:59.999999999Z"),
      (951_782_400, 0, "2000-02-29T00:00:00Z"),
    ]
    for (seconds, nanos, text) in cases {
      let timestamp = try Google_Protobuf_Timestamp(seconds: seconds, nanos: nanos)
      XCTAssertEqual(try json(timestamp), "\"\(text)\"")
      let decoded = try Google_Protobuf_Timestamp(jsonString: "\"\(text)\"")
      XCTAssertEqual(decoded, timestamp, text)
    }
  }

  func testTimestampAcceptsOffsetsAndFractions() throws {
    let cases: [(String, Int64, Int32)] = [
      ("1972-01-01T12:00:20+02:00", 63_108_020, 0),
      ("1972-01-01T05:30:20.5-04:30", 63_108_020, 500_000_000),
      ("1972-01-01t10:00:20.1z", 63_108_020, 100_000_000),
      ("1970-01-01T00:00:00.123456789Z", 0, 123_456_789),
    ]
    for (text, seconds, nanos) in cases {
      let decoded = try Google_Protobuf_Timestamp(jsonString: "\"\(text)\"")
      XCTAssertEqual(decoded.seconds, seconds, text)
      XCTAssertEqual(decoded.nanos, nanos, text)
    }
  }

  func testTimestampRejectsInvalidText() {
    for text in ["1972-01-01T10:00:20", "1972-13-01T00:00:00Z", "1971-02-29T00:00:00Z", "1972-01-01T24:00:00Z",
                 "10000-01-01T00:00:00Z", "0000-12-31T23:59:59Z", "1972-01-01T10:00:20.1234567891Z", "1972-01-01 10:00:20Z",
                 "1972-01-01T10:00:20.Z", "0001-01-01T00:00:00+00:01"] {
      XCTAssertThrowsError(try Google_Protobuf_Timestamp(jsonString: "\"\(text)\""), text) { error in
        guard case .invalidValue? = (error as? JSONDecodingError)?.kind else {
          return XCTFail("\(text): expected invalidValue, got \(error)")
        }
      }
    }
  }

  func testTimestampOutOfRangeNotEncoded() {
    var timestamp = Google_Protobuf_Timestamp()
    timestamp.seconds = 253_402_300_800
    XCTAssertThrowsError(try timestamp.jsonString()) { error in
      XCTAssertEqual((error as? JSONEncodingError)?.kind, .timestampOutOfRange(seconds: 253_402_300_800, nanos: 0))
    }
    var wellKnown = Tandem_Jsontest_WellKnown()
    wellKnown.timestamp.nanos = -1
    XCTAssertThrowsError(try wellKnown.jsonString()) { error in
      XCTAssertEqual((error as? JSONEncodingError)?.path, "$.timestamp")
    }
  }

  func testTimestampInitValidates() {
    XCTAssertThrowsError(try Google_Protobuf_Timestamp(seconds: 0, nanos: 1_000_000_000)) { error in
      XCTAssertEqual((error as? WellKnownTypeError)?.kind, .timestampOutOfRange(seconds: 0, nanos: 1_000_000_000))
    }
    XCTAssertThrowsError(try Google_Protobuf_Timestamp(seconds: -62_135_596_801))
    XCTAssertNoThrow(try Google_Protobuf_Timestamp(seconds: -62_135_596_800))
  }

  func testTimestampDateConversion() throws {
    let date = Date(timeIntervalSince1970: 1_700_000_000.25)
    let timestamp = try Google_Protobuf_Timestamp(date: date)
    XCTAssertEqual(timestamp.seconds, 1_700_000_000)
    XCTAssertEqual(timestamp.nanos, 250_000_000)
    XCTAssertEqual(timestamp.date, date)

    let before = try Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: -1.5))
    XCTAssertEqual(before.seconds, -2)
    XCTAssertEqual(before.nanos, 500_000_000)
    XCTAssertThrowsError(try Google_Protobuf_Timestamp(date: .distantFuture.addingTimeInterval(1e12)))
    XCTAssertThrowsError(try Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: -1e300))) { error in
      XCTAssertEqual((error as? WellKnownTypeError)?.kind, .timestampOutOfRange(seconds: .min, nanos: 0))
    }
  }

  // MARK: Duration

  func testDurationFormats() throws {
    let cases: [(Int64, Int32, String)] = [
      (0, 0, "0s"), (1, 0, "1s"), (1, 500_000_000, "1.500s"), (-1, -500_000_000, "-1.500s"),
      (0, -1000, "-0.000001s"), (0, 1, "0.000000001s"), (315_576_000_000, 0, "315576000000s"),
      (-315_576_000_000, -999_999_999, "-315576000000.999999999s"),
    ]
    for (seconds, nanos, text) in cases {
      let duration = try Google_Protobuf_Duration(seconds: seconds, nanos: nanos)
      XCTAssertEqual(try json(duration), "\"\(text)\"")
      XCTAssertEqual(try Google_Protobuf_Duration(jsonString: "\"\(text)\""), duration, text)
    }
  }

  func testDurationAcceptsAnyFractionDigits() throws {
    let duration = try Google_Protobuf_Duration(jsonString: #""1.5s""#)
    XCTAssertEqual(duration.seconds, 1)
    XCTAssertEqual(duration.nanos, 500_000_000)
    let negative = try Google_Protobuf_Duration(jsonString: #""-0.25s""#)
    XCTAssertEqual(negative.seconds, 0)
    XCTAssertEqual(negative.nanos, -250_000_000)
  }

  func testDurationRejectsInvalidText() {
    for text in ["1", "1.s", "s", "-s", "1.0000000001s", "315576000001s", "+1s", "1.5S", " 1s", "0x1s"] {
      XCTAssertThrowsError(try Google_Protobuf_Duration(jsonString: "\"\(text)\""), text)
    }
  }

  func testDurationOutOfRangeNotEncoded() {
    var duration = Google_Protobuf_Duration()
    duration.seconds = 1
    duration.nanos = -1
    XCTAssertThrowsError(try duration.jsonString()) { error in
      XCTAssertEqual((error as? JSONEncodingError)?.kind, .durationOutOfRange(seconds: 1, nanos: -1))
    }
    XCTAssertThrowsError(try Google_Protobuf_Duration(seconds: 315_576_000_001))
  }

  func testDurationSwiftDurationConversion() throws {
    let duration = try Google_Protobuf_Duration(.milliseconds(1500))
    XCTAssertEqual(duration.seconds, 1)
    XCTAssertEqual(duration.nanos, 500_000_000)
    XCTAssertEqual(duration.duration, .milliseconds(1500))

    let negative = try Google_Protobuf_Duration(.milliseconds(-1500))
    XCTAssertEqual(negative.seconds, -1)
    XCTAssertEqual(negative.nanos, -500_000_000)
    XCTAssertEqual(negative.duration, .milliseconds(-1500))

    let small = try Google_Protobuf_Duration(.nanoseconds(-7))
    XCTAssertEqual(small.seconds, 0)
    XCTAssertEqual(small.nanos, -7)
    XCTAssertThrowsError(try Google_Protobuf_Duration(.seconds(315_576_000_001)))

    // Sub-nanosecond parts are truncated toward zero on both sides of zero.
    XCTAssertEqual(try Google_Protobuf_Duration(.seconds(-0.0000000015)).nanos, -1)
    XCTAssertEqual(try Google_Protobuf_Duration(.seconds(0.0000000015)).nanos, 1)
    XCTAssertEqual(try Google_Protobuf_Duration(.seconds(-0.0000000005)).nanos, 0)
  }

  // MARK: FieldMask

  func testFieldMaskJSON() throws {
    let mask: Google_Protobuf_FieldMask = ["user.display_name", "photo", "a_b.c_d_e"]
    XCTAssertEqual(try json(mask), #""user.displayName,photo,aB.cDE""#)
    XCTAssertEqual(try Google_Protobuf_FieldMask(jsonString: #""user.displayName,photo,aB.cDE""#), mask)
    XCTAssertEqual(try Google_Protobuf_FieldMask(jsonString: #""""#).paths, [])
    XCTAssertEqual(try json(Google_Protobuf_FieldMask()), #""""#)
  }

  func testFieldMaskRejectsUnconvertiblePaths() {
    for path in ["fooBar", "foo__bar", "foo_", "foo_1"] {
      XCTAssertThrowsError(try Google_Protobuf_FieldMask(paths: [path]).jsonString(), path) { error in
        XCTAssertEqual((error as? JSONEncodingError)?.kind, .invalidFieldMaskPath(path))
      }
    }
    XCTAssertThrowsError(try Google_Protobuf_FieldMask(jsonString: #""foo_bar""#))
  }

  // MARK: Struct, Value and ListValue

  func testValueLiterals() {
    let value: Google_Protobuf_Value = ["name": "x", "count": 3, "ratio": 0.5, "ok": true, "none": nil, "list": [1, "a"]]
    guard case .structValue(let object)? = value.kind else {
      return XCTFail("expected a struct value")
    }
    XCTAssertEqual(object["name"]?.kind, .stringValue("x"))
    XCTAssertEqual(object["count"]?.kind, .numberValue(3))
    XCTAssertEqual(object["ratio"]?.kind, .numberValue(0.5))
    XCTAssertEqual(object["ok"]?.kind, .boolValue(true))
    XCTAssertEqual(object["none"]?.kind, .nullValue(.nullValue))
    XCTAssertEqual(object["list"]?.kind, .listValue([1, "a"]))
    XCTAssertNil(object["missing"])
  }

  func testStructJSONRoundTrip() throws {
    let object: Google_Protobuf_Struct = ["a": [true, nil, 1.5, "s", ["k": []]]]
    XCTAssertEqual(try json(object), #"{"a":[true,null,1.5,"s",{"k":[]}]}"#)
    XCTAssertEqual(try Google_Protobuf_Struct(jsonString: #"{"a":[true,null,1.5,"s",{"k":[]}]}"#), object)
  }

  func testValueReadsEveryJSONType() throws {
    XCTAssertEqual(try Google_Protobuf_Value(jsonString: "null"), nil)
    XCTAssertEqual(try Google_Protobuf_Value(jsonString: "false"), false)
    XCTAssertEqual(try Google_Protobuf_Value(jsonString: "-2.5e1"), -25)
    XCTAssertEqual(try Google_Protobuf_Value(jsonString: #""NaN""#), "NaN")
    XCTAssertEqual(try Google_Protobuf_Value(jsonString: "[]"), Google_Protobuf_Value(Google_Protobuf_ListValue()))
    XCTAssertEqual(try Google_Protobuf_Value(jsonString: "{}"), Google_Protobuf_Value(Google_Protobuf_Struct()))
  }

  func testValueWithoutKindWritesNull() throws {
    XCTAssertEqual(try json(Google_Protobuf_Value()), "null")
  }

  func testValueRejectsNonFiniteNumbers() {
    for number in [Double.nan, .infinity, -.infinity] {
      XCTAssertThrowsError(try json(Google_Protobuf_Value(number))) { error in
        guard case .nonFiniteValue? = (error as? JSONEncodingError)?.kind else {
          return XCTFail("expected nonFiniteValue, got \(error)")
        }
      }
    }
  }

  func testValueFieldNullIsNullValue() throws {
    let wellKnown = try Tandem_Jsontest_WellKnown(jsonString: #"{"value": null, "nullValue": null, "values": [null]}"#)
    XCTAssertTrue(wellKnown.hasValue)
    XCTAssertEqual(wellKnown.value, nil)
    XCTAssertEqual(wellKnown.nullValue, .nullValue)
    XCTAssertEqual(wellKnown.values, [nil])
  }

  func testListValueJSON() throws {
    let list: Google_Protobuf_ListValue = [1, "two", [3]]
    XCTAssertEqual(try json(list), #"[1.0,"two",[3.0]]"#)
    XCTAssertEqual(try Google_Protobuf_ListValue(jsonString: #"[1,"two",[3]]"#), list)
    XCTAssertThrowsError(try Google_Protobuf_ListValue(jsonString: "{}"))
  }

  // MARK: Wrappers and Empty

  func testWrappersFromLiterals() {
    let flag: Google_Protobuf_BoolValue = true
    let count: Google_Protobuf_Int32Value = -3
    let big: Google_Protobuf_UInt64Value = 18_446_744_073_709_551_615
    let ratio: Google_Protobuf_DoubleValue = 0.5
    let whole: Google_Protobuf_FloatValue = 2
    let name: Google_Protobuf_StringValue = "n"
    let data: Google_Protobuf_BytesValue = [1, 2]
    XCTAssertEqual(flag.value, true)
    XCTAssertEqual(count.value, -3)
    XCTAssertEqual(big.value, .max)
    XCTAssertEqual(ratio.value, 0.5)
    XCTAssertEqual(whole.value, 2)
    XCTAssertEqual(name.value, "n")
    XCTAssertEqual(data.value, [1, 2])
  }

  func testWrappersAsBareValues() throws {
    var wellKnown = Tandem_Jsontest_WellKnown()
    wellKnown.boolWrapper = false
    wellKnown.int64Wrapper = 5
    wellKnown.uint32Wrapper = 0
    wellKnown.floatWrapper = Google_Protobuf_FloatValue(.infinity)
    wellKnown.stringWrapper = ""
    wellKnown.bytesWrapper = [0xFF]
    let text = try json(wellKnown)
    XCTAssertEqual(
      text,
      #"{"boolWrapper":false,"int64Wrapper":"5","uint32Wrapper":0,"floatWrapper":"Infinity","stringWrapper":"","#
        + #""bytesWrapper":"/w=="}"#)
    XCTAssertEqual(try Tandem_Jsontest_WellKnown(jsonString: text), wellKnown)
    XCTAssertEqual(try json(Google_Protobuf_Int64Value(7)), #""7""#)
  }

  func testWrapperNullLeavesFieldUnset() throws {
    let wellKnown = try Tandem_Jsontest_WellKnown(jsonString: #"{"int32Wrapper": null}"#)
    XCTAssertFalse(wellKnown.hasInt32Wrapper)
  }

  func testEmptyJSON() throws {
    XCTAssertEqual(try json(Google_Protobuf_Empty()), "{}")
    XCTAssertEqual(try Google_Protobuf_Empty(jsonString: "{}"), Google_Protobuf_Empty())
    XCTAssertThrowsError(try Google_Protobuf_Empty(jsonString: #"{"a": 1}"#))
  }

  // MARK: Any

  func testAnyPackAndUnpack() throws {
    let inner = Tandem_Jsontest_Inner.with { $0.id = 5 }
    let any = try Google_Protobuf_Any(message: inner)
    XCTAssertEqual(any.typeURL, "type.googleapis.com/tandem.jsontest.Inner")
    XCTAssertEqual(any.value, try inner.serializedBytes())
    XCTAssertTrue(any.isA(Tandem_Jsontest_Inner.self))
    XCTAssertFalse(any.isA(Google_Protobuf_Empty.self))
    XCTAssertEqual(try any.unpack(as: Tandem_Jsontest_Inner.self), inner)
    XCTAssertThrowsError(try any.unpack(as: Google_Protobuf_Empty.self)) { error in
      XCTAssertEqual(
        (error as? WellKnownTypeError)?.kind, .typeMismatch(expected: "google.protobuf.Empty", found: "tandem.jsontest.Inner"))
    }
    let custom = try Google_Protobuf_Any(message: inner, typePrefix: "example.com/types/")
    XCTAssertEqual(custom.typeURL, "example.com/types/tandem.jsontest.Inner")
  }

  func testAnyUnpackRejectsBadPayload() throws {
    var any = try Google_Protobuf_Any(message: Tandem_Jsontest_Inner())
    any.value = [0x0A]
    XCTAssertThrowsError(try any.unpack(as: Tandem_Jsontest_Inner.self)) { error in
      guard case .invalidPayload? = (error as? WellKnownTypeError)?.kind else {
        return XCTFail("expected invalidPayload, got \(error)")
      }
    }
  }

  func testAnyJSONWithRegisteredMessage() throws {
    let inner = Tandem_Jsontest_Inner.with {
      $0.id = 5
      $0.note = "n"
    }
    let any = try Google_Protobuf_Any(message: inner)
    let registry = JSONTypeRegistry([Tandem_Jsontest_Inner.self])
    let text = try any.jsonString(options: JSONEncodingOptions(typeRegistry: registry))
    XCTAssertEqual(text, #"{"@type":"type.googleapis.com/tandem.jsontest.Inner","id":5,"note":"n"}"#)
    let decoded = try Google_Protobuf_Any(jsonString: #"{"note":"n","@type":"type.googleapis.com/tandem.jsontest.Inner","id":5}"#,
                                          options: JSONDecodingOptions(typeRegistry: registry))
    XCTAssertEqual(decoded, any)
  }

  func testAnyJSONWithWellKnownPayload() throws {
    let cases: [(Google_Protobuf_Any, String)] = [
      (try Google_Protobuf_Any(message: Google_Protobuf_Duration(seconds: 1)),
       #"{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1s"}"#),
      (try Google_Protobuf_Any(message: Google_Protobuf_Int64Value(9)),
       #"{"@type":"type.googleapis.com/google.protobuf.Int64Value","value":"9"}"#),
      (try Google_Protobuf_Any(message: ["a": 1] as Google_Protobuf_Struct),
       #"{"@type":"type.googleapis.com/google.protobuf.Struct","value":{"a":1.0}}"#),
      (try Google_Protobuf_Any(message: Google_Protobuf_Empty()),
       #"{"@type":"type.googleapis.com/google.protobuf.Empty"}"#),
      (try Google_Protobuf_Any(message: Google_Protobuf_Any(message: Google_Protobuf_FieldMask(paths: ["a_b"]))),
       #"{"@type":"type.googleapis.com/google.protobuf.Any","value":{"@type":"type.googleapis.com/google.protobuf.FieldMask","value":"aB"}}"#),
      (Google_Protobuf_Any(), "{}"),
    ]
    for (any, text) in cases {
      XCTAssertEqual(try json(any), text)
      XCTAssertEqual(try Google_Protobuf_Any(jsonString: text), any, text)
    }
  }

  func testAnyUnknownTypeRejected() throws {
    let any = try Google_Protobuf_Any(message: Tandem_Jsontest_Inner())
    XCTAssertThrowsError(try any.jsonString()) { error in
      XCTAssertEqual((error as? JSONEncodingError)?.kind, .unknownAnyType("type.googleapis.com/tandem.jsontest.Inner"))
    }
    XCTAssertThrowsError(try Google_Protobuf_Any(jsonString: #"{"@type":"type.googleapis.com/tandem.jsontest.Inner"}"#)) { error in
      XCTAssertEqual((error as? JSONDecodingError)?.kind, .unknownAnyType("type.googleapis.com/tandem.jsontest.Inner"))
    }
  }

  func testAnyRequiresType() {
    XCTAssertThrowsError(try Tandem_Jsontest_WellKnown(jsonString: #"{"any": {"id": 1}}"#)) { error in
      XCTAssertEqual((error as? JSONDecodingError)?.kind, .missingAnyType)
      XCTAssertEqual((error as? JSONDecodingError)?.path, "$.any")
    }
    XCTAssertThrowsError(try Google_Protobuf_Any(jsonString: #"{"@type": "type.googleapis.com/google.protobuf.Duration"}"#))
  }

  func testAnyPayloadErrorsCarryPath() {
    let registry = JSONTypeRegistry([Tandem_Jsontest_Inner.self])
    let text = #"{"any": {"@type": "type.googleapis.com/tandem.jsontest.Inner", "id": "x"}}"#
    XCTAssertThrowsError(try Tandem_Jsontest_WellKnown(jsonString: text, options: JSONDecodingOptions(typeRegistry: registry))) { error in
      XCTAssertEqual((error as? JSONDecodingError)?.path, "$.any.id")
    }
    let wrapped = #"{"any": {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "1"}}"#
    XCTAssertThrowsError(try Tandem_Jsontest_WellKnown(jsonString: wrapped)) { error in
      XCTAssertEqual((error as? JSONDecodingError)?.path, "$.any.value")
    }
  }

  // MARK: Generated references

  func testImportedWellKnownTypesAreRuntimeTypes() {
    // The generated schema imports google/protobuf/*.proto; its fields use TandemProtobuf's types.
    let wellKnown = Tandem_Jsontest_WellKnown()
    XCTAssertTrue(type(of: wellKnown.timestamp) == Google_Protobuf_Timestamp.self)
    XCTAssertTrue(type(of: wellKnown.any) == Google_Protobuf_Any.self)
    XCTAssertTrue(type(of: wellKnown.nullValue) == Google_Protobuf_NullValue.self)
    XCTAssertEqual(Google_Protobuf_Timestamp.protoMessageName, "google.protobuf.Timestamp")
  }
}
