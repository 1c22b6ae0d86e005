#include "support/tunnel_swarm.h"

#include <uv.h>

#include <charconv>
#include <random>
#include <unordered_set>
#include <utility>

#include "support/client.h"
#include "support/die.h"
#include "support/http_head.h"
#include "support/random_data.h"

namespace deputy::test {

namespace {

constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kMaxChunkBytes = 8 * 1024;

// StatusOf reads the status code of an "HTTP/1.x NNN reason" start line; 0 if there is none.
int StatusOf(const std::string& start_line) {
  size_t space = start_line.find(' ');
  if (space == std::string::npos || start_line.size() < space + 4) return 0;
  int status = 0;
  const char* digits = start_line.data() + space + 1;
  auto [end, ec] = std::from_chars(digits, digits + 3, status);
  return ec == std::errc() && end == digits + 3 ? status : 0;
}

class Swarm;

// Client is one plan in flight. It lives from Start to its handle's close callback, which
// deletes it; libuv runs the callbacks of pending requests (connect, write, shutdown) before
// that, so they may use the client.
class Client {
 public:
  Client(Swarm& swarm, const TunnelPlan& plan, TunnelOutcome& outcome)
      : swarm_(swarm), plan_(plan), outcome_(outcome) {
    tcp_.data = this;
  }

  void Start(uv_loop_t* loop, uint16_t port);
  // Fail ends the client with `error` unless it has ended already.
  void Fail(std::string error);
  const char* state() const;

 private:
  enum class State { kConnecting, kAwaitingHead, kTunnel, kRefused, kDone };

  struct WriteRequest {
    uv_write_t req{};
    Client* client = nullptr;
    std::string owned;  // the bytes, when the client does not keep them itself
  };

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  void OnConnect(int status);
  void OnRead(ssize_t n, const uv_buf_t* buf);
  void OnHeadBytes(std::string_view data);
  void OnTunnelBytes(std::string_view data);
  void OnPeerEnd();
  void Write(std::string_view data, std::string owned);
  void SendPayloadAndEnd();
  void OnShutdown(int status);
  void MaybeDone();
  void Finish(std::string error);

  Swarm& swarm_;
  const TunnelPlan& plan_;
  TunnelOutcome& outcome_;
  uv_tcp_t tcp_{};
  uv_connect_t connect_{};
  State state_ = State::kConnecting;
  uint64_t started_ns_ = 0;
  std::string head_;
  std::string payload_;
  bool payload_sent_ = false;
  bool write_ended_ = false;  // our FIN is out
  bool peer_ended_ = false;   // deputy's FIN arrived
  Sha256Stream sent_hash_;
  Sha256Stream received_hash_;
};

class Swarm {
 public:
  Swarm(uint16_t port, const std::vector<TunnelPlan>& plans, size_t concurrency)
      : port_(port),
        plans_(plans),
        concurrency_(concurrency == 0 ? 1 : concurrency),
        outcomes_(plans.size()),
        read_buffer_(64 * 1024),
        rng_(std::random_device{}()) {}

  std::vector<TunnelOutcome> Run(Millis timeout) {
    if (uv_loop_init(&loop_) != 0) Die("swarm uv_loop_init");
    uv_timer_init(&loop_, &deadline_);
    deadline_.data = this;
    uv_timer_start(
        &deadline_, [](uv_timer_t* t) { static_cast<Swarm*>(t->data)->OnDeadline(); },
        static_cast<uint64_t>(timeout.count()), 0);
    for (size_t i = 0; i < outcomes_.size(); ++i) outcomes_[i].id = plans_[i].id;
    StartMore();
    uv_run(&loop_, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop_) != 0) Die("swarm loop still has handles");
    return std::move(outcomes_);
  }

  uv_buf_t ReadBuffer() {
    return uv_buf_init(read_buffer_.data(), static_cast<unsigned>(read_buffer_.size()));
  }
  size_t ChunkSize() { return std::uniform_int_distribution<size_t>(1, kMaxChunkBytes)(rng_); }

  void OnClientDone() {
    --active_;
    StartMore();
  }
  void OnClientClosed(Client* client) {
    clients_.erase(client);
    delete client;
  }

 private:
  void StartMore() {
    while (!expired_ && active_ < concurrency_ && next_ < plans_.size()) {
      size_t index = next_++;
      auto* client = new Client(*this, plans_[index], outcomes_[index]);
      clients_.insert(client);
      ++active_;
      client->Start(&loop_, port_);
    }
    if ((expired_ || next_ == plans_.size()) && active_ == 0 && !uv_is_closing(Timer())) {
      uv_close(Timer(), nullptr);
    }
  }

