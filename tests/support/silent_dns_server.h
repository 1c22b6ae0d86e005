#pragma once

#include <netinet/in.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/counter.h"
#include "support/socket.h"
#include "support/wait.h"

namespace deputy::test {

// SilentDnsServer listens on UDP port 53 of a 127.x.y.1 address (port 53 needs root) and reads
// DNS queries without answering them: a resolver pointed at it waits for as long as its own
// timeout says. Release() answers every query seen so far, and every later one, with REFUSED, so
// that resolvers stuck on it give up at once; the destructor releases and stops.
class SilentDnsServer {
 public:
  SilentDnsServer();
  ~SilentDnsServer();
  SilentDnsServer(const SilentDnsServer&) = delete;
  SilentDnsServer& operator=(const SilentDnsServer&) = delete;

  // valid() is false when no address could be bound; error() says why.
  bool valid() const { return socket_.valid(); }
  const std::string& error() const { return error_; }
  // The IPv4 address it listens on, for a resolv.conf "nameserver" line.
  const std::string& address() const { return address_; }
  const Counter& queries() const { return queries_; }
  void Release();

 private:
  struct Query {
    sockaddr_storage from;
    socklen_t from_length;
    std::string bytes;
  };

  void Run();
  void Refuse(const Query& query);

  Socket socket_;
  std::string address_;
  std::string error_;
  Counter queries_;
  std::vector<Query> held_;  // the server thread's alone
  std::atomic<bool> released_ = false;
  StopEvent release_;
  StopEvent stop_;
  std::thread thread_;
};

}  // namespace deputy::test
