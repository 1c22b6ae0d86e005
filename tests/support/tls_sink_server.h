#pragma once

#include <openssl/ssl.h>
#include <uv.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "support/counter.h"
#include "support/sink_protocol.h"
#include "support/test_pki.h"
#include "support/wait.h"

namespace deputy::test {

// SinkRecord is what a TlsSinkServer saw on one connection, once it ended.
struct SinkRecord {
  uint64_t id = 0;
  CloseOrder order = CloseOrder::kClientFirst;
  uint64_t received_bytes = 0;  // application bytes, preamble included
  std::string received_sha256;
  uint64_t sent_bytes = 0;
  std::string sent_sha256;
  // Empty when both directions ended with close_notify; otherwise what went wrong.
  std::string error;
};

// TlsSinkServer is an event-driven TLS server on 127.0.0.1 (port 0) for many concurrent
// connections: one thread runs a libuv loop, BoringSSL works in server mode over memory BIOs.
// Each connection speaks the sink protocol (support/sink_protocol.h): it hashes everything it
// receives, sends back the preamble's reply_bytes of random data at the moment the preamble's
// CloseOrder says, ends its direction with close_notify and a TCP FIN, and records both hashes
// once the connection has ended. The destructor stops the loop and joins the thread.
class TlsSinkServer {
 public:
  explicit TlsSinkServer(const KeyPair& key_pair, int backlog = 4096);
  ~TlsSinkServer();
  TlsSinkServer(const TlsSinkServer&) = delete;
  TlsSinkServer& operator=(const TlsSinkServer&) = delete;

  uint16_t port() const { return port_; }
  const Counter& accepted() const { return accepted_; }
  const Counter& handshakes() const { return handshakes_; }

  // Records of the connections that ended after their preamble, by preamble id. A second
  // connection with the same id is recorded as an error on the first.
  std::map<uint64_t, SinkRecord> Records() const;
  // TakeRecords returns the records and forgets them, for runs too long to keep them all.
  std::map<uint64_t, SinkRecord> TakeRecords();
  size_t RecordCount() const;
  bool WaitForRecords(size_t n, Millis timeout = kDefaultTimeout) const;
  // Failures of connections that ended before a preamble arrived (handshake errors and the
  // like), in order.
  std::vector<std::string> AnonymousFailures() const;

 private:
  class Connection;
  friend class Connection;

  void Run();
  void OnConnection(int status);
  void OnStop();
  void Record(SinkRecord record);
  void RecordAnonymousFailure(std::string error);

  bssl::UniquePtr<SSL_CTX> ctx_;
  uv_loop_t loop_{};
  uv_tcp_t listener_{};
  uv_async_t stop_{};
  uint16_t port_ = 0;
  Counter accepted_;
  Counter handshakes_;
  std::vector<char> read_buffer_;                // loop thread only
  std::unordered_set<Connection*> connections_;  // loop thread only

  mutable std::mutex mu_;
  mutable std::condition_variable recorded_;
  std::map<uint64_t, SinkRecord> records_;
  std::vector<std::string> anonymous_failures_;

  std::thread thread_;
};

}  // namespace deputy::test
