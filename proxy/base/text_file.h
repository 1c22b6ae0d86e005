#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"

namespace deputy {

// ReadTextFile reads the whole file at `path`, refusing one larger than `max_bytes` rather
// than holding it; errors are kInvalidConfig and name the path.
Result<std::string> ReadTextFile(const std::string& path, size_t max_bytes);

}  // namespace deputy
