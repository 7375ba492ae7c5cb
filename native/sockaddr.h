// Socket addresses and socket fds shared by the TCP (socket.cc) and UDP (udp.cc) helpers:
// parsing JS strings into sockaddrs, turning sockaddrs into the one JS address shape
// { address, port }, and opening sockets that are non-blocking and close-on-exec.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <string>

namespace iomux {

// A parsed socket address, big enough for AF_INET, AF_INET6 and AF_UNIX.
struct Address {
  sockaddr_storage storage;
  socklen_t len;
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&storage); }
};

// Reads info[i] as a string; throws ERR_INVALID_ARG_TYPE and returns false otherwise.
bool ReadString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out);

// Sets close-on-exec and O_NONBLOCK where the socket call could not do it atomically, and
// SO_NOSIGPIPE where the OS has it. Returns false with errno set.
bool PrepareFd(int fd, bool atomic_flags);

// Closes fd without losing the errno that the caller is about to report.
void CloseKeepErrno(int fd);

// A new non-blocking, close-on-exec socket of the given type (SOCK_STREAM, SOCK_DGRAM), or -1
// with errno set.
int OpenSocket(int family, int type);

// A numeric IPv4/IPv6 literal (or 'localhost') and a port; throws ERR_INVALID_ARG_VALUE.
bool ParseTcpAddress(Napi::Env env, const std::string& host, int port, Address* out);
// A Unix path; throws ERR_INVALID_ARG_VALUE, or ENAMETOOLONG against `syscall`.
bool ParseUnixAddress(Napi::Env env, const std::string& path, const char* syscall, Address* out);

// Reads (host, port) from info[i], info[i + 1] and parses them; false after throwing.
bool ReadTcpAddress(const Napi::CallbackInfo& info, size_t i, Address* out);
// Reads a path from info[i] and parses it; false after throwing.
bool ReadUnixAddress(const Napi::CallbackInfo& info, size_t i, const char* syscall, Address* out);

// { address, port } for IPv4/IPv6; for Unix { address: path or '' } plus port 0 when
// with_unix_port is set (localAddress, remoteAddress, recvFrom) and no port otherwise (accept).
Napi::Value AddressToObject(Napi::Env env, const sockaddr_storage& ss, socklen_t len,
                            bool with_unix_port);

}  // namespace iomux
