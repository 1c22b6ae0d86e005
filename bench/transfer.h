#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bench/transport.h"
#include "support/wait.h"

namespace deputy::bench {

// EchoTransfer sends `total` bytes (`pattern` repeated) through `transport` to an echo server
// and reads them back, both directions at once from this one thread, checking every byte
// returned. Returns the seconds it took, or a negative value with `*error` set.
double EchoTransfer(Transport& transport, std::string_view pattern, uint64_t total,
                    test::Millis timeout, std::string* error);

// CloseGracefully half-closes our side and waits until the peer has ended its own, so nothing
// of this connection is still being torn down when the next measurement starts.
bool CloseGracefully(Transport& transport, test::Millis timeout);

}  // namespace deputy::bench
