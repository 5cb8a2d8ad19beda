import CQUIC
import Glibc
import TandemHTTP
import TandemIO

/// The server side of one UDP socket: finds each datagram's connection by its destination
/// connection ID, creates connections from Initial packets, and replies to packets without a
/// connection with version negotiation, Retry or a stateless reset.
///
/// Everything runs on the socket's event loop.
final class QUICServerEndpoint: UDPSocketHandler, @unchecked Sendable {
  /// The length of the connection IDs this server issues.
  static let connectionIDLength = 18
  /// Retry tokens are accepted for this long after they were issued.
  static let retryTokenLifetime: Duration = .seconds(10)
  /// NEW_TOKEN tokens are accepted for this long after they were issued.
  static let regularTokenLifetime: Duration = .seconds(3600)
  /// At most this many stateless resets go out per second.
  static let statelessResetsPerSecond = 100

  let configuration: HTTP3Configuration
  let eventLoop: EventLoop
  let tls: GnuTLSServerContext
  let acceptor: any HTTPServerStreamAcceptor
  let logger: HTTPTransportLogger
  /// Whether the latest new connection needed a Retry because of many half-open ones.
  private var retryingForLoad = false
  let statelessResetSecret = QUICConnection.randomBytes(32)
  let tokenSecret = QUICConnection.randomBytes(32)
  let packets: PacketBuffer
  var socket: UDPSocket?

  private var byID: [ConnectionIDKey: QUICConnection] = [:]
  private var connections: [ObjectIdentifier: QUICConnection] = [:]
  private var shuttingDown = false
  private var resetWindowStart: UInt64 = 0
  private var resetsInWindow = 0
  /// Called on the loop once the socket is closed and the last connection has gone.
  var onClosed: (() -> Void)?
  private var socketClosed = false

  // Counters for tests and metrics.
  private(set) var retriesSent = 0
  private(set) var versionNegotiationsSent = 0
  private(set) var statelessResetsSent = 0

  init(
    configuration: HTTP3Configuration, eventLoop: EventLoop, tls: GnuTLSServerContext,
    acceptor: any HTTPServerStreamAcceptor, logger: HTTPTransportLogger
  ) {
    self.logger = logger
    self.configuration = configuration
    self.eventLoop = eventLoop
    self.tls = tls
    self.acceptor = acceptor
    packets = PacketBuffer(for: configuration)
  }

  var connectionCount: Int { connections.count }

  // MARK: UDPSocketHandler

  func socket(_ socket: UDPSocket, didReceive datagrams: [UDPDatagram]) {
    // The socket reads from the moment it is bound, and the loop can deliver a datagram before
    // the task that stores the socket here runs. Without this, the first connections would
    // have no socket to send from, and their handshakes would stall until the client gave up.
    if self.socket == nil && !socketClosed {
      self.socket = socket
    }
    var touched: [QUICConnection] = []
    for datagram in datagrams {
      if let connection = handle(datagram, on: socket), !touched.contains(where: { $0 === connection }) {
        touched.append(connection)
      }
    }
    for connection in touched {
      connection.deliverInbound()
      connection.scheduleWrite()
    }
  }

  func socket(_ socket: UDPSocket, didFailToSend error: IOError) {
    // QUIC's loss recovery resends what the dropped datagrams carried.
  }

  func socketDidClose(_ socket: UDPSocket, error: IOError?) {
    socketClosed = true
    if error != nil {
      for connection in Array(connections.values) {
        connection.tearDown(detail: "the server's UDP socket failed: \(error!)")
      }
    }
    finishIfClosed()
  }

  // MARK: Dispatch

