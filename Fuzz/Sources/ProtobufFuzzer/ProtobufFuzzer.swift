import TandemProtobuf

/// Checks one fuzzer input. The first input byte picks a decoder and message type, and the remaining
/// bytes are the encoded message.
///
/// Decoding may fail with a typed error; that is expected. The fuzzer reports a crash, an
/// AddressSanitizer error, a timeout or an allocation above `-rss_limit_mb`/`-malloc_limit_mb`.
/// A message that decodes must also encode again, and our own output must decode: a failure there
/// stops the run with `fatalError`.
func checkInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let start, count > 0 else {
    return 0
  }
  let input = UnsafeBufferPointer(start: start, count: count)
  let payload = Array(input.dropFirst())

  switch input[0] % 8 {
  case 0: checkBinary(Tandem_Test_Everything.self, payload)
  case 1: checkBinary(Tandem_Test2_Proto2.self, payload, options: DecodingOptions(allowPartial: true))
  case 2:
    let options = DecodingOptions(extensions: Tandem_Test2_TandemTestRequired_Extensions.registry)
    checkBinary(Tandem_Test2_Extendable.self, payload, options: options)
  case 3: checkBinary(Tandem_Test2_Outer.self, payload, options: DecodingOptions(recursionLimit: 20))
  case 4: checkJSON(Tandem_Jsontest_Root.self, payload)
  case 5: checkJSON(Tandem_Jsontest_WellKnown.self, payload, options: JSONDecodingOptions(ignoreUnknownFields: true))
  case 6: checkJSON(Tandem_Jsontest2_Legacy.self, payload)
  default: checkBinary(Tandem_Pbc3_Sample.self, payload, options: DecodingOptions(discardUnknownFields: true))
  }
  return 0
}

/// Checks one input under libFuzzer's C name. `-sanitize=fuzzer` links libFuzzer's whole runtime, which refers to it.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzerTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  checkInput(start, count)
}

func checkBinary<M: Message>(_ type: M.Type, _ bytes: [UInt8], options: DecodingOptions = DecodingOptions()) {
  guard let message = try? M(serializedBytes: bytes, options: options) else {
    return
  }
  let encoded: [UInt8]
  do {
    encoded = try message.serializedBytes(partial: true)
  } catch {
    fatalError("\(M.protoMessageName) decoded but failed to encode: \(error)")
  }
  var again = options
  again.allowPartial = true
  do {
    _ = try M(serializedBytes: encoded, options: again)
  } catch {
    fatalError("\(M.protoMessageName) failed to decode its own encoding: \(error)")
  }
}

func checkJSON<M: JSONCodableMessage>(_ type: M.Type, _ bytes: [UInt8], options: JSONDecodingOptions = JSONDecodingOptions()) {
  guard let message = try? M(jsonUTF8Bytes: bytes, options: options) else {
    return
  }
  // Encoding may fail for values that JSON cannot express (an Any of an unregistered type, for
  // example); a JSON text that we produced must decode.
  guard let encoded = try? message.jsonUTF8Bytes() else {
    return
  }
  do {
    _ = try M(jsonUTF8Bytes: encoded, options: options)
  } catch {
    fatalError("\(M.protoMessageName) failed to decode its own JSON \(String(decoding: encoded, as: UTF8.self)): \(error)")
  }
  _ = try? message.serializedBytes(partial: true)
}
