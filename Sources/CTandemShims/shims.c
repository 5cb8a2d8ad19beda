#define _GNU_SOURCE
#include "CTandemShims.h"

#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <openssl/err.h>

int tandem_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
  return accept4(fd, address, length, flags);
}

int tandem_set_thread_name(const char *name) {
  return pthread_setname_np(pthread_self(), name);
}

int tandem_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
  return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

int tandem_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
  return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

void tandem_ssl_ctx_set_default_options(SSL_CTX *ctx) {
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
}

// The copy of the server's ALPN list lives in the context's ex_data slot, freed with the context.
static int alpn_index = -1;
static pthread_once_t alpn_index_once = PTHREAD_ONCE_INIT;

typedef struct {
  size_t length;
  uint8_t bytes[];
} alpn_list;

static void alpn_list_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
  (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
  free(ptr);
}

static void alpn_index_init(void) {
  alpn_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, alpn_list_free);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
  (void)ssl;
  const alpn_list *list = (const alpn_list *)arg;
  unsigned char *selected = NULL;
  unsigned char selected_length = 0;
  // Server preference order: SSL_select_next_proto walks the first list and looks each name up in the second.
  int result = SSL_select_next_proto(&selected, &selected_length, list->bytes, (unsigned int)list->length, in, inlen);
  if (result != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  *outlen = selected_length;
  return SSL_TLSEXT_ERR_OK;
}

int tandem_ssl_ctx_set_alpn_server_protocols(SSL_CTX *ctx, const uint8_t *protocols, size_t length) {
  pthread_once(&alpn_index_once, alpn_index_init);
  if (alpn_index < 0) return 0;
  alpn_list *list = malloc(sizeof(alpn_list) + length);
  if (list == NULL) return 0;
  list->length = length;
  memcpy(list->bytes, protocols, length);
  if (SSL_CTX_set_ex_data(ctx, alpn_index, list) != 1) {
    free(list);
    return 0;
  }
  SSL_CTX_set_alpn_select_cb(ctx, alpn_select, list);
  return 1;
}

int tandem_ssl_set_tlsext_host_name(SSL *ssl, const char *name) {
  return (int)SSL_set_tlsext_host_name(ssl, name);
}

size_t tandem_bio_pending(BIO *bio) {
  return (size_t)BIO_pending(bio);
}

int tandem_err_get_reason(unsigned long code) {
  return ERR_GET_REASON(code);
}
