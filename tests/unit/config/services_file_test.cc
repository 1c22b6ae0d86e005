#include "config/services_file.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "support/temp_dir.h"

namespace deputy {
namespace {

constexpr char kSample[] = R"(# Network services, Internet style
tcpmux		1/tcp				# TCP port service multiplexer
http		80/tcp		www		# WorldWideWeb HTTP
https		443/tcp				# http protocol over TLS/SSL
https		443/udp
xmpp-client	5222/tcp	jabber-client	# Jabber Client Connection
domain		53/udp
syslog		514/udp
shell		514/tcp		cmd		# no passwords used
	indented	7000/tcp
)";

TEST(ServicesFileTest, ReadsNamesAliasesAndPortsOfTcpEntries) {
  const ServicesTable table = ServicesTable::Parse(kSample);
  EXPECT_EQ(table.PortOf("http"), std::optional<uint16_t>(80));
  EXPECT_EQ(table.PortOf("www"), std::optional<uint16_t>(80));
  EXPECT_EQ(table.PortOf("jabber-client"), std::optional<uint16_t>(5222));
  EXPECT_EQ(table.PortOf("indented"), std::optional<uint16_t>(7000));
  EXPECT_EQ(table.NameOf(5222), std::optional<std::string>("xmpp-client"));
  EXPECT_EQ(table.NameOf(1), std::optional<std::string>("tcpmux"));
}

TEST(ServicesFileTest, UdpOnlyEntriesAreIgnored) {
  const ServicesTable table = ServicesTable::Parse(kSample);
  EXPECT_EQ(table.PortOf("domain"), std::nullopt);
  EXPECT_EQ(table.NameOf(53), std::nullopt);
  // 514 is syslog over udp but shell over tcp.
  EXPECT_EQ(table.NameOf(514), std::optional<std::string>("shell"));
  EXPECT_EQ(table.PortOf("syslog"), std::nullopt);
}

TEST(ServicesFileTest, CommentsAreNotNamesOrAliases) {
  const ServicesTable table = ServicesTable::Parse("echo 7/tcp alias #comment more\n#x 9/tcp\n");
  EXPECT_EQ(table.PortOf("alias"), std::optional<uint16_t>(7));
  EXPECT_EQ(table.PortOf("#comment"), std::nullopt);
  EXPECT_EQ(table.PortOf("comment"), std::nullopt);
  EXPECT_EQ(table.PortOf("more"), std::nullopt);
  EXPECT_EQ(table.PortOf("x"), std::nullopt);
  EXPECT_EQ(table.NameOf(9), std::nullopt);
}

TEST(ServicesFileTest, NamesCompareIgnoringCaseAndKeepTheirSpelling) {
  const ServicesTable table = ServicesTable::Parse("My-Service 4000/TCP Other\n");
  EXPECT_EQ(table.PortOf("my-service"), std::optional<uint16_t>(4000));
  EXPECT_EQ(table.PortOf("MY-SERVICE"), std::optional<uint16_t>(4000));
  EXPECT_EQ(table.PortOf("other"), std::optional<uint16_t>(4000));
  EXPECT_EQ(table.NameOf(4000), std::optional<std::string>("My-Service"));
}

TEST(ServicesFileTest, FirstLineWinsForANameAndForAPort) {
  const ServicesTable table = ServicesTable::Parse(
      "first 4000/tcp shared\n"
      "second 4000/tcp\n"
      "first 4001/tcp\n"
      "third 4002/tcp shared\n");
  EXPECT_EQ(table.NameOf(4000), std::optional<std::string>("first"));
  EXPECT_EQ(table.PortOf("first"), std::optional<uint16_t>(4000));
  EXPECT_EQ(table.PortOf("shared"), std::optional<uint16_t>(4000));
  EXPECT_EQ(table.PortOf("second"), std::optional<uint16_t>(4000));
  // As with getservbyport: the first line for 4001 names it, though "first" maps to 4000.
  EXPECT_EQ(table.NameOf(4001), std::optional<std::string>("first"));
  EXPECT_EQ(table.NameOf(4002), std::optional<std::string>("third"));
}

TEST(ServicesFileTest, MalformedLinesAreSkipped) {
  const ServicesTable table = ServicesTable::Parse(
      "noport\n"
      "noproto 4000\n"
      "zero 0/tcp\n"
      "big 65536/tcp\n"
      "neg -1/tcp\n"
      "hex 0x10/tcp\n"
      "empty /tcp\n"
      "sign +5/tcp\n"
      "\n"
      "   \t  \n"
      "crlf 4001/tcp\r\n"
      "max 65535/tcp");
  for (const char* name : {"noport", "noproto", "zero", "big", "neg", "hex", "empty", "sign"}) {
    EXPECT_EQ(table.PortOf(name), std::nullopt) << name;
  }
  EXPECT_EQ(table.PortOf("crlf"), std::optional<uint16_t>(4001));
  EXPECT_EQ(table.PortOf("max"), std::optional<uint16_t>(65535));
}

TEST(ServicesFileTest, LoadReadsAFileAndExplainsAMissingOne) {
  test::TempDir dir;
  Result<ServicesTable> table = ServicesTable::Load(dir.Write("services", kSample));
  ASSERT_TRUE(table.ok()) << table.status().message();
  EXPECT_EQ(table->PortOf("https"), std::optional<uint16_t>(443));

  Result<ServicesTable> missing = ServicesTable::Load(dir.path() + "/absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(dir.path() + "/absent"), std::string::npos);
  EXPECT_NE(missing.status().message().find("No such file"), std::string::npos);
}

TEST(ServicesFileTest, LoadRefusesAnOversizedFile) {
  test::TempDir dir;
  const std::string path =
      dir.Write("services", std::string(ServicesTable::kMaxFileBytes + 1, '#'));
  EXPECT_FALSE(ServicesTable::Load(path).ok());
}

}  // namespace
}  // namespace deputy
