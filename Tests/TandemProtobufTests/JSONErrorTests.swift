import TandemProtobuf
import XCTest

/// Invalid JSON input: each error names the problem and the JSONPath of the value, and no input
/// crashes or hangs the decoder.
final class JSONErrorTests: XCTestCase {
  /// Decodes `json` as `M` and returns the error, failing the test when decoding succeeds.
  func decodingError<M: JSONCodableMessage>(
    _ type: M.Type, _ json: String, options: JSONDecodingOptions = JSONDecodingOptions(),
    file: StaticString = #filePath, line: UInt = #line
  ) -> JSONDecodingError? {
    do {
      _ = try M(jsonString: json, options: options)
      XCTFail("decoding \(json) succeeded, expected an error", file: file, line: line)
      return nil
    } catch {
      return error
    }
  }

  func testPathNamesNestedArrayElement() {
    let error = decodingError(Tandem_Jsontest_Root.self, #"{"repeated": {"inners": [{}, {}, {}, {"id": "x"}]}}"#)
    XCTAssertEqual(error?.path, "$.repeated.inners[3].id")
    XCTAssertEqual(error?.kind, .invalidValue("\"x\"", expected: "an integer"))
    XCTAssertEqual(error?.description, #"invalid value "x": expected an integer at $.repeated.inners[3].id"#)
  }

  func testPathUsesInputName() {
    let error = decodingError(Tandem_Jsontest_Root.self, #"{"well_known": {"int32_wrapper": 1.5}}"#)
    XCTAssertEqual(error?.path, "$.well_known.int32_wrapper")
  }

  func testPathQuotesUnusualKeys() {
    let error = decodingError(Tandem_Jsontest_Maps.self, #"{"stringToInt32": {"a b": "x"}}"#)
    XCTAssertEqual(error?.path, #"$.stringToInt32["a b"]"#)
  }

  func testOutOfRangeNamesLimit() {
    let error = decodingError(Tandem_Jsontest_Scalars.self, #"{"int32Value": 2147483648}"#)
    XCTAssertEqual(error?.kind, .invalidValue("2147483648", expected: "an int32 in -2147483648 ... 2147483647"))
    XCTAssertEqual(error?.path, "$.int32Value")
  }

  func testTypeMismatchNamesTypes() {
    let error = decodingError(Tandem_Jsontest_Scalars.self, #"{"stringValue": 5}"#)
    XCTAssertEqual(error?.kind, .unexpectedType(expected: "string", found: "number"))
    let array = decodingError(Tandem_Jsontest_Repeated.self, #"{"int32Values": {"a": 1}}"#)
    XCTAssertEqual(array?.kind, .unexpectedType(expected: "array", found: "object"))
    let object = decodingError(Tandem_Jsontest_Scalars.self, #"{"inner": [1]}"#)
    XCTAssertEqual(object?.kind, .unexpectedType(expected: "object", found: "array"))
    XCTAssertEqual(object?.path, "$.inner")
  }

  func testTopLevelMustBeObject() {
    XCTAssertEqual(decodingError(Tandem_Jsontest_Inner.self, "[]")?.kind, .unexpectedType(expected: "object", found: "array"))
    XCTAssertEqual(decodingError(Tandem_Jsontest_Inner.self, "null")?.kind, .nullNotAllowed)
    XCTAssertEqual(decodingError(Tandem_Jsontest_Inner.self, "null")?.path, "$")
  }

  func testNullElementsRejected() {
    let scalar = decodingError(Tandem_Jsontest_Repeated.self, #"{"int32Values": [1, null]}"#)
    XCTAssertEqual(scalar?.kind, .nullNotAllowed)
    XCTAssertEqual(scalar?.path, "$.int32Values[1]")
    let message = decodingError(Tandem_Jsontest_Repeated.self, #"{"inners": [null]}"#)
    XCTAssertEqual(message?.kind, .nullNotAllowed)
    let mapValue = decodingError(Tandem_Jsontest_Maps.self, #"{"stringToInt32": {"a": null}}"#)
    XCTAssertEqual(mapValue?.kind, .nullNotAllowed)
    XCTAssertEqual(mapValue?.path, "$.stringToInt32.a")
  }

  func testDuplicateKeyRejected() {
    let error = decodingError(Tandem_Jsontest_Inner.self, #"{"id": 1, "id": 2}"#)
    XCTAssertEqual(error?.kind, .duplicateKey("id"))
    XCTAssertEqual(error?.path, "$.id")
  }

  func testFieldUnderBothNamesRejected() {
    let error = decodingError(Tandem_Jsontest_Scalars.self, #"{"int32Value": 1, "int32_value": 2}"#)
    XCTAssertEqual(error?.kind, .duplicateField(name: "int32_value"))
    XCTAssertEqual(error?.path, "$.int32_value")
  }

  func testMalformedJSONNamesOffset() {
    let cases: [(String, Int)] = [
      (#"{"id": 1,}"#, 9), (#"{"id" 1}"#, 6), (#"{'id': 1}"#, 1), (#"{"id": 01}"#, 7), (#"{"id": 1} x"#, 10),
      (#"{"id": NaN}"#, 7), (#"{"note": "a"#, 9), (#"{"id": -}"#, 8), (#"{"id": 1."#, 9), ("", 0),
      (#"{"note": "\x"}"#, 10), (#"{"note": "\u12"}"#, 14), (#"{"id": tru}"#, 7), ("{\"note\": \"\u{1}\"}", 10),
    ]
    for (json, offset) in cases {
      guard case .malformedJSON(let actual, _)? = decodingError(Tandem_Jsontest_Inner.self, json)?.kind else {
        XCTFail("\(json): expected malformedJSON")
        continue
      }
      XCTAssertEqual(actual, offset, json)
    }
  }

  func testUnpairedSurrogatesRejected() {
    for json in [#"{"note": "\ud83d"}"#, #"{"note": "\ude00"}"#, #"{"note": "\ud83d\u0041"}"#] {
      guard case .malformedJSON? = decodingError(Tandem_Jsontest_Inner.self, json)?.kind else {
        XCTFail("\(json): expected malformedJSON")
        continue
      }
    }
  }

  func testInvalidUTF8Rejected() {
    let bytes: [UInt8] = Array(#"{"note": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
    XCTAssertThrowsError(try Tandem_Jsontest_Inner(jsonUTF8Bytes: bytes)) { error in
      guard case .malformedJSON(let offset, let reason)? = (error as? JSONDecodingError)?.kind else {
        return XCTFail("expected malformedJSON, got \(error)")
      }
      XCTAssertEqual(offset, 9)
      XCTAssertEqual(reason, "string is not valid UTF-8")
    }
  }

  func testRecursionLimitEnforced() {
    var json = "{}"
    for _ in 0..<101 {
      json = #"{"child":"# + json + "}"
    }
    let error = decodingError(Tandem_Jsontest_Tree.self, json)
    XCTAssertEqual(error?.kind, .recursionLimitExceeded(limit: 100))
    XCTAssertEqual(error?.path.hasPrefix("$.child.child."), true)
  }

  func testRecursionLimitConfigurable() {
    let json = #"{"child": {"child": {"child": {}}}}"#
    let options = JSONDecodingOptions(recursionLimit: 2)
    XCTAssertEqual(decodingError(Tandem_Jsontest_Tree.self, json, options: options)?.kind, .recursionLimitExceeded(limit: 2))
    XCTAssertNoThrow(try Tandem_Jsontest_Tree(jsonString: json, options: JSONDecodingOptions(recursionLimit: 3)))
  }

  func testDeepArraysStopAtLimit() {
    let json = #"{"value": "# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
    let error = decodingError(Tandem_Jsontest_WellKnown.self, json)
    XCTAssertEqual(error?.kind, .recursionLimitExceeded(limit: 100))
  }

  func testInputSizeLimitEnforced() {
    let json = #"{"note": "\#(String(repeating: "a", count: 100))"}"#
    let options = JSONDecodingOptions(maxInputBytes: 64)
    let error = decodingError(Tandem_Jsontest_Inner.self, json, options: options)
    XCTAssertEqual(error?.kind, .inputTooLarge(size: json.utf8.count, limit: 64))
    XCTAssertEqual(
      error?.description,
      "JSON input of \(json.utf8.count) bytes exceeds the limit of 64 bytes (JSONDecodingOptions.maxInputBytes) at $")
  }

  func testRandomInputNeverCrashes() {
    var random = SplitMix64(state: 5)
    let pieces = ["{", "}", "[", "]", ",", ":", "\"id\"", "\"note\"", "\"inner\"", "1", "-0.5e3", "null", "true", "\"\\u00e9\"",
                  "\"int64Value\"", "\"mood\"", "\"MOOD_SAD\"", " ", "\"", "\\"]
    var decoded = 0
    for _ in 0..<2000 {
      let text = (0..<Int.random(in: 1...12, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
      if (try? Tandem_Jsontest_Scalars(jsonString: text)) != nil {
        decoded += 1
      }
    }
    // Some inputs like `{}` are valid; most are not. Reaching here without a crash is the check.
    XCTAssertLessThan(decoded, 2000)
  }
}
