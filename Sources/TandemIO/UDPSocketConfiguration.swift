/// Settings of a ``UDPSocket``, checked by ``UDPSocket/bind(host:port:on:configuration:handler:)``.
public struct UDPSocketConfiguration: Sendable {
  /// The largest datagram a receive slot holds, 1 through 65,535 bytes; default 2,048.
  ///
  /// A larger datagram arrives cut short, so the socket drops it and counts it in
  /// ``UDPSocket/truncatedDatagramCount``. QUIC needs at least 1,200. With
  /// ``receiveOffload`` on, every slot is 65,535 bytes, because a coalesced buffer is up to 64 KiB.
  public var maxDatagramSize = 2048

  /// The maximum number of datagrams one `recvmmsg` call reads, 1 through 64; default 32.
  ///
  /// The socket keeps this many receive slots of ``maxDatagramSize`` bytes for its lifetime.
  public var receiveBatchSize = 32

  /// The `SO_RCVBUF` value requested, 1 through `Int32.max` bytes; default 4 MiB.
  ///
  /// Linux doubles the request for its bookkeeping and caps it at twice
  /// `net.core.rmem_max` (often 208 KiB by default), so raise that sysctl for high rates.
  /// ``UDPSocket/receiveBufferSize`` returns the size the kernel granted.
  public var receiveBufferSize = 4 * 1024 * 1024

  /// The `SO_SNDBUF` value requested, 1 through `Int32.max` bytes; default 4 MiB.
  ///
  /// Capped the same way by `net.core.wmem_max`. ``UDPSocket/sendBufferSize`` returns the
  /// size the kernel granted.
  public var sendBufferSize = 4 * 1024 * 1024

  /// Whether to turn on UDP GRO (`UDP_GRO`, Linux 5.0 and later); default `false`.
  ///
  /// The kernel may then coalesce several datagrams from one sender into one buffer. The socket
  /// splits such a buffer at the segment size the kernel reports, so the handler still gets
  /// one ``UDPDatagram`` per datagram.
  public var receiveOffload = false

  /// Whether every datagram carries the Don't Fragment bit and the kernel never fragments one;
  /// default `false`.
  ///
  /// QUIC requires this (RFC 9000, section 14). With it on, a datagram larger than the
  /// interface MTU fails to send with `EMSGSIZE` instead of leaving in fragments. The socket
  /// sets `IP_PMTUDISC_PROBE` (and `IPV6_PMTUDISC_PROBE`), so the kernel's cached path MTU does
  /// not block larger probes.
  public var dontFragment = false

  /// The maximum number of bytes queued while the kernel send buffer is full, 0 through `Int.max`;
  /// default 1 MiB. A send beyond it throws, so 0 makes every send that finds the kernel
  /// buffer full throw.
  public var maxPendingSendBytes = 1024 * 1024

  /// Creates the default configuration.
  public init() {}

  /// The size of one receive slot: ``maxDatagramSize``, or 65,535 bytes with ``receiveOffload``.
  var receiveSlotSize: Int {
    receiveOffload ? 65_535 : maxDatagramSize
  }

  /// Throws an ``IOError`` naming the first value outside its range.
  func validate(address: String) throws(IOError) {
    try Self.check("maxDatagramSize", maxDatagramSize, 1...65_535, address: address)
    try Self.check("receiveBatchSize", receiveBatchSize, 1...64, address: address)
    try Self.check("receiveBufferSize", receiveBufferSize, 1...Int(Int32.max), address: address)
    try Self.check("sendBufferSize", sendBufferSize, 1...Int(Int32.max), address: address)
    try Self.check("maxPendingSendBytes", maxPendingSendBytes, 0...Int.max, address: address)
  }

  private static func check(
    _ name: String, _ value: Int, _ range: ClosedRange<Int>, address: String
  ) throws(IOError) {
    guard range.contains(value) else {
      throw IOError(
        operation: "bind", address: address, errnoCode: nil,
        reason: "UDPSocketConfiguration.\(name) is \(value); it must be in \(range.lowerBound)...\(range.upperBound)")
    }
  }
}
