#include "net/dns_message.h"

#include <ares.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "base/ascii.h"

namespace deputy {

namespace {

constexpr size_t kHeaderSize = 12;
constexpr uint16_t kClassIn = 1;
constexpr uint16_t kTypeCname = 5;
constexpr uint16_t kTypeSoa = 6;
constexpr uint16_t kRcodeNoError = 0;
constexpr uint16_t kRcodeNxDomain = 3;
constexpr int kMaxChain = 16;

uint16_t Read16(const unsigned char* at) { return static_cast<uint16_t>(at[0] << 8 | at[1]); }

uint32_t Read32(const unsigned char* at) {
  return static_cast<uint32_t>(at[0]) << 24 | static_cast<uint32_t>(at[1]) << 16 |
         static_cast<uint32_t>(at[2]) << 8 | at[3];
}

// A TTL with the top bit set is read as 0 (RFC 2181 section 8).
uint32_t ReadTtl(const unsigned char* at) {
  const uint32_t ttl = Read32(at);
  return ttl > 0x7fffffffu ? 0 : ttl;
}

struct Record {
  std::string owner;
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  size_t rdata = 0;  // offset of the data in the message
  uint16_t rdlength = 0;
};

// MessageReader walks a message front to back; every read is bounds-checked and a failed one
// leaves it failed. Names are decompressed by c-ares (ares_expand_name), which bounds pointer
// loops and lengths.
class MessageReader {
 public:
  MessageReader(const unsigned char* message, size_t length)
      : message_(message), length_(length), at_(kHeaderSize) {}

  bool failed() const { return failed_; }

  // Name decompresses the name at `offset`, lower-case without the trailing dot, and says how
  // many bytes it takes there.
  std::optional<std::string> Name(size_t offset, size_t* used) {
    if (offset >= length_) return std::nullopt;
    char* expanded = nullptr;
    long encoded_length = 0;
    if (ares_expand_name(message_ + offset, message_, static_cast<int>(length_), &expanded,
                         &encoded_length) != ARES_SUCCESS) {
      return std::nullopt;
    }
    std::string name = AsciiLower(expanded);
    ares_free_string(expanded);
    *used = static_cast<size_t>(encoded_length);
    return name;
  }

  void SkipQuestion() {
    size_t used = 0;
    if (failed_ || !Name(at_, &used) || !Has(at_ + used, 4)) {
      failed_ = true;
      return;
    }
    at_ += used + 4;
  }

  std::optional<Record> NextRecord() {
    size_t used = 0;
    std::optional<std::string> owner = failed_ ? std::nullopt : Name(at_, &used);
    if (!owner || !Has(at_ + used, 10)) {
      failed_ = true;
      return std::nullopt;
    }
    const unsigned char* fixed = message_ + at_ + used;
    Record record{std::move(*owner),  Read16(fixed),   Read16(fixed + 2),
                  ReadTtl(fixed + 4), at_ + used + 10, Read16(fixed + 8)};
    if (!Has(record.rdata, record.rdlength)) {
      failed_ = true;
      return std::nullopt;
    }
    at_ = record.rdata + record.rdlength;
    return record;
  }

  const unsigned char* At(size_t offset) const { return message_ + offset; }

 private:
  bool Has(size_t offset, size_t count) const {
    return offset <= length_ && count <= length_ - offset;
  }

