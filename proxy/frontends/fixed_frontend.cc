#include "frontends/fixed_frontend.h"

namespace deputy {

FixedFrontend::FixedFrontend(EventLoop& loop, Destination destination)
    : destination_(std::move(destination)), deliver_(loop, [this] {
        if (!ready_) return;
        auto ready = std::move(ready_);
        ready_ = nullptr;
        ready(destination_);
      }) {}

void FixedFrontend::Start(ByteStream&, Buffer&, ReadyCallback ready) {
  ready_ = std::move(ready);
  deliver_.Start(0);
}

}  // namespace deputy
