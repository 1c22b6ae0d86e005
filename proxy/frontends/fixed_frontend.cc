#include "frontends/fixed_frontend.h"

#include "base/run_once.h"

namespace deputy {

FixedFrontend::FixedFrontend(EventLoop& loop, Destination destination)
    : destination_(std::move(destination)), deliver_(loop, [this] {
        RunOnce(ready_, ClientRequest{destination_, {}});
      }) {}

void FixedFrontend::Start(ByteStream&, const std::optional<IpAddress>&, Buffer&,
                          ReadyCallback ready) {
  ready_ = std::move(ready);
  deliver_.Start(0);
}

}  // namespace deputy
