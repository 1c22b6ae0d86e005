#include "net/tcp_stream.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <vector>

#include "base/run_once.h"

namespace deputy {

struct TcpStream::WriteRequest {
  uv_write_t req{};
  Buffer data;
  std::vector<uv_buf_t> bufs;
};

namespace {

Status UvError(ErrorCode code, const char* what, int rc) {
  return Status(code, std::string(what) + ": " + uv_strerror(rc));
}

// The kernel's own connect timeout is a timeout; every other failure means nobody accepted.
ErrorCode ConnectErrorCode(int rc) {
  return rc == UV_ETIMEDOUT ? ErrorCode::kConnectionTimeout : ErrorCode::kConnectionRefused;
}

}  // namespace

TcpStream::TcpStream(UvHandle<uv_tcp_t> accepted) : handle_(std::move(accepted)) {
  handle_.get()->data = this;
  uv_tcp_nodelay(handle_.get(), 1);
}

TcpStream::TcpStream(EventLoop& loop) {
  handle_.Init([&loop](uv_tcp_t* h) { return uv_tcp_init(loop.get(), h); }, this);
}

TcpStream::~TcpStream() { Close(); }

std::optional<IpEndpoint> TcpStream::peer() const {
  if (!handle_) return std::nullopt;
  return PeerEndpoint(handle_.get());
}

void TcpStream::Connect(const IpEndpoint& endpoint, ConnectCallback done) {
  connect_done_ = std::move(done);
  auto* req = new uv_connect_t{};
  int rc = handle_
               ? uv_tcp_connect(req, handle_.get(), endpoint.addr(),
                                [](uv_connect_t* r, int status) {
                                  auto* self = OwnerOf<TcpStream>(r->handle);
                                  delete r;
                                  if (self == nullptr) return;
                                  if (status == 0) {
                                    uv_tcp_nodelay(self->handle_.get(), 1);
                                    RunOnce(self->connect_done_, Status::Ok());
                                  } else {
                                    RunOnce(self->connect_done_,
                                            UvError(ConnectErrorCode(status), "connect", status));
                                  }
                                })
               : UV_EINVAL;
  if (rc != 0) {
    delete req;
    // The connect never started (e.g. no such address family); report it at once.
    RunOnce(connect_done_, UvError(ConnectErrorCode(rc), "connect", rc));
  }
}

void TcpStream::Write(Buffer& data) {
  if (!handle_ || shutdown_requested_) {
    data.Clear();
    return;
  }
  pending_.MoveFrom(data);
  if (in_flight_bytes_ == 0) StartWrite();
}

void TcpStream::StartWrite() {
  if (pending_.empty() || !handle_) return;
  auto* request = new WriteRequest;
  request->data.MoveFrom(pending_);
  request->data.ForEachSlice([request](const uint8_t* data, size_t size) {
    request->bufs.push_back(uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data)),
                                        static_cast<unsigned>(size)));
  });
  request->req.data = request;
  in_flight_bytes_ = request->data.size();
  int rc = uv_write(&request->req, handle_.stream(), request->bufs.data(),
                    static_cast<unsigned>(request->bufs.size()), [](uv_write_t* r, int status) {
                      auto* request = static_cast<WriteRequest*>(r->data);
                      auto* self = OwnerOf<TcpStream>(r->handle);
                      delete request;
                      if (self != nullptr) self->OnWriteDone(status);
                    });
  if (rc != 0) {
    delete request;
    in_flight_bytes_ = 0;
    Fail(UvError(ErrorCode::kConnectionTerminated, "write", rc));
  }
}

void TcpStream::OnWriteDone(int status) {
  in_flight_bytes_ = 0;
  if (status != 0) {
    Fail(UvError(ErrorCode::kConnectionTerminated, "write", status));
    return;
  }
  if (!pending_.empty()) {
    StartWrite();
    return;
  }
  if (shutdown_requested_) StartShutdown();
  if (callbacks_ != nullptr && handle_) callbacks_->OnWriteDrained();
}

