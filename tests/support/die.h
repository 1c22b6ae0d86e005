#pragma once

#include <string>
#include <string_view>

namespace deputy::test {

// The fixtures stop the test binary when the machine refuses them something a test cannot do
// without (a socket, a thread, a key): there is no meaningful way to carry on.
[[noreturn]] void Die(std::string_view what);
// DieErrno appends strerror(errno).
[[noreturn]] void DieErrno(std::string_view what);
// DieSsl appends BoringSSL's error queue.
[[noreturn]] void DieSsl(std::string_view what);

// SslErrorString drains BoringSSL's error queue of this thread into one line.
std::string SslErrorString();

}  // namespace deputy::test
