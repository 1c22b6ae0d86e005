#pragma once

#include <functional>
#include <utility>

namespace deputy {

// RunOnce empties `slot` and then calls what it held, if anything. Emptying first means the
// callback cannot run twice, even when it re-enters its owner or destroys it.
template <typename Signature, typename... Args>
void RunOnce(std::function<Signature>& slot, Args&&... args) {
  if (!slot) return;
  std::function<Signature> callback = std::exchange(slot, nullptr);
  callback(std::forward<Args>(args)...);
}

}  // namespace deputy
