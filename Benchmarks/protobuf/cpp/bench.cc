// C++ side of the protobuf benchmark: the same messages as swift/Sources/ProtobufBench/main.swift,
// built from ../bench.proto with protoc --cpp_out and g++ -O2 (see ../run.sh).
//
// Usage:
//   bench_cpp time SCALE               nanoseconds and allocations per operation for every case
//   bench_cpp run CASE OPERATION N     only N operations, for instruction counts under callgrind
// CASE is small, medium, large, depth1, depth10 or depth100; OPERATION is encode or decode.
#include <dlfcn.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench.pb.h"

namespace {

using AllocationCounter = uint64_t (*)();
AllocationCounter allocation_counter = nullptr;

uint64_t allocations() { return allocation_counter ? allocation_counter() : 0; }

double now_nanoseconds() {
  timespec time;
  clock_gettime(CLOCK_MONOTONIC, &time);
  return double(time.tv_sec) * 1e9 + double(time.tv_nsec);
}

void fill_small(tandem::bench::Small *small, int index) {
  small->set_id(12345 + index);
  small->set_timestamp(1733360000123LL + index);
  small->set_flags(0x8001);
  small->set_delta(-77 - index);
  small->set_hash(0x0123456789ABCDEFULL);
  small->set_score(98.625);
  small->set_ratio(0.75f);
  small->set_active(true);
  small->set_name("bench-user-0042 with a name of about forty");
  small->set_kind(tandem::bench::KIND_USER);
}

void fill_item(tandem::bench::Item *item, int index) {
  item->set_id(index);
  item->set_title("item title number " + std::to_string(index));
  item->add_tags(index);
  item->add_tags(index * 7);
  item->add_tags(index * 13);
  item->add_tags(300 + index);
  item->set_price(index * 1.25);
  fill_small(item->mutable_detail(), index);
}

void fill_medium(tandem::bench::Medium *medium) {
  medium->set_request_id("req-7f3a9c2e-4b1d-4e8f-9a6b-2c5d8e1f0a3b");
  for (int i = 0; i < 12; i++) {
    fill_item(medium->add_items(), i);
  }
  for (int i = 0; i < 8; i++) {
    (*medium->mutable_counters())["counter-" + std::to_string(i)] = int64_t(i) * 1000;
  }
  fill_small(medium->mutable_header(), 0);
  for (int i = 0; i < 5; i++) {
    medium->add_labels("label-" + std::to_string(i));
  }
  std::string checksum;
  for (int i = 0; i < 32; i++) {
    checksum.push_back(char(i * 37));
  }
  medium->set_checksum(checksum);
}

void fill_large(tandem::bench::Large *large) {
  std::string blob(524288, '\0');
  for (size_t i = 0; i < blob.size(); i++) {
    blob[i] = char(i * 31);
  }
  large->set_blob(blob);
  for (int i = 0; i < 3500; i++) {
    fill_item(large->add_records(), i);
  }
}

void fill_chain(tandem::bench::Node *node, int depth) {
  for (int level = 0; level < depth; level++) {
    node->set_value(level);
    node->set_label("node");
    if (level + 1 < depth) {
      node = node->mutable_child();
    }
  }
}

uint64_t sink = 0;

template <typename MessageType>
void run(const MessageType &message, const std::string &bytes, bool encode, long count) {
  for (long i = 0; i < count; i++) {
    if (encode) {
      std::string output;
      message.SerializeToString(&output);
      sink += output.size();
    } else {
      MessageType decoded;
      if (!decoded.ParseFromString(bytes)) {
        std::fprintf(stderr, "bench_cpp: decoding failed\n");
        std::exit(1);
      }
      sink += decoded.ByteSizeLong();
    }
  }
}

template <typename MessageType>
void measure(const char *name, const MessageType &message, long count) {
  std::string bytes;
  message.SerializeToString(&bytes);
  for (int encode = 1; encode >= 0; encode--) {
    run(message, bytes, encode, count / 10 + 1);  // warm-up
    uint64_t allocations_before = allocations();
    double start = now_nanoseconds();
    run(message, bytes, encode, count);
    double elapsed = now_nanoseconds() - start;
    uint64_t allocation_delta = allocations() - allocations_before;
    std::printf("%s %s %.1f %.2f %zu\n", name, encode ? "encode" : "decode", elapsed / double(count),
                double(allocation_delta) / double(count), bytes.size());
  }
}

template <typename MessageType>
void run_named(const MessageType &message, const char *operation, long count) {
  std::string bytes;
  message.SerializeToString(&bytes);
  run(message, bytes, std::strcmp(operation, "encode") == 0, count);
}

}  // namespace

int main(int argc, char **argv) {
  allocation_counter = reinterpret_cast<AllocationCounter>(dlsym(RTLD_DEFAULT, "tandem_alloc_count"));

  // Only the messages that the mode uses are built, so that callgrind counts little setup.
  bool time_mode = argc == 3 && std::strcmp(argv[1], "time") == 0;
  const char *only = argc == 5 ? argv[2] : "";
  auto is_needed = [&](const char *name) { return time_mode || std::strcmp(only, name) == 0; };
  tandem::bench::Small small;
  if (is_needed("small")) fill_small(&small, 0);
  tandem::bench::Medium medium;
  if (is_needed("medium")) fill_medium(&medium);
  tandem::bench::Large large;
  if (is_needed("large")) fill_large(&large);
  tandem::bench::Node depth1, depth10, depth100;
  if (is_needed("depth1")) fill_chain(&depth1, 1);
  if (is_needed("depth10")) fill_chain(&depth10, 10);
  if (is_needed("depth100")) fill_chain(&depth100, 100);

  if (time_mode) {
    long scale = std::atol(argv[2]);
    measure("small", small, 2000 * scale);
    measure("medium", medium, 200 * scale);
    measure("large", large, scale);
    measure("depth1", depth1, 2000 * scale);
    measure("depth10", depth10, 500 * scale);
    measure("depth100", depth100, 50 * scale);
  } else if (argc == 5 && std::strcmp(argv[1], "run") == 0) {
    const char *name = argv[2];
    long count = std::atol(argv[4]);
    if (std::strcmp(name, "small") == 0) run_named(small, argv[3], count);
    else if (std::strcmp(name, "medium") == 0) run_named(medium, argv[3], count);
    else if (std::strcmp(name, "large") == 0) run_named(large, argv[3], count);
    else if (std::strcmp(name, "depth1") == 0) run_named(depth1, argv[3], count);
    else if (std::strcmp(name, "depth10") == 0) run_named(depth10, argv[3], count);
    else if (std::strcmp(name, "depth100") == 0) run_named(depth100, argv[3], count);
    else {
      std::fprintf(stderr, "bench_cpp: unknown case '%s'. Use small, medium, large, depth1, depth10 or depth100.\n", name);
      return 2;
    }
  } else {
    std::fprintf(stderr, "usage: bench_cpp time SCALE | bench_cpp run CASE encode|decode N\n");
    return 2;
  }
  std::fprintf(stderr, "checksum %llu\n", (unsigned long long)sink);
  return 0;
}
