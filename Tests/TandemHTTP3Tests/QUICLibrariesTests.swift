import TandemHTTP3
import XCTest

final class QUICLibrariesTests: XCTestCase {
  func testLibrariesLinkWithExpectedVersions() {
    XCTAssertTrue(QUICLibraries.ngtcp2Version.hasPrefix("0.12."), "ngtcp2 \(QUICLibraries.ngtcp2Version)")
    XCTAssertTrue(QUICLibraries.nghttp3Version.hasPrefix("0.8."), "nghttp3 \(QUICLibraries.nghttp3Version)")
    XCTAssertTrue(QUICLibraries.gnutlsVersion.hasPrefix("3."), "GnuTLS \(QUICLibraries.gnutlsVersion)")
    XCTAssertTrue(QUICLibraries.cryptoHelperLinked)
  }
}