  const unsigned char* message_;
  size_t length_;
  size_t at_;
  bool failed_ = false;
};

// NegativeTtl is min(SOA TTL, SOA MINIMUM) of the first SOA in the authority section.
std::optional<uint32_t> NegativeTtl(MessageReader& reader, const std::vector<Record>& authority) {
  for (const Record& record : authority) {
    if (record.type != kTypeSoa || record.klass != kClassIn) continue;
    size_t mname = 0;
    size_t rname = 0;
    if (!reader.Name(record.rdata, &mname) || !reader.Name(record.rdata + mname, &rname)) {
      return std::nullopt;
    }
    const size_t fields = mname + rname;
    if (fields + 20 != record.rdlength) return std::nullopt;
    const uint32_t minimum = Read32(reader.At(record.rdata + fields + 16));
    return std::min(record.ttl, minimum > 0x7fffffffu ? 0 : minimum);
  }
  return std::nullopt;
}

}  // namespace

std::string_view DnsTypeLabel(DnsType type) {
  switch (type) {
    case DnsType::kA:
      return "A";
    case DnsType::kAaaa:
      return "AAAA";
    case DnsType::kSrv:
      return "SRV";
  }
  return "A";
}

std::optional<DnsAnswer> ParseDnsResponse(const unsigned char* message, size_t length,
                                          std::string_view name, DnsType type) {
  if (length < kHeaderSize) return std::nullopt;
  const uint16_t rcode = Read16(message + 2) & 0x000f;
  if (rcode != kRcodeNoError && rcode != kRcodeNxDomain) return std::nullopt;
  MessageReader reader(message, length);
  for (uint16_t i = 0, n = Read16(message + 4); i < n; ++i) reader.SkipQuestion();
  std::vector<Record> answers;
  std::vector<Record> authority;
  for (uint16_t i = 0, n = Read16(message + 6); i < n && !reader.failed(); ++i) {
    if (auto record = reader.NextRecord()) answers.push_back(std::move(*record));
  }
  for (uint16_t i = 0, n = Read16(message + 8); i < n && !reader.failed(); ++i) {
    if (auto record = reader.NextRecord()) authority.push_back(std::move(*record));
  }
  if (reader.failed()) return std::nullopt;

  DnsAnswer answer;
  if (rcode == kRcodeNxDomain) {
    answer.kind = DnsAnswer::Kind::kNxDomain;
    answer.ttl_s = NegativeTtl(reader, authority);
    return answer;
  }

  // Follow the CNAME chain from `name`; the TTL of each link bounds the answer's.
  std::string owner(name);
  uint32_t chain_ttl = UINT32_MAX;
  for (int link = 0; link <= kMaxChain; ++link) {
    auto cname = std::find_if(answers.begin(), answers.end(), [&owner](const Record& record) {
      return record.type == kTypeCname && record.klass == kClassIn && record.owner == owner;
    });
    if (cname == answers.end()) break;
    if (link == kMaxChain) return std::nullopt;
    size_t used = 0;
    std::optional<std::string> target = reader.Name(cname->rdata, &used);
    if (!target || used != cname->rdlength) return std::nullopt;
    chain_ttl = std::min(chain_ttl, cname->ttl);
    owner = std::move(*target);
  }

  uint32_t ttl = chain_ttl;
  for (const Record& record : answers) {
    if (record.owner != owner || record.klass != kClassIn ||
        record.type != static_cast<uint16_t>(type)) {
      continue;
    }
    const unsigned char* data = reader.At(record.rdata);
    if (type == DnsType::kA && record.rdlength == 4) {
      IpEndpoint endpoint;
      auto* in = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
      in->sin_family = AF_INET;
      std::memcpy(&in->sin_addr, data, 4);
      answer.addresses.push_back(endpoint);
    } else if (type == DnsType::kAaaa && record.rdlength == 16) {
      IpEndpoint endpoint;
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
      in6->sin6_family = AF_INET6;
      std::memcpy(&in6->sin6_addr, data, 16);
      answer.addresses.push_back(endpoint);
    } else if (type == DnsType::kSrv && record.rdlength > 6) {
      size_t used = 0;
      std::optional<std::string> target = reader.Name(record.rdata + 6, &used);
      if (!target || used + 6 != record.rdlength) return std::nullopt;
      answer.services.push_back(
          SrvRecord{Read16(data), Read16(data + 2), Read16(data + 4), std::move(*target)});
    } else {
      return std::nullopt;
    }
    ttl = std::min(ttl, record.ttl);
  }
  if (answer.addresses.empty() && answer.services.empty()) {
    answer.kind = DnsAnswer::Kind::kNoData;
    std::optional<uint32_t> negative = NegativeTtl(reader, authority);
    if (negative) answer.ttl_s = std::min(*negative, chain_ttl);
    return answer;
  }
  answer.kind = DnsAnswer::Kind::kRecords;
  answer.ttl_s = ttl;
  return answer;
}

}  // namespace deputy
