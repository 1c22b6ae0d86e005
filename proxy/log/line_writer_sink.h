#pragma once

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>
#include <string>

#include "log/line_writer.h"

namespace deputy {

// LineWriterSink formats spdlog messages on the caller's thread and hands them to a LineWriter,
// so a logger using it never waits for its sink. spdlog's own async logger (1.10) can only
// block or overrun silently, and bounds messages but not bytes.
class LineWriterSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LineWriterSink(std::shared_ptr<LineWriter> writer) : writer_(std::move(writer)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    writer_->Write(std::string(formatted.data(), formatted.size()));
  }
  // The writer thread writes as soon as it can; there is nothing to wait for here.
  void flush_() override {}

 private:
  std::shared_ptr<LineWriter> writer_;
};

}  // namespace deputy