  void OnDeadline() {
    expired_ = true;
    for (size_t i = next_; i < plans_.size(); ++i) outcomes_[i].error = "not started in time";
    next_ = plans_.size();
    // Fail erases nothing yet (the close callbacks do), so iterate over a copy.
    std::vector<Client*> open(clients_.begin(), clients_.end());
    for (Client* client : open) client->Fail(std::string("timed out ") + client->state());
    StartMore();
  }

  uv_handle_t* Timer() { return reinterpret_cast<uv_handle_t*>(&deadline_); }

  uint16_t port_;
  const std::vector<TunnelPlan>& plans_;
  size_t concurrency_;
  std::vector<TunnelOutcome> outcomes_;
  std::vector<char> read_buffer_;
  std::mt19937_64 rng_;
  uv_loop_t loop_{};
  uv_timer_t deadline_{};
  std::unordered_set<Client*> clients_;
  size_t next_ = 0;
  size_t active_ = 0;
  bool expired_ = false;
};

void Client::Start(uv_loop_t* loop, uint16_t port) {
  started_ns_ = uv_hrtime();
  payload_ = RandomBytes(plan_.payload_bytes);
  if (uv_tcp_init(loop, &tcp_) != 0) Die("swarm uv_tcp_init");
  sockaddr_in address{};
  uv_ip4_addr("127.0.0.1", port, &address);
  connect_.data = this;
  int rc = uv_tcp_connect(
      &connect_, &tcp_, reinterpret_cast<sockaddr*>(&address),
      [](uv_connect_t* req, int status) { static_cast<Client*>(req->data)->OnConnect(status); });
  if (rc != 0) Fail(std::string("connect: ") + uv_strerror(rc));
}

const char* Client::state() const {
  switch (state_) {
    case State::kConnecting:
      return "connecting";
    case State::kAwaitingHead:
      return "waiting for the response head";
    case State::kTunnel:
      return peer_ended_ ? "in the tunnel, deputy ended" : "in the tunnel";
    case State::kRefused:
      return "reading a refusal";
    case State::kDone:
      return "done";
  }
  return "?";
}

void Client::OnConnect(int status) {
  if (state_ == State::kDone) return;
  if (status != 0) {
    Fail(std::string("connect: ") + uv_strerror(status));
    return;
  }
  state_ = State::kAwaitingHead;
  int rc = uv_read_start(
      stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        // The swarm's one buffer serves every read: each read callback consumes it at once.
        *buf = static_cast<Client*>(h->data)->swarm_.ReadBuffer();
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        static_cast<Client*>(s->data)->OnRead(n, buf);
      });
  if (rc != 0) {
    Fail(std::string("uv_read_start: ") + uv_strerror(rc));
    return;
  }
  std::string head = ConnectRequest(plan_.authority);
  if (plan_.early_data) {
    std::string preamble = EncodePreamble({plan_.id, plan_.reply_bytes, plan_.order});
    sent_hash_.Update(preamble);
    outcome_.sent_bytes += preamble.size();
    head += preamble;
  }
  Write({}, std::move(head));
}

void Client::OnRead(ssize_t n, const uv_buf_t* buf) {
  if (state_ == State::kDone) return;
  if (n > 0) {
    std::string_view data(buf->base, static_cast<size_t>(n));
    if (state_ == State::kAwaitingHead) {
      OnHeadBytes(data);
    } else if (state_ == State::kTunnel) {
      OnTunnelBytes(data);
    }  // a refusal's body is read and dropped
    return;
  }
  if (n == 0) return;
  if (n == UV_EOF) {
    if (state_ == State::kAwaitingHead) {
      Fail("deputy closed before a response head");
    } else if (state_ == State::kRefused) {
      Finish("");
    } else {
      OnPeerEnd();
    }
    return;
  }
  // A refusal ends with deputy's lingering close; a reset after it has been read changes nothing.
  if (state_ == State::kRefused) {
    Finish("");
    return;
  }
  Fail(std::string("read: ") + uv_strerror(static_cast<int>(n)) + " after " +
       std::to_string(outcome_.received_bytes) + " tunnel bytes");
}

