#include "admin/admin_server.h"

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
    std::string path = head.target.substr(0, head.target.find('?'));
    if (head.method != "GET" && head.method != "HEAD") {
      Respond(405, "text/plain", "only GET is supported\n");
    } else if (path == "/metrics") {
      Respond(200, "text/plain; version=0.0.4; charset=utf-8", server_.metrics_.Serialize(),
              head.method == "HEAD");
    } else if (path == "/healthz") {
      bool healthy = server_.healthy_();
      Respond(healthy ? 200 : 503, "text/plain", healthy ? "ok\n" : "shutting down\n",
              head.method == "HEAD");
    } else {
      Respond(404, "text/plain", "not found; try /metrics or /healthz\n");
    }
  }

  void OnEndOfStream() override {
    if (!responded_) Done();
  }
  void OnWriteDrained() override {
    if (responded_) Done();
  }
  void OnError(const Status&) override { Done(); }

  void Respond(int status, const std::string& content_type, const std::string& body,
               bool head_only = false) {
    responded_ = true;
    Buffer out;
    out.Append("HTTP/1.1 " + std::to_string(status) + " " + std::string(ReasonPhrase(status)) +
               "\r\nContent-Type: " + content_type + "\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n");
    if (!head_only) out.Append(body);
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

AdminServer::AdminServer(EventLoop& loop, Metrics& metrics, std::function<bool()> healthy)
    : loop_(loop),
      metrics_(metrics),
      healthy_(std::move(healthy)),
      listener_(loop, [this](std::unique_ptr<TcpStream> s) { OnAccept(std::move(s)); }) {}

AdminServer::~AdminServer() {
  for (Connection* connection : connections_) delete connection;
}

Status AdminServer::Bind(const IpEndpoint& endpoint) { return listener_.Bind(endpoint); }

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
