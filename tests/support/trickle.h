#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "support/counter.h"
#include "support/socket.h"
#include "support/tls_server.h"
#include "support/wait.h"

namespace deputy::test {

// Peers that trickle data one byte per write, the way a hostile peer makes a proxy hold many
// tiny pieces. Writes go out with TCP_NODELAY and `gap` apart so the receiver sees them one by
// one; the gap paces the sender, it synchronises nothing.

// TrickleByte is the i-th byte of every trickle, so receivers can check order and content.
char TrickleByte(size_t i);
// TrickleData is the first `n` trickle bytes.
std::string TrickleData(size_t n);

// SetNoDelay turns Nagle's algorithm off on `fd`, so each write leaves as its own segment.
bool SetNoDelay(int fd);

// A peer's kernel absorbs what it sends into its send buffer, which Linux sizes from the
// segment size the receiver announced (64 KiB segments on loopback make it over 1 MiB), and into
// the receiver's receive buffer. A receiver that announces the smallest segments and a small
// receive buffer leaves the sender's kernel room for a few KiB only, so what a sender cannot
// send stays queued in the sending process, where a test can measure it.
constexpr int kSmallSegment = 88;
constexpr int kSmallReceiveBuffer = 4096;

// ConnectTcpWithSmallWindow connects to 127.0.0.1:`port` announcing kSmallSegment and
// kSmallReceiveBuffer (set before connecting: both are announced in the handshake).
Socket ConnectTcpWithSmallWindow(uint16_t port, Millis timeout = kDefaultTimeout);

// ShrinkListenerWindow makes the connections that this process's listener on 127.0.0.1:`port`
// accepts from now on announce kSmallSegment and kSmallReceiveBuffer. Only a listener can
// carry these options to its connections' handshakes, and the server fixtures keep theirs
// private, so it is found by its port. False if there is no such listener.
bool ShrinkListenerWindow(uint16_t port);

// TrickleWrites sends `count` trickle bytes to `fd`, one send(2) each; false on failure.
bool TrickleWrites(int fd, size_t count, std::chrono::microseconds gap,
                   Millis timeout = kDefaultTimeout);

// TrickleRecords is a TlsServer handler that waits for one byte from the peer (the go signal),
// sends `lead` (in full-size records), then `count` trickle bytes as TLS records of one byte
// each (one SSL_write each), counting those in `*sent`; then it holds the connection, reading
// nothing, until the server stops.
TlsServer::Handler TrickleRecords(std::string lead, size_t count, std::chrono::microseconds gap,
                                  Counter* sent);

}  // namespace deputy::test
