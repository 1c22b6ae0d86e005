#include "config/json_fields.h"

#include <algorithm>
#include <optional>

#include "net/names.h"

namespace deputy::config_json {

namespace {

constexpr size_t kMaxShownChars = 60;

bool IsPlainKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

}  // namespace

std::string Shown(const Json& value) {
  std::string text = value.dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
  if (text.size() > kMaxShownChars) {
    text.resize(kMaxShownChars);
    text += "...";
  }
  return text;
}

std::string Quoted(std::string_view text) { return Shown(Json(std::string(text))); }

std::string Member(const std::string& path, std::string_view key) {
  if (!IsPlainKey(key)) return path + "[" + Quoted(key) + "]";
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

bool IsPlainName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string Index(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

bool ReadInteger(Errors* errors, const Json& value, const std::string& path, uint64_t min,
                 uint64_t max, uint64_t* out) {
  std::optional<uint64_t> number;
  if (value.is_number_unsigned()) {
    number = value.get<uint64_t>();
  } else if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    number = static_cast<uint64_t>(value.get<int64_t>());
  }
  if (number && *number >= min && *number <= max) {
    *out = *number;
    return true;
  }
  std::string expected;
  if (max == kU32Max && min <= 1) {
    expected = min == 0 ? "a non-negative integer" : "a positive integer";
  } else {
    expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  }
  std::string message = "expected " + expected + ", got " + Shown(value);
  if (number && *number > max && max == kU32Max) message += " (at most 4294967295)";
  errors->Add(path, message);
  return false;
}

bool ReadUint32(Errors* errors, const Json& value, const std::string& path, uint32_t min,
                uint32_t max, uint32_t* out) {
  uint64_t number = 0;
  if (!ReadInteger(errors, value, path, min, max, &number)) return false;
  *out = static_cast<uint32_t>(number);
  return true;
}

bool ReadBool(Errors* errors, const Json& value, const std::string& path, bool* out) {
  if (!value.is_boolean()) {
    errors->Add(path, "expected true or false, got " + Shown(value));
    return false;
  }
  *out = value.get<bool>();
  return true;
}

bool ReadString(Errors* errors, const Json& value, const std::string& path, std::string* out) {
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
    errors->Add(path, "expected a non-empty string, got " + Shown(value));
    return false;
  }
  *out = value.get<std::string>();
  return true;
}

bool ReadDomain(Errors* errors, const Json& value, const std::string& path, std::string* out) {
  if (!value.is_string()) {
    errors->Add(path, "expected a domain name string, got " + Shown(value));
    return false;
  }
  Result<std::string> domain = NormalizeDomain(value.get_ref<const std::string&>());
  if (!domain.ok()) {
    errors->Add(path, domain.status().message());
    return false;
  }
  *out = std::move(domain).value();
  return true;
}

std::string NotAServiceName(std::string_view name) {
  return Quoted(name) +
         " is not a valid service name (RFC 6335: 1-15 letters, digits and single inner "
         "hyphens, at least one letter)";
}

bool ReadService(Errors* errors, const Json& value, const std::string& path, std::string* out) {
  if (!value.is_string()) {
    errors->Add(path, "expected a service name string, got " + Shown(value));
    return false;
  }
  const std::string& name = value.get_ref<const std::string&>();
  if (!IsValidServiceName(name)) {
    errors->Add(path, NotAServiceName(name));
    return false;
  }
  *out = NormalizeServiceName(name);
  return true;
}

bool ExpectObject(Errors* errors, const Json& json, const std::string& path) {
  if (json.is_object()) return true;
  errors->Add(path, "expected an object, got " + Shown(json));
  return false;
}

void ReadNetworks(Errors* errors, const Json& json, const std::string& path,
                  std::vector<IpNetwork>* out) {
  if (!json.is_array()) {
    errors->Add(path, "expected a list of networks (\"10.0.0.0/8\"), got " + Shown(json));
    return;
  }
  for (size_t i = 0; i < json.size(); ++i) {
    if (!json[i].is_string()) {
      errors->Add(Index(path, i), "expected a network (\"10.0.0.0/8\"), got " + Shown(json[i]));
      continue;
    }
    Result<IpNetwork> network = ParseIpNetwork(json[i].get_ref<const std::string&>());
    if (!network.ok()) {
      errors->Add(Index(path, i), network.status().message());
      continue;
    }
    out->push_back(*network);
  }
}

}  // namespace deputy::config_json