  private func handle(_ datagram: UDPDatagram, on socket: UDPSocket) -> QUICConnection? {
    guard let base = datagram.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), datagram.bytes.count > 0 else {
      return nil
    }
    var versionCID = ngtcp2_version_cid()
    let decoded = ngtcp2_pkt_decode_version_cid(&versionCID, base, datagram.bytes.count, Self.connectionIDLength)
    if decoded == NGTCP2_ERR_VERSION_NEGOTIATION {
      sendVersionNegotiation(versionCID, to: datagram.remoteAddress)
      return nil
    }
    guard decoded == 0 else { return nil }
    let dcid: UnsafePointer<UInt8>? = versionCID.dcid
    guard let dcid, let key = ConnectionIDKey(dcid, count: versionCID.dcidlen) else { return nil }
    let local = datagram.localAddress ?? socket.localAddress
    if let connection = byID[key] {
      connection.receive(datagram.bytes, local: local, remote: datagram.remoteAddress, ecn: datagram.ecn)
      return connection
    }
    if base[0] & 0x80 == 0 {
      let destination = Array(UnsafeBufferPointer(start: dcid, count: versionCID.dcidlen))
      sendStatelessReset(for: destination, triggerSize: datagram.bytes.count, to: datagram.remoteAddress)
      return nil
    }
    guard !shuttingDown else { return nil }
    return accept(datagram, local: local)
  }

  private func accept(_ datagram: UDPDatagram, local: SocketAddress) -> QUICConnection? {
    let base = datagram.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
    var header = ngtcp2_pkt_hd()
    let accepted = ngtcp2_accept(&header, base, datagram.bytes.count)
    if accepted == NGTCP2_ERR_RETRY {
      sendRetry(header, to: datagram.remoteAddress)
      return nil
    }
    guard accepted == 0 else { return nil }
    // RFC 9000, section 14.1: a client's Initial travels in a datagram of at least 1200 bytes.
    guard datagram.bytes.count >= 1200 else { return nil }

    var originalDestination: ngtcp2_cid?
    var tokenValidated = false
    if let tokenBase = header.token.base, header.token.len > 0 {
      switch tokenBase[0] {
      case UInt8(NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY):
        var odcid = ngtcp2_cid()
        let result = tokenSecret.withUnsafeBufferPointer { secret in
          datagram.remoteAddress.withSockAddr { address, length in
            ngtcp2_crypto_verify_retry_token(
              &odcid, tokenBase, header.token.len, secret.baseAddress, secret.count, header.version, address, length,
              &header.dcid, QUICClock.nanoseconds(Self.retryTokenLifetime), QUICClock.wallClock())
          }
        }
        guard result == 0 else {
          sendInvalidToken(header, to: datagram.remoteAddress)
          return nil
        }
        originalDestination = odcid
        tokenValidated = true
      case UInt8(NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR):
        let result = tokenSecret.withUnsafeBufferPointer { secret in
          datagram.remoteAddress.withSockAddr { address, length in
            ngtcp2_crypto_verify_regular_token(
              tokenBase, header.token.len, secret.baseAddress, secret.count, address, length,
              QUICClock.nanoseconds(Self.regularTokenLifetime), QUICClock.wallClock())
          }
        }
        tokenValidated = result == 0
      default:
        break
      }
    }
    if !tokenValidated && needsRetry() {
      sendRetry(header, to: datagram.remoteAddress)
      return nil
    }

    let connection = QUICConnection(
      role: .server, configuration: configuration, eventLoop: eventLoop, socket: socket, localAddress: local,
      remoteAddress: datagram.remoteAddress, packets: packets)
    connection.endpoint = self
    connection.acceptor = acceptor
    do {
      try connection.startServer(
        header: header, originalDestination: originalDestination, tokenValidated: tokenValidated, tls: tls,
        resetSecret: statelessResetSecret)
    } catch {
      logger.log(.warning, "creating a QUIC connection failed", [("peer", datagram.remoteAddress.description), ("error", "\(error)")])
      connection.endpoint = nil
      connection.releaseLibraries()
      return nil
    }
    connection.logger = logger
    logger.log(.debug, "QUIC connection accepted", connection.logMetadata + [("address_validated", tokenValidated ? "yes" : "no")])
    connections[ObjectIdentifier(connection)] = connection
    let original = QUICConnection.bytes(of: &header.dcid)
    connection.originalDestinationID = original
    register(original, for: connection)
    connection.receive(datagram.bytes, local: local, remote: datagram.remoteAddress, ecn: datagram.ecn)
    return connection.isTornDown ? nil : connection
  }

  private func needsRetry() -> Bool {
    switch configuration.addressValidation {
    case .always:
      return true
    case .never:
      return false
    case .automatic(let limit):
      var halfOpen = 0
      for connection in connections.values where !connection.handshakeCompleted {
        halfOpen += 1
        if halfOpen >= limit { break }
      }
      let overLimit = halfOpen >= limit
      if overLimit != retryingForLoad {
        retryingForLoad = overLimit
        logger.log(
          .info, overLimit ? "many half-open QUIC handshakes; new connections get a Retry" : "half-open QUIC handshakes below the limit; Retry off",
          [("half_open", String(halfOpen)), ("limit", String(limit))])
      }
      return overLimit
    }
  }

  // MARK: Connection table

  func register(_ id: [UInt8], for connection: QUICConnection) {
    guard let key = ConnectionIDKey(id) else { return }
    byID[key] = connection
    connection.registeredIDs.insert(id)
  }

  func unregister(_ id: [UInt8], for connection: QUICConnection) {
    if let key = ConnectionIDKey(id), byID[key] === connection {
      byID[key] = nil
    }
    connection.registeredIDs.remove(id)
  }

  func connectionDidClose(_ connection: QUICConnection) {
    for id in connection.registeredIDs {
      if let key = ConnectionIDKey(id), byID[key] === connection {
        byID[key] = nil
      }
    }
    connection.registeredIDs.removeAll()
    connections[ObjectIdentifier(connection)] = nil
    connection.endpoint = nil
    finishIfClosed()
  }

  // MARK: Shutdown

  func beginGracefulShutdown() {
    shuttingDown = true
    for connection in Array(connections.values) {
      connection.beginGracefulShutdown()
    }
    finishIfClosed()
  }

  func closeNow() {
    shuttingDown = true
    for connection in Array(connections.values) {
      connection.close(applicationError: UInt64(NGHTTP3_H3_NO_ERROR), detail: "the server closed the connection")
    }
    finishIfClosed()
  }

  /// Closes the socket once shutdown has begun and no connection is left, then reports the
  /// end through `onClosed` once the socket has closed too.
  private func finishIfClosed() {
    if shuttingDown && connections.isEmpty && !socketClosed, let socket {
      socket.close()
      return
    }
    guard socketClosed, connections.isEmpty, let onClosed else { return }
    self.onClosed = nil
    socket = nil
    onClosed()
  }

  // MARK: Stateless replies

  private func send(_ count: Int, to destination: SocketAddress) {
    guard let socket, count > 0 else { return }
    try? socket.send(UnsafeRawBufferPointer(start: packets.base, count: count), to: destination)
  }

  private func sendVersionNegotiation(_ versionCID: ngtcp2_version_cid, to destination: SocketAddress) {
    var versions: [UInt32] = [UInt32(NGTCP2_PROTO_VER_V1)]
    let random = QUICConnection.randomBytes(1)[0] & 0x7f
    let written = ngtcp2_pkt_write_version_negotiation(
      packets.base, packets.packetCapacity, random, versionCID.scid, versionCID.scidlen, versionCID.dcid,
      versionCID.dcidlen, &versions, versions.count)
    if written > 0 {
      versionNegotiationsSent += 1
      send(Int(written), to: destination)
    }
  }

  private func sendRetry(_ header: ngtcp2_pkt_hd, to destination: SocketAddress) {
    var header = header
    var retryID = QUICConnection.makeCID(QUICConnection.randomBytes(Self.connectionIDLength))
    var token = [UInt8](repeating: 0, count: 128)
    let tokenLength = tokenSecret.withUnsafeBufferPointer { secret in
      destination.withSockAddr { address, length in
        ngtcp2_crypto_generate_retry_token(
          &token, secret.baseAddress, secret.count, header.version, address, length, &retryID, &header.dcid,
          QUICClock.wallClock())
      }
    }
    guard tokenLength > 0 else { return }
    let written = ngtcp2_crypto_write_retry(
      packets.base, packets.packetCapacity, header.version, &header.scid, &retryID, &header.dcid, token, Int(tokenLength))
    if written > 0 {
      retriesSent += 1
      send(Int(written), to: destination)
    }
  }

  private func sendInvalidToken(_ header: ngtcp2_pkt_hd, to destination: SocketAddress) {
    var header = header
    let written = ngtcp2_crypto_write_connection_close(
      packets.base, packets.packetCapacity, header.version, &header.scid, &header.dcid, UInt64(NGTCP2_INVALID_TOKEN), nil, 0)
    send(Int(written), to: destination)
  }

  /// RFC 9000, section 10.3: a short-header packet for an unknown connection gets a
  /// stateless reset, smaller than the packet that caused it, at a bounded rate.
  private func sendStatelessReset(for destination: [UInt8], triggerSize: Int, to address: SocketAddress) {
    // The smallest reset is 21 bytes (RFC 9000, section 10.3) and it must be shorter than the trigger.
    guard destination.count == Self.connectionIDLength, triggerSize > 22 else { return }
    let now = QUICClock.now()
    if now &- resetWindowStart > 1_000_000_000 {
      resetWindowStart = now
      resetsInWindow = 0
    }
    guard resetsInWindow < Self.statelessResetsPerSecond else { return }
    resetsInWindow += 1
    var cid = QUICConnection.makeCID(destination)
    var token = [UInt8](repeating: 0, count: Int(NGTCP2_STATELESS_RESET_TOKENLEN))
    let generated = statelessResetSecret.withUnsafeBufferPointer {
      ngtcp2_crypto_generate_stateless_reset_token(&token, $0.baseAddress, $0.count, &cid)
    }
    guard generated == 0 else { return }
    let randomLength = min(triggerSize - 1 - token.count - 1, 40)
    guard randomLength >= Int(NGTCP2_MIN_STATELESS_RESET_RANDLEN) else { return }
    let random = QUICConnection.randomBytes(randomLength)
    let written = ngtcp2_pkt_write_stateless_reset(packets.base, packets.packetCapacity, token, random, random.count)
    if written > 0 {
      statelessResetsSent += 1
      send(Int(written), to: address)
    }
  }
}
