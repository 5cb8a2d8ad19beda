#ifndef TANDEM_CTANDEMSHIMS_H
#define TANDEM_CTANDEMSHIMS_H

// C functions for the OpenSSL macros and callbacks that Swift cannot import.

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>

#include "udp_shims.h"

/// accept4(2), which glibc declares only under _GNU_SOURCE.
int tandem_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// Names the calling thread (at most 15 bytes are kept). Returns 0 on success.
int tandem_set_thread_name(const char *name);

/// Sets the minimum TLS version (TLS1_2_VERSION, TLS1_3_VERSION). Returns 1 on success.
int tandem_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version);

/// Sets the maximum TLS version, or 0 for the highest the library supports. Returns 1 on success.
int tandem_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version);

/// Disables renegotiation and compression, and lets SSL_write return after each record.
void tandem_ssl_ctx_set_default_options(SSL_CTX *ctx);

/// Installs a server ALPN selection callback over `protocols` in wire format (length-prefixed
/// names). The server picks the first of its own protocols that the client offers. A client
/// that offers ALPN without any of them gets a fatal no_application_protocol alert; a client
/// that offers no ALPN is accepted. The context keeps a copy of `protocols`. Returns 1 on success.
int tandem_ssl_ctx_set_alpn_server_protocols(SSL_CTX *ctx, const uint8_t *protocols, size_t length);

/// Sets the SNI host name that the client sends. Returns 1 on success.
int tandem_ssl_set_tlsext_host_name(SSL *ssl, const char *name);

/// Bytes waiting to be read from a memory BIO.
size_t tandem_bio_pending(BIO *bio);

/// The reason code of an OpenSSL error code (ERR_GET_REASON).
int tandem_err_get_reason(unsigned long code);

#endif
