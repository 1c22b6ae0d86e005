#include "bench/transfer.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

namespace deputy::bench {

namespace {

// Large enough that syscalls are not what is measured; TLS cuts it into 16 KiB records anyway.
constexpr size_t kChunk = 64 * 1024;

// AddWait turns a blocked call into poll events; false for a closed or broken connection.
bool AddWait(IoWait wait, short* events) {
  if (wait == IoWait::kRead) *events |= POLLIN;
  if (wait == IoWait::kWrite) *events |= POLLOUT;
  return wait == IoWait::kRead || wait == IoWait::kWrite;
}

// MatchesPattern checks that `data` is what the stream carries at `offset`.
bool MatchesPattern(std::string_view pattern, uint64_t offset, const char* data, size_t n) {
  while (n > 0) {
    size_t at = offset % pattern.size();
    size_t run = std::min(n, pattern.size() - at);
    if (std::memcmp(pattern.data() + at, data, run) != 0) return false;
    data += run;
    offset += run;
    n -= run;
  }
  return true;
}

}  // namespace

double EchoTransfer(Transport& transport, std::string_view pattern, uint64_t total,
                    test::Millis timeout, std::string* error) {
  std::vector<char> buf(kChunk);
  uint64_t sent = 0;
  uint64_t received = 0;
  test::Deadline deadline(timeout);
  auto start = std::chrono::steady_clock::now();
  auto fail = [&](const std::string& what) {
    *error = what + " after " + std::to_string(sent) + " bytes sent, " + std::to_string(received) +
             " received of " + std::to_string(total);
    return -1.0;
  };
  while (received < total) {
    bool progress = false;
    short events = 0;
    if (sent < total) {
      size_t at = sent % pattern.size();
      size_t n =
          static_cast<size_t>(std::min<uint64_t>({kChunk, pattern.size() - at, total - sent}));
      IoResult written = transport.Write(pattern.data() + at, n);
      if (written.bytes > 0) {
        sent += written.bytes;
        progress = true;
      } else if (!AddWait(written.wait, &events)) {
        return fail("write failed");
      }
    }
    IoResult read = transport.Read(buf.data(), buf.size());
    if (read.bytes > 0) {
      if (received + read.bytes > sent) return fail("echo returned bytes never sent");
      if (!MatchesPattern(pattern, received, buf.data(), read.bytes)) {
        return fail("echoed bytes differ");
      }
      received += read.bytes;
      progress = true;
    } else if (!AddWait(read.wait, &events)) {
      return fail(read.wait == IoWait::kClosed ? "connection closed" : "read failed");
    }
    if (progress) continue;
    if (test::WaitFd(transport.fd(), events, deadline) != test::WaitResult::kReady) {
      return fail("timed out or poll failed");
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool CloseGracefully(Transport& transport, test::Millis timeout) {
  if (!transport.ShutdownWrite()) return false;
  test::Deadline deadline(timeout);
  char buf[4096];
  for (;;) {
    IoResult read = transport.Read(buf, sizeof(buf));
    if (read.bytes > 0) continue;
    if (read.wait == IoWait::kClosed) return true;
    short events = 0;
    if (!AddWait(read.wait, &events)) return false;
    if (test::WaitFd(transport.fd(), events, deadline) != test::WaitResult::kReady) return false;
  }
}

}  // namespace deputy::bench
