#include "admin/admin_server.h"

#include <openssl/mem.h>

#include "base/ascii.h"
#include "http/request_head_parser.h"
#include "http/status_line.h"
#include "loop/timer.h"

namespace deputy {

namespace {

constexpr size_t kMaxAdminHeadBytes = 8192;
constexpr uint64_t kAdminTimeoutMs = 10000;
constexpr size_t kMaxOpenAdminConnections = 64;

}  // namespace

class AdminServer::Connection : public Deferrable, private StreamCallbacks {
 public:
  Connection(AdminServer& server, std::unique_ptr<TcpStream> stream)
      : server_(server),
        stream_(std::move(stream)),
        parser_(kMaxAdminHeadBytes),
        timeout_(server.loop_, [this] { Done(); }) {}

  // Start begins reading; it may finish the connection at once, so the server must already
  // track it.
  void Start() {
    stream_->SetCallbacks(this);
    timeout_.Start(kAdminTimeoutMs);
    stream_->SetReadEnabled(true);
  }

  ~Connection() override { stream_->Close(); }

 private:
  void OnData(Buffer& data) override {
    if (responded_) {
      data.Clear();
      return;
    }
    RequestHeadParser::State state = parser_.Feed(data);
    data.Clear();
    if (state == RequestHeadParser::State::kNeedMore) return;
    if (state == RequestHeadParser::State::kError) {
      Respond(400, "text/plain", parser_.error().message() + "\n");
      return;
    }
    const RequestHead& head = parser_.head();
    Reply reply = server_.Handle(head);
    Respond(reply, head.method == "HEAD");
  }

  void OnEndOfStream() override {
    if (!responded_) Done();
  }
  void OnWriteDrained() override {
    if (responded_) Done();
  }
  void OnError(const Status&) override { Done(); }

  void Respond(int status, const std::string& content_type, const std::string& body) {
    Respond(Reply{status, content_type, body, ""}, false);
  }

  void Respond(const Reply& reply, bool head_only) {
    responded_ = true;
    Buffer out;
    out.Append("HTTP/1.1 " + std::to_string(reply.status) + " " +
               std::string(ReasonPhrase(reply.status)) + "\r\nContent-Type: " + reply.content_type +
               "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n" +
               reply.extra_headers + "Connection: close\r\n\r\n");
    if (!head_only) out.Append(reply.body);
    stream_->Write(out);
    stream_->ShutdownWrite();
  }

  void Done() {
    if (done_) return;
    done_ = true;
    timeout_.Stop();
    stream_->Close();
    server_.OnConnectionDone(this);
  }

  AdminServer& server_;
  std::unique_ptr<TcpStream> stream_;
  RequestHeadParser parser_;
  Timer timeout_;
  bool responded_ = false;
  bool done_ = false;
};

AdminServer::AdminServer(EventLoop& loop, Metrics& metrics, AdminApi& api, std::string token)
    : loop_(loop),
      metrics_(metrics),
      api_(api),
      token_(std::move(token)),
      listener_(loop, [this](std::unique_ptr<TcpStream> s) { OnAccept(std::move(s)); }) {}

AdminServer::~AdminServer() {
  for (Connection* connection : connections_) delete connection;
}

Status AdminServer::Bind(const IpEndpoint& endpoint) { return listener_.Bind(endpoint); }

bool AdminServer::Authorized(const RequestHead& head) const {
  if (token_.empty()) return true;
  const std::string expected = "Bearer " + token_;
  for (const auto& [name, value] : head.headers) {
    if (!EqualsIgnoringAsciiCase(name, "authorization")) continue;
    // Compared in constant time: how long a wrong guess takes says nothing about the token.
    return value.size() == expected.size() &&
           CRYPTO_memcmp(value.data(), expected.data(), expected.size()) == 0;
  }
  return false;
}

AdminServer::Reply AdminServer::Handle(const RequestHead& head) {
  const std::string path = head.target.substr(0, head.target.find('?'));
  const bool read = head.method == "GET" || head.method == "HEAD";
  auto json = [](int status, const nlohmann::json& body) {
    return Reply{status, "application/json", body.dump(2) + "\n", ""};
  };
  auto text = [](int status, std::string body, std::string extra_headers = "") {
    return Reply{status, "text/plain", std::move(body), std::move(extra_headers)};
  };
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics" ||
                     path == "/debug/delegations" || path == "/debug/tunnels" ||
                     path == "/debug/config" || path == "/drain" || path == "/reload";
  if (!known) {
    return text(404,
                "not found; try /healthz, /readyz, /metrics, /debug/delegations, "
                "/debug/tunnels, /debug/config, POST /drain or POST /reload\n");
  }
  // Probes stay open: a kubelet or load balancer has no token.
  if (path != "/healthz" && path != "/readyz" && !Authorized(head)) {
    return text(401, "this admin listener requires a bearer token (admin.token_file)\n",
                "WWW-Authenticate: Bearer realm=\"deputy admin\"\r\n");
  }
  if (path == "/drain") {
    if (head.method != "POST") return text(405, "use POST /drain\n", "Allow: POST\r\n");
    return api_.Drain() ? text(202, "draining: no new clients; exiting when the tunnels end\n")
                        : text(200, "already draining\n");
  }
  if (path == "/reload") {
    if (head.method != "POST") return text(405, "use POST /reload\n", "Allow: POST\r\n");
    Status reloaded = api_.Reload();
    if (!reloaded.ok()) {
      return text(500, "reload failed; the configuration before stays in force: " +
                           reloaded.message() + "\n");
    }
    return text(200, "reloaded\n");
  }
  if (!read) return text(405, "only GET and HEAD are supported here\n", "Allow: GET, HEAD\r\n");
  if (path == "/healthz") return text(200, "ok\n");
  if (path == "/readyz") {
    std::optional<std::string> reason = api_.NotReadyReason();
    return reason ? text(503, *reason + "\n") : text(200, "ready\n");
  }
  if (path == "/metrics") {
    return Reply{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.Serialize(), ""};
  }
  if (path == "/debug/delegations") return json(200, api_.Delegations());
  if (path == "/debug/config") return json(200, api_.Config());
  return json(200, api_.Tunnels());
}

void AdminServer::OnAccept(std::unique_ptr<TcpStream> stream) {
  if (connections_.size() >= kMaxOpenAdminConnections) return;  // dropping it closes it
  auto* connection = new Connection(*this, std::move(stream));
  connections_.insert(connection);
  connection->Start();
}

void AdminServer::OnConnectionDone(Connection* connection) {
  connections_.erase(connection);
  loop_.DeferDelete(std::unique_ptr<Deferrable>(connection));
}

}  // namespace deputy
