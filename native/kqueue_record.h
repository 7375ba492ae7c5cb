// The flat record in which a struct kevent crosses the JS boundary: kKevWords int32 words,
// written and read by lib/kqueue.ts (KEV_WORDS there). 64-bit fields are split in two words so
// that every value survives exactly, whatever the platform's struct kevent looks like:
//   [0] ident low   [1] ident high   [2] filter   [3] flags   [4] fflags (uint32 bits)
//   [5] unused (0)  [6] data low     [7] data high [8] udata low [9] udata high
// ident and udata are unsigned, data is signed (intptr_t), as in CPython's select.kevent.
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <sys/event.h>

#include <cstring>

namespace iomux {

static constexpr size_t kKevWords = 10;

inline uint64_t JoinWords(const int32_t* w) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(w[1])) << 32) | static_cast<uint32_t>(w[0]);
}

inline void SplitWords(uint64_t v, int32_t* w) {
  w[0] = static_cast<int32_t>(static_cast<uint32_t>(v));
  w[1] = static_cast<int32_t>(static_cast<uint32_t>(v >> 32));
}

// Copies one record into a struct kevent. Returns false when a 64-bit value does not fit a
// 32-bit platform's uintptr_t/intptr_t (the struct would silently truncate it).
inline bool UnpackKevent(const int32_t* w, struct kevent* ev) {
  uint64_t ident = JoinWords(w);
  int64_t data = static_cast<int64_t>(JoinWords(w + 6));
  uint64_t udata = JoinWords(w + 8);
  if (sizeof(uintptr_t) < 8 &&
      (ident > UINTPTR_MAX || udata > UINTPTR_MAX || data > INTPTR_MAX || data < INTPTR_MIN)) {
    return false;
  }
  // Zero first: FreeBSD's ext[] and any padding must not carry stale bytes to the kernel.
  std::memset(ev, 0, sizeof(*ev));
  ev->ident = static_cast<uintptr_t>(ident);
  ev->filter = static_cast<int16_t>(w[2]);
  ev->flags = static_cast<uint16_t>(w[3]);
  ev->fflags = static_cast<uint32_t>(w[4]);
  ev->data = static_cast<intptr_t>(data);
  // udata is opaque to the kernel (and to libkqueue): an integer travels through it unchanged.
  // It is void* on most systems and intptr_t on older NetBSD, so a C cast serves both.
  ev->udata = (decltype(ev->udata))(static_cast<uintptr_t>(udata));
  return true;
}

// Writes one struct kevent as a record. data is sign-extended, ident and udata zero-extended.
inline void PackKevent(const struct kevent& ev, int32_t* w) {
  SplitWords(static_cast<uint64_t>(ev.ident), w);
  w[2] = ev.filter;
  w[3] = ev.flags;
  w[4] = static_cast<int32_t>(ev.fflags);
  w[5] = 0;
  SplitWords(static_cast<uint64_t>(static_cast<int64_t>(ev.data)), w + 6);
  SplitWords(static_cast<uint64_t>((uintptr_t)(ev.udata)), w + 8);
}

}  // namespace iomux
