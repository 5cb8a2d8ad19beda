import TandemCore
import XCTest

/// The public initializers that let users call handlers without a server.
final class HandlerTestingTests: XCTestCase {
  func testRequestStreamYieldsMessages() async throws {
    let requests = RequestStream([TestMessage("a"), TestMessage("b")])
    var texts: [String] = []
    for try await request in requests { texts.append(request.text) }
    XCTAssertEqual(texts, ["a", "b"])
  }

  func testResponseWriterPassesMessages() async throws {
    let written = Box<[String]>([])
    let writer = ResponseWriter<TestMessage> { message in written.update { $0.append(message.text) } }
    try await writer.write(contentsOf: [TestMessage("x"), TestMessage("y")])
    XCTAssertEqual(written.value, ["x", "y"])
  }

  func testServerContextMetadataIsSettable() {
    let context = ServerContext(method: TestMethods.get)
    context.initialResponseMetadata.addString("1", forKey: "a")
    context.trailingResponseMetadata = ["b": "2"]
    XCTAssertEqual(context.initialResponseMetadata[stringValues: "a"], ["1"])
    XCTAssertEqual(context.trailingResponseMetadata[stringValues: "b"], ["2"])
    XCTAssertFalse(context.isCancelled)
    XCTAssertNil(context.deadline)
  }
}