size_t TcpStream::UnacknowledgedBytes() const {
  uv_os_fd_t fd;
  int queued = 0;
  if (!handle_ || uv_fileno(handle_.base(), &fd) != 0 || ioctl(fd, SIOCOUTQ, &queued) != 0) {
    return 0;
  }
  return static_cast<size_t>(queued);
}

void TcpStream::ShutdownWrite() {
  if (!handle_ || shutdown_requested_) return;
  shutdown_requested_ = true;
  if (BufferedBytes() == 0) StartShutdown();
}

void TcpStream::StartShutdown() {
  if (shutdown_started_ || !handle_) return;
  shutdown_started_ = true;
  auto* req = new uv_shutdown_t{};
  // A failed shutdown means the peer is gone; the read side reports that.
  if (uv_shutdown(req, handle_.stream(), [](uv_shutdown_t* r, int) { delete r; }) != 0) {
    delete req;
  }
}

void TcpStream::SetReadEnabled(bool enabled) {
  if (!handle_ || eof_received_ || enabled == reading_) return;
  reading_ = enabled;
  if (!enabled) {
    uv_read_stop(handle_.stream());
    return;
  }
  int rc = uv_read_start(
      handle_.stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = OwnerOf<TcpStream>(h);
        if (self == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        std::span<uint8_t> space = self->read_buffer_.Reserve();
        *buf =
            uv_buf_init(reinterpret_cast<char*>(space.data()), static_cast<unsigned>(space.size()));
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        auto* self = OwnerOf<TcpStream>(s);
        if (self != nullptr) self->OnRead(nread);
      });
  if (rc != 0) {
    reading_ = false;
    Fail(UvError(ErrorCode::kConnectionTerminated, "read", rc));
  }
}

void TcpStream::OnRead(ssize_t nread) {
  if (nread >= 0) {
    read_buffer_.Commit(static_cast<size_t>(nread));
    if (nread > 0 && callbacks_ != nullptr) callbacks_->OnData(read_buffer_);
    return;
  }
  read_buffer_.Commit(0);
  if (nread == UV_EOF) {
    // After a short read libuv reports a hang-up as EOF without reading on, and a reset hangs
    // up too; only the socket's pending error tells a reset from a FIN then.
    if (int error = PendingSocketError(); error != 0) {
      Fail(UvError(ErrorCode::kConnectionTerminated, "read", uv_translate_sys_error(error)));
      return;
    }
    eof_received_ = true;
    reading_ = false;
    uv_read_stop(handle_.stream());
    if (callbacks_ != nullptr) callbacks_->OnEndOfStream();
    return;
  }
  Fail(UvError(ErrorCode::kConnectionTerminated, "read", static_cast<int>(nread)));
}

int TcpStream::PendingSocketError() const {
  uv_os_fd_t fd;
  int error = 0;
  socklen_t size = sizeof(error);
  if (uv_fileno(handle_.base(), &fd) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) {
    return 0;
  }
  return error;
}

void TcpStream::Fail(const Status& status) {
  StreamCallbacks* callbacks = callbacks_;
  Close();
  if (callbacks != nullptr) callbacks->OnError(status);
}

void TcpStream::Close() {
  if (!handle_) return;
  reading_ = false;
  handle_.Close();
  pending_.Clear();
  read_buffer_.Clear();
  connect_done_ = nullptr;
}

void TcpStream::Reset() {
  if (!handle_) return;
  // Zero linger makes the close send RST and drop unsent bytes. This is all uv_tcp_close_reset
  // does on Unix, but it refuses (UV_EINVAL, handle left open) while a shutdown is queued behind
  // pending writes, exactly when a half-closed stream breaks, and it would close the handle
  // behind UvHandle's back; so set the option here and close as usual.
  uv_os_fd_t fd;
  if (uv_fileno(handle_.base(), &fd) == 0) {
    struct linger abortive = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
  }
  Close();
}

}  // namespace deputy
