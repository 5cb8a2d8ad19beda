#ifndef TANDEM_UDP_SHIMS_H
#define TANDEM_UDP_SHIMS_H

// C functions for the UDP socket: recvmmsg and sendmsg with the control messages (CMSG_*
// macros) that Swift cannot import.

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

/// The maximum number of datagrams one tandem_udp_recvmmsg call reads.
#define TANDEM_UDP_MAX_RECEIVE_BATCH 64

/// One receive slot. The caller sets `buffer` and `capacity`; tandem_udp_recvmmsg fills the rest.
typedef struct {
  uint8_t *buffer;
  size_t capacity;
  /// Bytes received into `buffer`.
  size_t length;
  /// The sender's address and its length.
  struct sockaddr_storage remote;
  socklen_t remote_length;
  /// The destination address of the datagram (IP_PKTINFO or IPV6_PKTINFO): AF_INET with 4
  /// bytes, AF_INET6 with 16 bytes, or 0 when the kernel sent no packet info.
  int local_family;
  uint8_t local_address[16];
  /// The ECN bits (the low two bits of the TOS or traffic class byte), or -1 when unknown.
  int ecn;
  /// The segment size of a buffer that UDP GRO coalesced from several datagrams, 0 otherwise.
  int gro_segment_size;
  /// 1 when the datagram was larger than `capacity` and the kernel cut it (MSG_TRUNC).
  int truncated;
} tandem_udp_datagram;

/// Reads up to `count` datagrams (at most TANDEM_UDP_MAX_RECEIVE_BATCH) with one nonblocking
/// recvmmsg call. Returns the number read, or -errno on failure (EINTR is retried).
int tandem_udp_recvmmsg(int fd, tandem_udp_datagram *datagrams, unsigned int count);

/// Sends `length` bytes to `address` with one sendmsg call and MSG_NOSIGNAL. A nonzero
/// `segment_size` adds a UDP_SEGMENT control message, so the kernel splits the buffer into
/// datagrams of that size (UDP GSO; the last one may be shorter). Returns the bytes sent, or
/// -errno on failure (EINTR is retried).
ssize_t tandem_udp_sendmsg(int fd, const struct sockaddr *address, socklen_t address_length,
                           const void *bytes, size_t length, uint16_t segment_size);

/// Asks the kernel for packet info and ECN bits on received datagrams: IP_PKTINFO and IP_RECVTOS
/// for AF_INET, IPV6_RECVPKTINFO and IPV6_RECVTCLASS for AF_INET6 (plus the IPv4 options, for
/// IPv4-mapped traffic on a dual-stack socket). Returns 0 when every option was set, else -errno
/// of the first failure.
int tandem_udp_enable_receive_info(int fd, int family);

/// Turns on UDP GRO (setsockopt SOL_UDP/UDP_GRO, Linux 5.0 and later). Returns 0 or -errno.
int tandem_udp_enable_gro(int fd);

/// Sets the Don't Fragment bit on every datagram and keeps the kernel from fragmenting them:
/// IP_MTU_DISCOVER = IP_PMTUDISC_PROBE for AF_INET, IPV6_MTU_DISCOVER = IPV6_PMTUDISC_PROBE for
/// AF_INET6 (plus the IPv4 option for IPv4-mapped traffic). A datagram larger than the
/// interface MTU then fails to send with EMSGSIZE. Returns 0 or -errno of the first failure.
int tandem_udp_set_dont_fragment(int fd, int family);

/// Returns the MTU of the kernel's route to `address` (IP_MTU or IPV6_MTU of a new
/// datagram socket connected to it), or -errno when it cannot be read. Sends nothing.
int tandem_udp_route_mtu(const struct sockaddr *address, socklen_t address_length);

#endif
