#if canImport(Glibc)
import Glibc
#endif
import CTandemShims

/// The receive slots of one UDP socket and the conversion of a `recvmmsg` result into
/// ``UDPDatagram`` values. Allocated once per socket and reused for every read.
final class UDPReceiveBatch {
  let slotCount: Int
  let slotSize: Int
  private let slots: UnsafeMutablePointer<tandem_udp_datagram>
  private let storage: UnsafeMutableRawPointer
  /// Buffers that UDP GRO coalesced from several datagrams, for tests of the split.
  private(set) var coalescedBufferCount = 0
  /// The socket's port, for ``UDPDatagram/localAddress``.
  private let localPort: Int

  // Peers and local addresses repeat, so the last conversion of each is kept to avoid an
  // array allocation per datagram.
  private var cachedRemoteStorage = sockaddr_storage()
  private var cachedRemoteLength: socklen_t = 0
  private var cachedRemote: SocketAddress?
  private var cachedLocalFamily: Int32 = 0
  private var cachedLocalBytes: (UInt64, UInt64) = (0, 0)
  private var cachedLocal: SocketAddress?

  init(slotCount: Int, slotSize: Int, localPort: Int) {
    self.slotCount = slotCount
    self.slotSize = slotSize
    self.localPort = localPort
    slots = .allocate(capacity: slotCount)
    storage = .allocate(byteCount: slotCount * slotSize, alignment: 16)
    for index in 0..<slotCount {
      var slot = tandem_udp_datagram()
      slot.buffer = storage.advanced(by: index * slotSize).assumingMemoryBound(to: UInt8.self)
      slot.capacity = slotSize
      (slots + index).initialize(to: slot)
    }
  }

  deinit {
    slots.deinitialize(count: slotCount)
    slots.deallocate()
    storage.deallocate()
  }

  /// Reads up to ``slotCount`` datagrams from `fd`. Returns the count, or the negated errno.
  func receive(fd: Int32) -> Int {
    Int(tandem_udp_recvmmsg(fd, slots, UInt32(slotCount)))
  }

  /// Appends the first `count` slots to `datagrams`, split at the GRO segment size where the
  /// kernel coalesced them. Returns how many datagrams were dropped because they were cut short.
  func collect(count: Int, into datagrams: inout [UDPDatagram]) -> Int {
    var truncated = 0
    for index in 0..<count {
      let slot = slots + index
      if slot.pointee.truncated != 0 {
        truncated += 1
        continue
      }
      guard let remote = remoteAddress(of: slot) else { continue }
      let local = localAddress(of: slot)
      let ecn: UInt8? = slot.pointee.ecn >= 0 ? UInt8(slot.pointee.ecn) : nil
      let payload = UnsafeRawBufferPointer(start: slot.pointee.buffer, count: slot.pointee.length)
      let segmentSize = Int(slot.pointee.gro_segment_size)

      guard segmentSize > 0, payload.count > segmentSize else {
        datagrams.append(UDPDatagram(bytes: payload, remoteAddress: remote, localAddress: local, ecn: ecn))
        continue
      }
      coalescedBufferCount += 1
      var offset = 0
      while offset < payload.count {
        let end = min(offset + segmentSize, payload.count)
        let segment = UnsafeRawBufferPointer(rebasing: payload[offset..<end])
        datagrams.append(UDPDatagram(bytes: segment, remoteAddress: remote, localAddress: local, ecn: ecn))
        offset = end
      }
    }
    return truncated
  }

  private func remoteAddress(of slot: UnsafeMutablePointer<tandem_udp_datagram>) -> SocketAddress? {
    let length = slot.pointee.remote_length
    let sameAsCached = withUnsafeBytes(of: &slot.pointee.remote) { received in
      withUnsafeBytes(of: &cachedRemoteStorage) { cached in
        length == cachedRemoteLength && memcmp(received.baseAddress!, cached.baseAddress!, Int(length)) == 0
      }
    }
    if sameAsCached, let cachedRemote {
      return cachedRemote
    }
    let converted = withUnsafePointer(to: &slot.pointee.remote) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(sockaddr: $0) }
    }
    cachedRemoteStorage = slot.pointee.remote
    cachedRemoteLength = length
    cachedRemote = converted
    return converted
  }

  private func localAddress(of slot: UnsafeMutablePointer<tandem_udp_datagram>) -> SocketAddress? {
    let family = slot.pointee.local_family
    let bytes = withUnsafeBytes(of: &slot.pointee.local_address) {
      ($0.loadUnaligned(fromByteOffset: 0, as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }
    if family == cachedLocalFamily, bytes == cachedLocalBytes {
      return cachedLocal
    }
    var converted: SocketAddress?
    switch family {
    case AF_INET:
      let address = withUnsafeBytes(of: &slot.pointee.local_address) { Array($0.prefix(4)) }
      converted = SocketAddress(family: .ipv4, addressBytes: address, port: localPort, scopeID: 0)
    case AF_INET6:
      let address = withUnsafeBytes(of: &slot.pointee.local_address) { Array($0) }
      converted = SocketAddress(family: .ipv6, addressBytes: address, port: localPort, scopeID: 0)
    default:
      converted = nil
    }
    cachedLocalFamily = family
    cachedLocalBytes = bytes
    cachedLocal = converted
    return converted
  }
}
