#include "support/silent_dns_server.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace deputy::test {

namespace {

constexpr size_t kHeaderSize = 12;
constexpr uint8_t kRcodeRefused = 5;

// RefusedAnswer turns a query into a REFUSED response: same id, opcode, RD bit and question,
// no records. Empty if the query is too short to carry a question.
std::string RefusedAnswer(const std::string& query) {
  if (query.size() < kHeaderSize) return "";
  size_t end = kHeaderSize;
  while (end < query.size() && query[end] != 0) end += 1 + static_cast<uint8_t>(query[end]);
  end += 1 + 4;  // the root label, QTYPE and QCLASS
  if (end > query.size()) return "";
  std::string answer = query.substr(0, end);
  answer[2] = static_cast<char>(0x80 | (answer[2] & 0x79));  // QR=1, opcode and RD kept
  answer[3] = static_cast<char>(kRcodeRefused);
  for (size_t i = 6; i < kHeaderSize; ++i) answer[i] = 0;  // ANCOUNT, NSCOUNT, ARCOUNT
  return answer;
}

}  // namespace

SilentDnsServer::SilentDnsServer() {
  // A distinct 127/8 address per process, so parallel test processes do not collide.
  for (unsigned attempt = 0; attempt < 32 && !socket_.valid(); ++attempt) {
    unsigned n = (static_cast<unsigned>(getpid()) + attempt) % (250 * 250);
    std::string address =
        "127.53." + std::to_string(n / 250 + 1) + "." + std::to_string(n % 250 + 1);
    Socket sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(53);
    inet_pton(AF_INET, address.c_str(), &sin.sin_addr);
    if (!sock.valid() || bind(sock.fd(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) {
      error_ = "cannot bind UDP " + address + ":53: " + std::strerror(errno);
      continue;
    }
    socket_ = std::move(sock);
    address_ = address;
    error_.clear();
  }
  if (socket_.valid()) thread_ = std::thread([this] { Run(); });
}

SilentDnsServer::~SilentDnsServer() {
  Release();
  stop_.Fire();
  if (thread_.joinable()) thread_.join();
}

void SilentDnsServer::Release() {
  released_ = true;
  release_.Fire();
}

void SilentDnsServer::Run() {
  bool release_seen = false;
  for (;;) {
    pollfd fds[3] = {{stop_.fd(), POLLIN, 0}, {socket_.fd(), POLLIN, 0}, {-1, POLLIN, 0}};
    if (!release_seen) fds[2].fd = release_.fd();  // poll ignores negative fds
    if (poll(fds, 3, -1) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;
    if (fds[2].revents != 0) {
      release_seen = true;
      for (const Query& query : held_) Refuse(query);
      held_.clear();
    }
    if (fds[1].revents == 0) continue;
    Query query{};
    query.from_length = sizeof(query.from);
    char buf[4096];
    ssize_t n = recvfrom(socket_.fd(), buf, sizeof(buf), 0,
                         reinterpret_cast<sockaddr*>(&query.from), &query.from_length);
    if (n <= 0) continue;
    query.bytes.assign(buf, static_cast<size_t>(n));
    queries_.Add();
    if (released_) {
      Refuse(query);
    } else {
      held_.push_back(std::move(query));
    }
  }
}

void SilentDnsServer::Refuse(const Query& query) {
  std::string answer = RefusedAnswer(query.bytes);
  if (answer.empty()) return;
  sendto(socket_.fd(), answer.data(), answer.size(), 0,
         reinterpret_cast<const sockaddr*>(&query.from), query.from_length);
}

}  // namespace deputy::test
