/*
 * LD_PRELOAD shim that counts heap allocations: malloc, calloc, realloc, posix_memalign,
 * aligned_alloc and memalign calls, forwarded to glibc's own implementations. The benchmarks read
 * the count through tandem_alloc_count(), found with dlsym, before and after a loop.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static uint64_t allocation_count;

static void count_allocation(void) { __atomic_add_fetch(&allocation_count, 1, __ATOMIC_RELAXED); }

uint64_t tandem_alloc_count(void) { return __atomic_load_n(&allocation_count, __ATOMIC_RELAXED); }

void *malloc(size_t size) {
  count_allocation();
  return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
  count_allocation();
  return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
  count_allocation();
  return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
  count_allocation();
  return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
  count_allocation();
  return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
  count_allocation();
  void *pointer = __libc_memalign(alignment, size);
  if (pointer == NULL) {
    return 12; /* ENOMEM */
  }
  *result = pointer;
  return 0;
}
