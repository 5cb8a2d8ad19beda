#define _GNU_SOURCE
#include "udp_shims.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

// Room for IPV6_PKTINFO, IP_PKTINFO, a traffic class or TOS byte and the UDP_GRO segment size.
#define CONTROL_BYTES 128

typedef union {
  char bytes[CONTROL_BYTES];
  struct cmsghdr alignment;
} control_buffer;

static void parse_control(struct msghdr *message, tandem_udp_datagram *datagram) {
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(message); cmsg != NULL; cmsg = CMSG_NXTHDR(message, cmsg)) {
    size_t payload = cmsg->cmsg_len - CMSG_LEN(0);
    const unsigned char *data = CMSG_DATA(cmsg);
    if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO && payload >= sizeof(struct in_pktinfo)) {
      struct in_pktinfo info;
      memcpy(&info, data, sizeof(info));
      datagram->local_family = AF_INET;
      memcpy(datagram->local_address, &info.ipi_addr, 4);
    } else if (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_PKTINFO &&
               payload >= sizeof(struct in6_pktinfo)) {
      struct in6_pktinfo info;
      memcpy(&info, data, sizeof(info));
      datagram->local_family = AF_INET6;
      memcpy(datagram->local_address, &info.ipi6_addr, 16);
    } else if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_TOS && payload >= 1) {
      datagram->ecn = data[0] & 0x3;
    } else if (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_TCLASS && payload >= sizeof(int)) {
      int traffic_class;
      memcpy(&traffic_class, data, sizeof(traffic_class));
      datagram->ecn = traffic_class & 0x3;
    } else if (cmsg->cmsg_level == SOL_UDP && cmsg->cmsg_type == UDP_GRO) {
      // The kernel writes an int; accept a 16-bit value as well.
      if (payload >= sizeof(int)) {
        int size;
        memcpy(&size, data, sizeof(size));
        datagram->gro_segment_size = size;
      } else if (payload >= sizeof(uint16_t)) {
        uint16_t size;
        memcpy(&size, data, sizeof(size));
        datagram->gro_segment_size = size;
      }
    }
  }
}

int tandem_udp_recvmmsg(int fd, tandem_udp_datagram *datagrams, unsigned int count) {
  if (count > TANDEM_UDP_MAX_RECEIVE_BATCH) count = TANDEM_UDP_MAX_RECEIVE_BATCH;
  if (count == 0) return 0;

  struct mmsghdr messages[TANDEM_UDP_MAX_RECEIVE_BATCH];
  struct iovec vectors[TANDEM_UDP_MAX_RECEIVE_BATCH];
  control_buffer controls[TANDEM_UDP_MAX_RECEIVE_BATCH];
  memset(messages, 0, sizeof(struct mmsghdr) * count);
  for (unsigned int i = 0; i < count; i++) {
    vectors[i].iov_base = datagrams[i].buffer;
    vectors[i].iov_len = datagrams[i].capacity;
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    messages[i].msg_hdr.msg_name = &datagrams[i].remote;
    messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    messages[i].msg_hdr.msg_control = controls[i].bytes;
    messages[i].msg_hdr.msg_controllen = CONTROL_BYTES;
  }

  int received;
  do {
    received = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL);
  } while (received < 0 && errno == EINTR);
  if (received < 0) return -errno;

  for (int i = 0; i < received; i++) {
    tandem_udp_datagram *datagram = &datagrams[i];
    datagram->length = messages[i].msg_len;
    datagram->remote_length = messages[i].msg_hdr.msg_namelen;
    datagram->local_family = 0;
    datagram->ecn = -1;
    datagram->gro_segment_size = 0;
    datagram->truncated = (messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    parse_control(&messages[i].msg_hdr, datagram);
  }
  return received;
}

ssize_t tandem_udp_sendmsg(int fd, const struct sockaddr *address, socklen_t address_length,
                           const void *bytes, size_t length, uint16_t segment_size) {
  struct iovec vector = {.iov_base = (void *)bytes, .iov_len = length};
  struct msghdr message;
  memset(&message, 0, sizeof(message));
  message.msg_name = (void *)address;
  message.msg_namelen = address_length;
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  control_buffer control;
  if (segment_size != 0) {
    memset(&control, 0, sizeof(control));
    message.msg_control = control.bytes;
    message.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&message);
    cmsg->cmsg_level = SOL_UDP;
    cmsg->cmsg_type = UDP_SEGMENT;
    cmsg->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(cmsg), &segment_size, sizeof(segment_size));
  }
  ssize_t sent;
  do {
    sent = sendmsg(fd, &message, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent < 0 ? -errno : sent;
}

static int set_int_option(int fd, int level, int option) {
  int one = 1;
  return setsockopt(fd, level, option, &one, sizeof(one)) == 0 ? 0 : -errno;
}

int tandem_udp_enable_receive_info(int fd, int family) {
  int first_error = 0;
  int results[4] = {0, 0, 0, 0};
  if (family == AF_INET6) {
    results[0] = set_int_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO);
    results[1] = set_int_option(fd, IPPROTO_IPV6, IPV6_RECVTCLASS);
    // Only a dual-stack socket receives IPv4 traffic; on an IPv6-only one these options are harmless.
    (void)set_int_option(fd, IPPROTO_IP, IP_PKTINFO);
    (void)set_int_option(fd, IPPROTO_IP, IP_RECVTOS);
  } else {
    results[0] = set_int_option(fd, IPPROTO_IP, IP_PKTINFO);
    results[1] = set_int_option(fd, IPPROTO_IP, IP_RECVTOS);
  }
  for (int i = 0; i < 4; i++) {
    if (results[i] != 0 && first_error == 0) first_error = results[i];
  }
  return first_error;
}

int tandem_udp_enable_gro(int fd) {
  return set_int_option(fd, SOL_UDP, UDP_GRO);
}

static int set_value_option(int fd, int level, int option, int value) {
  return setsockopt(fd, level, option, &value, sizeof(value)) == 0 ? 0 : -errno;
}

int tandem_udp_set_dont_fragment(int fd, int family) {
  if (family == AF_INET6) {
    int result = set_value_option(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
    // Only a dual-stack socket sends IPv4 traffic; on an IPv6-only one this option is harmless.
    (void)set_value_option(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
    return result;
  }
  return set_value_option(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
}

int tandem_udp_route_mtu(const struct sockaddr *address, socklen_t address_length) {
  int fd = socket(address->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int result;
  if (connect(fd, address, address_length) != 0) {
    result = -errno;
  } else {
    int mtu = 0;
    socklen_t length = sizeof(mtu);
    int level = address->sa_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    int option = address->sa_family == AF_INET6 ? IPV6_MTU : IP_MTU;
    result = getsockopt(fd, level, option, &mtu, &length) == 0 ? mtu : -errno;
  }
  close(fd);
  return result;
}
