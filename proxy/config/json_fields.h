#pragma once

// The pieces the config readers share (config_loader.cc, policy_loader.cc): JSON paths for
// error messages, the first-error collector, and typed readers for one value or one object.

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/status.h"
#include "net/ip_network.h"

namespace deputy::config_json {

using Json = nlohmann::json;

inline constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();
inline constexpr uint32_t kMaxPort = 65535;

// Shown renders a JSON value for an error message, cut short so a huge value stays readable.
std::string Shown(const Json& value);
// Quoted renders text as a JSON string literal, cut short like Shown.
std::string Quoted(std::string_view text);
// Member is the path of `key` inside the object at `path`. Keys that are not plain identifiers
// (domain names in dns.hosts, anything odd) are quoted in brackets so the path stays unambiguous.
std::string Member(const std::string& path, std::string_view key);
std::string Index(const std::string& path, size_t index);
// IsPlainName says whether `name` is fit to name a listener or a rule, and so to be a metric
// label: letters, digits, '_', '.', '-', at least one.
bool IsPlainName(std::string_view name);

// Errors keeps the first validation failure. Later checks still run but cannot replace it, so
// the readers below go straight through a document without threading a Status through each call.
class Errors {
 public:
  // Messages about the document as a whole start with `root_label`; messages about a path start
  // with `prefix` and the path.
  Errors(std::string root_label, std::string prefix)
      : root_label_(std::move(root_label)), prefix_(std::move(prefix)) {}

  void Add(const std::string& path, std::string_view what) {
    if (!status_.ok()) return;
    std::string message = path.empty() ? root_label_ + ": " : prefix_ + path + ": ";
    message += what;
    status_ = Status(ErrorCode::kInvalidConfig, std::move(message));
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

 private:
  std::string root_label_;
  std::string prefix_;
  Status status_;
};

// The readers below check one value at `path`, report what is wrong with it to `errors` and
// return false, or store it in *out and return true.

// ReadInteger accepts a JSON integer in [min, max]. Floats, strings and booleans are type errors
// even when they hold a whole number: "5" and 5.0 are not 5.
bool ReadInteger(Errors* errors, const Json& value, const std::string& path, uint64_t min,
                 uint64_t max, uint64_t* out);
bool ReadUint32(Errors* errors, const Json& value, const std::string& path, uint32_t min,
                uint32_t max, uint32_t* out);
bool ReadBool(Errors* errors, const Json& value, const std::string& path, bool* out);
// ReadString accepts a non-empty string.
bool ReadString(Errors* errors, const Json& value, const std::string& path, std::string* out);
// ReadDomain accepts a DNS name and stores it lower-cased without a trailing dot.
bool ReadDomain(Errors* errors, const Json& value, const std::string& path, std::string* out);
// ReadService accepts an RFC 6335 service name and stores it normalized.
bool ReadService(Errors* errors, const Json& value, const std::string& path, std::string* out);
std::string NotAServiceName(std::string_view name);
// ReadNetworks accepts a list of CIDR networks ("10.0.0.0/8", "::1").
void ReadNetworks(Errors* errors, const Json& json, const std::string& path,
                  std::vector<IpNetwork>* out);
bool ExpectObject(Errors* errors, const Json& json, const std::string& path);

// ReadChoice accepts one of the names of `choices` (a table such as config_names.h has, or a
// braced list) and stores the value it names.
template <typename T>
bool ReadChoice(Errors* errors, const Json& value, const std::string& path,
                std::type_identity_t<std::span<const std::pair<std::string_view, T>>> choices,
                T* out) {
  if (value.is_string()) {
    for (const auto& [name, choice] : choices) {
      if (value.get_ref<const std::string&>() == name) {
        *out = choice;
        return true;
      }
    }
  }
  std::string expected;
  for (const auto& [name, choice] : choices) {
    if (!expected.empty()) expected += " or ";
    expected += Quoted(name);
  }
  errors->Add(path, "expected " + expected + ", got " + Shown(value));
  return false;
}
template <typename T>
bool ReadChoice(Errors* errors, const Json& value, const std::string& path,
                std::initializer_list<std::pair<std::string_view, T>> choices, T* out) {
  return ReadChoice<T>(errors, value, path, {choices.begin(), choices.size()}, out);
}

// Object reads the members of one JSON object at `path` and rejects members it does not know.
class Object {
 public:
  Object(Errors* errors, const Json& json, std::string path,
         std::initializer_list<std::string_view> known)
      : errors_(errors), path_(std::move(path)) {
    if (!ExpectObject(errors_, json, path_)) return;
    json_ = &json;
    for (auto it = json.begin(); it != json.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
        errors_->Add(PathOf(it.key()), "unknown key");
      }
    }
  }

  bool valid() const { return json_ != nullptr; }
  std::string PathOf(std::string_view key) const { return Member(path_, key); }

  // Find returns the member `key`, or nullptr when it is absent or this is not an object.
  const Json* Find(std::string_view key) const {
    if (json_ == nullptr) return nullptr;
    const auto it = json_->find(std::string(key));
    return it == json_->end() ? nullptr : &*it;
  }

  // Require is Find that also reports an absent member.
  const Json* Require(std::string_view key, std::string_view why = "required") const {
    const Json* value = Find(key);
    if (value == nullptr && valid()) errors_->Add(PathOf(key), why);
    return value;
  }

  // Forbid reports `key` as misplaced when it is present.
  void Forbid(std::string_view key, std::string_view why) const {
    if (Find(key) != nullptr) errors_->Add(PathOf(key), why);
  }

  // The readers below leave *out alone when the member is absent, keeping config.h's default.
  void String(std::string_view key, std::string* out) const {
    if (const Json* value = Find(key)) ReadString(errors_, *value, PathOf(key), out);
  }
  void Uint32(std::string_view key, uint32_t min, uint32_t max, uint32_t* out) const {
    if (const Json* value = Find(key)) ReadUint32(errors_, *value, PathOf(key), min, max, out);
  }
  void Bool(std::string_view key, bool* out) const {
    if (const Json* value = Find(key)) ReadBool(errors_, *value, PathOf(key), out);
  }
  void Positive(std::string_view key, uint32_t* out) const { Uint32(key, 1, kU32Max, out); }
  void NonNegative(std::string_view key, uint32_t* out) const { Uint32(key, 0, kU32Max, out); }
  template <typename T>
  void Choice(std::string_view key,
              std::type_identity_t<std::span<const std::pair<std::string_view, T>>> choices,
              T* out) const {
    if (const Json* value = Find(key)) ReadChoice<T>(errors_, *value, PathOf(key), choices, out);
  }

 private:
  Errors* errors_;
  std::string path_;
  const Json* json_ = nullptr;
};

}  // namespace deputy::config_json
