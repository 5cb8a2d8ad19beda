/*
 * Peer for the round trips against protobuf-c, the C runtime. ProtobufCTests builds it with gcc
 * from the code that protoc-c generates for Protos/protobufc_test.proto and
 * Protos/protobufc_test_proto2.proto.
 *
 * Usage:
 *   protobufc_peer generate COUNT SEED   writes COUNT random messages of each top-level type
 *   protobufc_peer reencode              decodes each input line and writes it encoded again
 *
 * Both modes read and write lines of the form "<full message name> <hex bytes>". The random
 * messages are filled through protobuf-c's descriptors, so every field of the schema is covered
 * without per-field code. Exit status 1 with a message on stderr when a line fails to decode.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protobufc_test.pb-c.h"
#include "protobufc_test_proto2.pb-c.h"

enum { max_depth = 3, max_repeated = 3, max_line_bytes = 1 << 22 };

static const ProtobufCMessageDescriptor *const top_level_types[] = {
  &tandem__pbc3__sample__descriptor,
  &tandem__pbc2__record__descriptor,
};

/* SplitMix64, the same generator the Swift tests use, so a seed reproduces a run. */
static uint64_t random_state;

static uint64_t next_random(void) {
  random_state += 0x9E3779B97F4A7C15ull;
  uint64_t z = random_state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int random_below(int bound) { return (int)(next_random() % (uint64_t)bound); }

/* Values that exercise every varint length and sign: small, large, extremes. */
static uint64_t random_bits(void) {
  switch (random_below(4)) {
  case 0: return (uint64_t)random_below(300);
  case 1: return next_random() >> random_below(64);
  case 2: return (uint64_t)0 - (uint64_t)random_below(300);
  default: return next_random();
  }
}

static char *random_string(void) {
  static const char *const pieces[] = {"a", "Z", "0", " ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\", "\""};
  int count = random_below(8);
  char *text = malloc(4 * (size_t)count + 1);
  text[0] = 0;
  for (int i = 0; i < count; i++) {
    strcat(text, pieces[random_below((int)(sizeof pieces / sizeof pieces[0]))]);
  }
  return text;
}

static ProtobufCBinaryData random_bytes(void) {
  ProtobufCBinaryData data;
  data.len = (size_t)random_below(6);
  data.data = malloc(data.len + 1);
  for (size_t i = 0; i < data.len; i++) {
    data.data[i] = (uint8_t)next_random();
  }
  return data;
}

/* Returns a finite value, because NaN never compares equal. */
static double random_real(void) {
  static const double specials[] = {0.5, -1.25, 1e300, -2.5e-300, 3.4e38, 1e-40};
  if (random_below(2) == 0) {
    return specials[random_below((int)(sizeof specials / sizeof specials[0]))];
  }
  return (double)(int64_t)next_random() / 4096.0;
}

static ProtobufCMessage *random_message(const ProtobufCMessageDescriptor *descriptor, int depth);

static size_t value_size(const ProtobufCFieldDescriptor *field) {
  switch (field->type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32:
  case PROTOBUF_C_TYPE_ENUM: return 4;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64: return 8;
  case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
  case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
  case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
  case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
  case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
  }
  return 0;
}

/* Writes one random value of the field's type at `slot`. */
static void fill_value(const ProtobufCFieldDescriptor *field, void *slot, int depth) {
  uint64_t bits = random_bits();
  switch (field->type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32: {
    uint32_t value = (uint32_t)bits;
    memcpy(slot, &value, 4);
    break;
  }
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64: memcpy(slot, &bits, 8); break;
  case PROTOBUF_C_TYPE_FLOAT: {
    float value = (float)random_real();
    if (value != value || value == 0 || value > 3.4e38f || value < -3.4e38f) {
      value = 2.0f;
    }
    memcpy(slot, &value, sizeof value);
    break;
  }
  case PROTOBUF_C_TYPE_DOUBLE: {
    double value = random_real();
    memcpy(slot, &value, sizeof value);
    break;
  }
  case PROTOBUF_C_TYPE_BOOL: {
    protobuf_c_boolean value = (protobuf_c_boolean)(bits & 1);
    memcpy(slot, &value, sizeof value);
    break;
  }
  case PROTOBUF_C_TYPE_ENUM: {
    const ProtobufCEnumDescriptor *enum_type = field->descriptor;
    int value = enum_type->values[random_below((int)enum_type->n_values)].value;
    memcpy(slot, &value, sizeof value);
    break;
  }
  case PROTOBUF_C_TYPE_STRING: {
    char *value = random_string();
    memcpy(slot, &value, sizeof value);
    break;
  }
  case PROTOBUF_C_TYPE_BYTES: {
    ProtobufCBinaryData value = random_bytes();
    memcpy(slot, &value, sizeof value);
    break;
  }
  case PROTOBUF_C_TYPE_MESSAGE: {
    ProtobufCMessage *value = random_message(field->descriptor, depth + 1);
    memcpy(slot, &value, sizeof value);
    break;
  }
  }
}

static int has_flag_member(const ProtobufCFieldDescriptor *field) {
  return field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* Map entries (nested types named "...Entry" with fields key and value) get both fields, because a
 * missing proto2 message value decodes as an empty message that lacks its required fields. */
static int is_map_entry(const ProtobufCMessageDescriptor *descriptor) {
  size_t length = strlen(descriptor->name);
  return descriptor->n_fields == 2 && length > 5 && strcmp(descriptor->name + length - 5, "Entry") == 0 &&
         strcmp(descriptor->fields[0].name, "key") == 0 && strcmp(descriptor->fields[1].name, "value") == 0;
}

static ProtobufCMessage *random_message(const ProtobufCMessageDescriptor *descriptor, int depth) {
  ProtobufCMessage *message = calloc(1, descriptor->sizeof_message);
  int fill_all = is_map_entry(descriptor);
  descriptor->message_init(message);
  char *base = (char *)message;
  unsigned oneof_done_offset = 0;

  for (unsigned i = 0; i < descriptor->n_fields; i++) {
    const ProtobufCFieldDescriptor *field = &descriptor->fields[i];
    void *slot = base + field->offset;
    int nested = field->type == PROTOBUF_C_TYPE_MESSAGE;

    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
      /* Members of one oneof share the case member at quantifier_offset, so at most one is set. */
      if (field->quantifier_offset == oneof_done_offset || random_below(3) != 0 || (nested && depth >= max_depth)) {
        continue;
      }
      oneof_done_offset = field->quantifier_offset;
      fill_value(field, slot, depth);
      memcpy(base + field->quantifier_offset, &field->id, sizeof(uint32_t));
      continue;
    }

    switch (field->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
      fill_value(field, slot, depth);
      break;
    case PROTOBUF_C_LABEL_OPTIONAL:
    case PROTOBUF_C_LABEL_NONE:
      if (!fill_all && (random_below(3) == 0 || (nested && depth >= max_depth))) {
        break;
      }
      fill_value(field, slot, depth);
      if (field->label == PROTOBUF_C_LABEL_OPTIONAL && has_flag_member(field)) {
        protobuf_c_boolean present = 1;
        memcpy(base + field->quantifier_offset, &present, sizeof present);
      }
      break;
    case PROTOBUF_C_LABEL_REPEATED: {
      /* Map fields stay empty in two messages of three, so that most messages have a fixed byte order. */
      int map_field = nested && is_map_entry(field->descriptor);
      int skip = (nested && depth >= max_depth) || (map_field && random_below(3) != 0);
      size_t count = skip ? 0 : (size_t)random_below(max_repeated + 1);
      size_t size = value_size(field);
      char *values = calloc(count + 1, size);
      for (size_t k = 0; k < count; k++) {
        fill_value(field, values + k * size, depth);
      }
      memcpy(base + field->quantifier_offset, &count, sizeof count);
      memcpy(slot, &values, sizeof values);
      break;
    }
    }
  }
  return message;
}

static const ProtobufCMessageDescriptor *find_type(const char *name) {
  for (size_t i = 0; i < sizeof top_level_types / sizeof top_level_types[0]; i++) {
    if (strcmp(top_level_types[i]->name, name) == 0) {
      return top_level_types[i];
    }
  }
  return NULL;
}

static void write_line(const char *name, const uint8_t *bytes, size_t count) {
  printf("%s ", name);
  for (size_t i = 0; i < count; i++) {
    printf("%02x", bytes[i]);
  }
  putchar('\n');
}

static void write_message(const ProtobufCMessage *message) {
  size_t size = protobuf_c_message_get_packed_size(message);
  uint8_t *bytes = malloc(size + 1);
  size_t written = protobuf_c_message_pack(message, bytes);
  if (written != size) {
    fprintf(stderr, "protobufc_peer: packed %zu bytes, expected %zu\n", written, size);
    exit(1);
  }
  write_line(message->descriptor->name, bytes, size);
  free(bytes);
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int reencode(void) {
  static char line[2 * max_line_bytes + 256];
  static uint8_t bytes[max_line_bytes];
  int line_number = 0;
  while (fgets(line, sizeof line, stdin) != NULL) {
    line_number++;
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] == 0) {
      continue;
    }
    char *space = strchr(line, ' ');
    char *hex = space == NULL ? line + strlen(line) : space + 1;
    if (space != NULL) {
      *space = 0;
    }
    const ProtobufCMessageDescriptor *descriptor = find_type(line);
    if (descriptor == NULL) {
      fprintf(stderr, "protobufc_peer: line %d: unknown message type '%s'\n", line_number, line);
      return 1;
    }
    size_t count = 0;
    for (const char *p = hex; p[0] != 0 && p[1] != 0; p += 2) {
      int high = hex_digit(p[0]), low = hex_digit(p[1]);
      if (high < 0 || low < 0 || count == max_line_bytes) {
        fprintf(stderr, "protobufc_peer: line %d: invalid hex or more than %d bytes\n", line_number, max_line_bytes);
        return 1;
      }
      bytes[count++] = (uint8_t)(high << 4 | low);
    }
    ProtobufCMessage *message = protobuf_c_message_unpack(descriptor, NULL, count, bytes);
    if (message == NULL) {
      fprintf(stderr, "protobufc_peer: line %d: protobuf-c failed to decode %zu bytes of %s\n", line_number, count, line);
      return 1;
    }
    write_message(message);
    protobuf_c_message_free_unpacked(message, NULL);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "generate") == 0) {
    int count = atoi(argv[2]);
    random_state = strtoull(argv[3], NULL, 10);
    for (int i = 0; i < count; i++) {
      for (size_t t = 0; t < sizeof top_level_types / sizeof top_level_types[0]; t++) {
        write_message(random_message(top_level_types[t], 0));
      }
    }
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "reencode") == 0) {
    return reencode();
  }
  fprintf(stderr, "usage: protobufc_peer generate COUNT SEED | protobufc_peer reencode\n");
  return 2;
}
