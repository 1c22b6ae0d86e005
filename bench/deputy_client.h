#pragma once

#include <sys/types.h>

#include <string>

#include "support/process_stats.h"
#include "support/socket.h"
#include "support/wait.h"

namespace deputy::bench {

// Bound for each single step (a connect, a handshake, a close); generous for a loaded machine.
inline constexpr test::Millis kStepTimeout{10000};

// OpenTunnel asks the deputy listening on `port` for the bench authority and returns the socket
// (blocking mode) once deputy answered 200; an invalid socket, with `*error` set, otherwise.
test::Socket OpenTunnel(uint16_t port, std::string* error);

// TimeTunnel opens one tunnel, returns the milliseconds to its 200 and closes it gracefully;
// negative on failure.
double TimeTunnel(uint16_t port, std::string* error);

// CpuSeconds is the user + system time `pid` has used so far, negative if /proc does not tell.
inline double CpuSeconds(pid_t pid) { return static_cast<double>(test::ProcessCpuMs(pid)) / 1000; }

}  // namespace deputy::bench