void Client::OnHeadBytes(std::string_view data) {
  head_.append(data);
  size_t end = FindHeadEnd(head_);
  if (end == std::string_view::npos) {
    if (head_.size() > kMaxHeadBytes) Fail("response head too long");
    return;
  }
  outcome_.setup_ms = static_cast<double>(uv_hrtime() - started_ns_) / 1e6;
  std::optional<HttpHead> head = ParseHttpHead(std::string_view(head_).substr(0, end));
  if (!head) {
    Fail("malformed response head");
    return;
  }
  outcome_.status = StatusOf(head->start_line);
  outcome_.proxy_status = head->Header("proxy-status").value_or("");
  std::string rest = head_.substr(end);
  head_.clear();
  if (outcome_.status != 200) {
    state_ = State::kRefused;
    return;
  }
  state_ = State::kTunnel;
  if (!plan_.early_data) {
    std::string preamble = EncodePreamble({plan_.id, plan_.reply_bytes, plan_.order});
    sent_hash_.Update(preamble);
    outcome_.sent_bytes += preamble.size();
    Write({}, std::move(preamble));
  }
  if (plan_.order != CloseOrder::kUpstreamFirst) SendPayloadAndEnd();
  if (!rest.empty()) OnTunnelBytes(rest);
}

void Client::OnTunnelBytes(std::string_view data) {
  outcome_.received_bytes += data.size();
  received_hash_.Update(data);
}

void Client::OnPeerEnd() {
  peer_ended_ = true;
  if (plan_.order == CloseOrder::kUpstreamFirst) SendPayloadAndEnd();
  MaybeDone();
}

void Client::Write(std::string_view data, std::string owned) {
  auto* write = new WriteRequest;
  write->client = this;
  write->owned = std::move(owned);
  if (!write->owned.empty()) data = write->owned;
  uv_buf_t buf = uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
  int rc = uv_write(&write->req, stream(), &buf, 1, [](uv_write_t* r, int status) {
    auto* write = reinterpret_cast<WriteRequest*>(r);
    Client* client = write->client;
    delete write;
    if (status != 0) client->Fail(std::string("write: ") + uv_strerror(status));
  });
  if (rc != 0) {
    delete write;
    Fail(std::string("uv_write: ") + uv_strerror(rc));
  }
}

// SendPayloadAndEnd queues the payload in chunks of random size, then the FIN.
void Client::SendPayloadAndEnd() {
  if (payload_sent_ || state_ == State::kDone) return;
  payload_sent_ = true;
  sent_hash_.Update(payload_);
  outcome_.sent_bytes += payload_.size();
  std::string_view rest = payload_;
  while (!rest.empty() && state_ != State::kDone) {
    size_t chunk = std::min(rest.size(), swarm_.ChunkSize());
    Write(rest.substr(0, chunk), {});
    rest.remove_prefix(chunk);
  }
  if (state_ == State::kDone) return;
  auto* req = new uv_shutdown_t{};
  req->data = this;
  int rc = uv_shutdown(req, stream(), [](uv_shutdown_t* r, int status) {
    auto* client = static_cast<Client*>(r->data);
    delete r;
    client->OnShutdown(status);
  });
  if (rc != 0) {
    delete req;
    Fail(std::string("uv_shutdown: ") + uv_strerror(rc));
  }
}

void Client::OnShutdown(int status) {
  if (state_ == State::kDone) return;
  if (status != 0) {
    Fail(std::string("shutdown: ") + uv_strerror(status));
    return;
  }
  write_ended_ = true;
  MaybeDone();
}

void Client::MaybeDone() {
  if (state_ == State::kTunnel && write_ended_ && peer_ended_) Finish("");
}

void Client::Fail(std::string error) {
  if (state_ == State::kDone) return;
  Finish(std::move(error));
}

void Client::Finish(std::string error) {
  state_ = State::kDone;
  outcome_.error = std::move(error);
  outcome_.sent_sha256 = sent_hash_.HexDigest();
  outcome_.received_sha256 = received_hash_.HexDigest();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), [](uv_handle_t* h) {
    auto* client = static_cast<Client*>(h->data);
    client->swarm_.OnClientClosed(client);
  });
  swarm_.OnClientDone();
}

}  // namespace

std::vector<TunnelOutcome> RunTunnels(uint16_t port, const std::vector<TunnelPlan>& plans,
                                      size_t concurrency, Millis timeout) {
  return Swarm(port, plans, concurrency).Run(timeout);
}

}  // namespace deputy::test
