// The NOTE_* filter flags under CPython's names (KQ_NOTE_LOWAT, KQ_NOTE_EXIT, ...), each only
// where this platform's <sys/event.h> defines it: macOS, the BSDs and libkqueue differ a lot.
#pragma once

#include <napi.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/event.h>

namespace iomux {

#define IOMUX_KQ(obj, js, c) obj.Set(js, Napi::Number::New(env, static_cast<double>(c)))

// fflags is a uint32_t, but some NOTE_* masks are int expressions: macOS defines
// NOTE_PCTRLMASK as (~NOTE_PDATAMASK), which is negative as an int and would be refused by
// KEvent's fflags range check. Exported as the uint32_t the field really holds.
#define IOMUX_KQ_NOTE(obj, js, c) \
  obj.Set(js, Napi::Number::New(env, static_cast<double>(static_cast<uint32_t>(c))))

inline void InitNoteConstants(Napi::Env env, Napi::Object c) {
#ifdef NOTE_LOWAT
  IOMUX_KQ_NOTE(c, "KQ_NOTE_LOWAT", NOTE_LOWAT);
#endif
#ifdef NOTE_DELETE
  IOMUX_KQ_NOTE(c, "KQ_NOTE_DELETE", NOTE_DELETE);
#endif
#ifdef NOTE_WRITE
  IOMUX_KQ_NOTE(c, "KQ_NOTE_WRITE", NOTE_WRITE);
#endif
#ifdef NOTE_EXTEND
  IOMUX_KQ_NOTE(c, "KQ_NOTE_EXTEND", NOTE_EXTEND);
#endif
#ifdef NOTE_ATTRIB
  IOMUX_KQ_NOTE(c, "KQ_NOTE_ATTRIB", NOTE_ATTRIB);
#endif
#ifdef NOTE_LINK
  IOMUX_KQ_NOTE(c, "KQ_NOTE_LINK", NOTE_LINK);
#endif
#ifdef NOTE_RENAME
  IOMUX_KQ_NOTE(c, "KQ_NOTE_RENAME", NOTE_RENAME);
#endif
#ifdef NOTE_REVOKE
  IOMUX_KQ_NOTE(c, "KQ_NOTE_REVOKE", NOTE_REVOKE);
#endif
#ifdef NOTE_TRUNCATE
  IOMUX_KQ_NOTE(c, "KQ_NOTE_TRUNCATE", NOTE_TRUNCATE);
#endif
#ifdef NOTE_EXIT
  IOMUX_KQ_NOTE(c, "KQ_NOTE_EXIT", NOTE_EXIT);
#endif
#ifdef NOTE_FORK
  IOMUX_KQ_NOTE(c, "KQ_NOTE_FORK", NOTE_FORK);
#endif
#ifdef NOTE_EXEC
  IOMUX_KQ_NOTE(c, "KQ_NOTE_EXEC", NOTE_EXEC);
#endif
#ifdef NOTE_PCTRLMASK
  IOMUX_KQ_NOTE(c, "KQ_NOTE_PCTRLMASK", NOTE_PCTRLMASK);
#endif
#ifdef NOTE_PDATAMASK
  IOMUX_KQ_NOTE(c, "KQ_NOTE_PDATAMASK", NOTE_PDATAMASK);
#endif
#ifdef NOTE_TRACK
  IOMUX_KQ_NOTE(c, "KQ_NOTE_TRACK", NOTE_TRACK);
#endif
#ifdef NOTE_TRACKERR
  IOMUX_KQ_NOTE(c, "KQ_NOTE_TRACKERR", NOTE_TRACKERR);
#endif
#ifdef NOTE_CHILD
  IOMUX_KQ_NOTE(c, "KQ_NOTE_CHILD", NOTE_CHILD);
#endif
#ifdef NOTE_LINKUP
  IOMUX_KQ_NOTE(c, "KQ_NOTE_LINKUP", NOTE_LINKUP);
#endif
#ifdef NOTE_LINKDOWN
  IOMUX_KQ_NOTE(c, "KQ_NOTE_LINKDOWN", NOTE_LINKDOWN);
#endif
#ifdef NOTE_LINKINV
  IOMUX_KQ_NOTE(c, "KQ_NOTE_LINKINV", NOTE_LINKINV);
#endif
#ifdef NOTE_TRIGGER
  IOMUX_KQ_NOTE(c, "KQ_NOTE_TRIGGER", NOTE_TRIGGER);
#endif
#ifdef NOTE_FFNOP
  IOMUX_KQ_NOTE(c, "KQ_NOTE_FFNOP", NOTE_FFNOP);
#endif
#ifdef NOTE_FFAND
  IOMUX_KQ_NOTE(c, "KQ_NOTE_FFAND", NOTE_FFAND);
#endif
#ifdef NOTE_FFOR
  IOMUX_KQ_NOTE(c, "KQ_NOTE_FFOR", NOTE_FFOR);
#endif
#ifdef NOTE_FFCOPY
  IOMUX_KQ_NOTE(c, "KQ_NOTE_FFCOPY", NOTE_FFCOPY);
#endif
#ifdef NOTE_FFCTRLMASK
  IOMUX_KQ_NOTE(c, "KQ_NOTE_FFCTRLMASK", NOTE_FFCTRLMASK);
#endif
#ifdef NOTE_FFLAGSMASK
  IOMUX_KQ_NOTE(c, "KQ_NOTE_FFLAGSMASK", NOTE_FFLAGSMASK);
#endif
#ifdef NOTE_SECONDS
  IOMUX_KQ_NOTE(c, "KQ_NOTE_SECONDS", NOTE_SECONDS);
#endif
#ifdef NOTE_USECONDS
  IOMUX_KQ_NOTE(c, "KQ_NOTE_USECONDS", NOTE_USECONDS);
#endif
#ifdef NOTE_NSECONDS
  IOMUX_KQ_NOTE(c, "KQ_NOTE_NSECONDS", NOTE_NSECONDS);
#endif
#ifdef NOTE_ABSOLUTE
  IOMUX_KQ_NOTE(c, "KQ_NOTE_ABSOLUTE", NOTE_ABSOLUTE);
#endif
}

}  // namespace iomux
