#include "ingest/app_names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/wire_builder.h"

namespace orbwatch::ingest {
namespace {

using test::WireBuilder;

std::span<const uint8_t> span_of(const WireBuilder& b) {
  return b.view();
}

// A TLS 1.2-style ClientHello record; `before` extensions come ahead of server_name.
WireBuilder client_hello(std::string_view sni, bool grease_first = true) {
  WireBuilder ext;
  if (grease_first) ext.be16(0x0a0a).be16(0);                   // GREASE, empty
  if (grease_first) ext.be16(10).be16(4).be16(2).be16(0x001d);  // supported_groups
  ext.be16(0).be16(static_cast<uint16_t>(sni.size() + 5));      // server_name
  ext.be16(static_cast<uint16_t>(sni.size() + 3)).u8(0).be16(static_cast<uint16_t>(sni.size()));
  ext.str(sni);
  ext.be16(16).be16(5).be16(3).u8(2).str("h2");  // ALPN
  WireBuilder hello;
  hello.be16(0x0303).zeros(32).u8(32).zeros(32);        // version, random, session id
  hello.be16(4).be16(0x1301).be16(0xc02f).u8(1).u8(0);  // suites, compression
  hello.be16(static_cast<uint16_t>(ext.size())).append(ext);
  WireBuilder hs;
  hs.u8(1).u8(0).be16(static_cast<uint16_t>(hello.size())).append(hello);
  WireBuilder rec;
  rec.u8(22).be16(0x0301).be16(static_cast<uint16_t>(hs.size())).append(hs);
  return rec;
}

TEST(TlsSni, ReadsServerNameLowerCased) {
  auto name = tls_client_hello_sni(span_of(client_hello("WWW.Example.COM")));
  ASSERT_TRUE(name);
  EXPECT_EQ(name->view(), "www.example.com");
  name = tls_client_hello_sni(span_of(client_hello("a.b", false)));
  ASSERT_TRUE(name);
  EXPECT_EQ(name->view(), "a.b");
}

TEST(TlsSni, RejectsOtherRecordsAndBadNames) {
  WireBuilder app = client_hello("x.org");
  app.vec()[0] = 23;  // application data
  EXPECT_FALSE(tls_client_hello_sni(span_of(app)));
  WireBuilder server = client_hello("x.org");
  server.vec()[5] = 2;  // ServerHello
  EXPECT_FALSE(tls_client_hello_sni(span_of(server)));
  EXPECT_FALSE(tls_client_hello_sni(span_of(client_hello("bad\x01name"))));
  EXPECT_FALSE(tls_client_hello_sni(span_of(client_hello("with space"))));
  EXPECT_FALSE(tls_client_hello_sni(span_of(client_hello(""))));
  EXPECT_FALSE(tls_client_hello_sni({}));
}

TEST(TlsSni, TruncationAtEveryOffsetNeverReadsPastTheEnd) {
  WireBuilder full = client_hello("truncated.example.net");
  size_t found_from = full.size();
  for (size_t n = 0; n <= full.size(); ++n) {
    std::vector<uint8_t> cut(full.vec().begin(), full.vec().begin() + static_cast<long>(n));
    auto name = tls_client_hello_sni(cut);  // ASan checks the bounds
    if (name) {
      EXPECT_EQ(name->view(), "truncated.example.net");
      found_from = std::min(found_from, n);
    }
  }
  // The name is reported once its bytes are all there, even if the record continues.
  EXPECT_LT(found_from, full.size());
}

TEST(TlsSni, LyingLengthsStayInBounds) {
  WireBuilder b = client_hello("x.org");
  for (size_t i = 0; i < b.size(); ++i) {
    WireBuilder m = b;
    m.vec()[i] = 0xff;
    (void)tls_client_hello_sni(span_of(m));
  }
}

std::vector<uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

TEST(HttpHost, ReadsHostHeader) {
  auto req =
      bytes_of("GET /index.html HTTP/1.1\r\nUser-Agent: x\r\nhOsT:   Example.COM:8080 \r\n\r\n");
  auto name = http_request_host(req);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->view(), "example.com");
  auto post = bytes_of("POST /x HTTP/1.0\nHost: api.test\n\nbody");
  name = http_request_host(post);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->view(), "api.test");
  auto v6 = bytes_of("GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n");
  name = http_request_host(v6);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->view(), "2001:db8::1");
}

TEST(HttpHost, RejectsNonRequestsAndMissingHost) {
  EXPECT_FALSE(http_request_host(bytes_of("HTTP/1.1 200 OK\r\nHost: a.b\r\n\r\n")));
  EXPECT_FALSE(http_request_host(bytes_of("GET / HTTP/1.1\r\nAccept: */*\r\n\r\nHost: a.b\r\n")));
  EXPECT_FALSE(http_request_host(bytes_of("get / HTTP/1.1\r\nHost: a.b\r\n\r\n")));
  EXPECT_FALSE(http_request_host(bytes_of("GET / HTTP/2\r\nHost: a.b\r\n\r\n")));
  EXPECT_FALSE(http_request_host(bytes_of("GET / HTTP/1.1\r\nHost: \r\n\r\n")));
  EXPECT_FALSE(http_request_host(bytes_of("GET / HTTP/1.1\r\nHost: a\x7f.b\r\n\r\n")));
  // A header line cut by the segment end is not trusted.
  EXPECT_FALSE(http_request_host(bytes_of("GET / HTTP/1.1\r\nHost: exam")));
  EXPECT_FALSE(http_request_host({}));
}

TEST(HttpHost, TruncationAtEveryOffset) {
  auto req = bytes_of("GET / HTTP/1.1\r\nHost: www.example.org\r\nAccept: */*\r\n\r\n");
  for (size_t n = 0; n <= req.size(); ++n) {
    std::vector<uint8_t> cut(req.begin(), req.begin() + static_cast<long>(n));
    auto name = http_request_host(cut);
    if (name) {
      EXPECT_EQ(name->view(), "www.example.org");
    }
  }
}

// DNS helpers.
void name(WireBuilder& b, std::string_view dotted) {
  while (!dotted.empty()) {
    size_t dot = dotted.find('.');
    std::string_view label = dotted.substr(0, dot);
    b.u8(static_cast<uint8_t>(label.size())).str(label);
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  b.u8(0);
}

WireBuilder dns_header(uint16_t flags, uint16_t qd, uint16_t an) {
  WireBuilder b;
  b.be16(0x1234).be16(flags).be16(qd).be16(an).be16(0).be16(0);
  return b;
}

// www.Example.com CNAME edge.cdn.net; edge.cdn.net A 192.0.2.7; edge.cdn.net AAAA 2001:db8::7.
WireBuilder dns_response() {
  WireBuilder b = dns_header(0x8180, 1, 3);
  name(b, "www.Example.com");  // at offset 12
  b.be16(1).be16(1);
  b.be16(0xC00C).be16(5).be16(1).be32(300);  // CNAME
  size_t rdlen_at = b.mark();
  b.be16(0);
  size_t target = b.size();
  name(b, "edge.cdn.net");
  b.patch_be16(rdlen_at, static_cast<uint16_t>(b.size() - target));
  b.be16(static_cast<uint16_t>(0xC000 | target)).be16(1).be16(1).be32(60).be16(4);
  b.ipv4("192.0.2.7");
  b.be16(static_cast<uint16_t>(0xC000 | target)).be16(28).be16(1).be32(61).be16(16);
  b.ipv6("2001:db8::7");
  return b;
}

TEST(Dns, ReadsQuery) {
  WireBuilder q = dns_header(0x0100, 1, 0);
  name(q, "Mail.Example.ORG");
  q.be16(28).be16(1);
  auto info = parse_dns(span_of(q), false);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->response);
  EXPECT_TRUE(info->has_query);
  EXPECT_EQ(info->query.view(), "mail.example.org");
  EXPECT_EQ(info->qtype, 28);
  EXPECT_EQ(info->answer_count, 0);
}

TEST(Dns, ReadsAnswersThroughCnameAndCompression) {
  auto info = parse_dns(span_of(dns_response()), false);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->response);
  EXPECT_EQ(info->query.view(), "www.example.com");
  ASSERT_EQ(info->answer_count, 2);
  EXPECT_EQ(info->answers[0].name.view(), "edge.cdn.net");  // owner as given, not the query
  EXPECT_EQ(info->answers[0].addr, *IpAddr::parse("192.0.2.7"));
  EXPECT_EQ(info->answers[0].ttl, 60u);
  EXPECT_EQ(info->answers[1].addr, *IpAddr::parse("2001:db8::7"));
  EXPECT_EQ(info->answers[1].ttl, 61u);
}

TEST(Dns, TcpLengthPrefix) {
  WireBuilder r = dns_response();
  WireBuilder t;
  t.be16(static_cast<uint16_t>(r.size())).append(r);
  auto info = parse_dns(span_of(t), true);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->answer_count, 2);
}

TEST(Dns, PointerLoopsEnd) {
  WireBuilder self = dns_header(0x0100, 1, 0);
  self.be16(0xC00C).be16(1).be16(1);  // the question name points at itself
  EXPECT_FALSE(parse_dns(span_of(self), false));
  WireBuilder two = dns_header(0x0100, 1, 0);
  two.be16(0xC00E).be16(0xC00C).be16(1).be16(1);  // 12 -> 14 -> 12 ...
  EXPECT_FALSE(parse_dns(span_of(two), false));
  WireBuilder labels = dns_header(0x0100, 1, 0);
  labels.u8(1).str("a").be16(0xC00C).be16(1).be16(1);  // a.a.a.a... until 255 octets
  EXPECT_FALSE(parse_dns(span_of(labels), false));
  WireBuilder outside = dns_header(0x0100, 1, 0);
  outside.be16(0xFFFF).be16(1).be16(1);
  EXPECT_FALSE(parse_dns(span_of(outside), false));
}

TEST(Dns, LabelAndNameLimits) {
  WireBuilder overlong = dns_header(0x0100, 1, 0);
  overlong.u8(64).zeros(64).u8(0).be16(1).be16(1);
  EXPECT_FALSE(parse_dns(span_of(overlong), false));
  WireBuilder reserved = dns_header(0x0100, 1, 0);
  reserved.u8(0x41).u8(0).be16(1).be16(1);
  EXPECT_FALSE(parse_dns(span_of(reserved), false));

  std::string label63(63, 'a');
  std::string ok = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');  // 253
  WireBuilder max = dns_header(0x0100, 1, 0);
  name(max, ok);
  max.be16(1).be16(1);
  auto info = parse_dns(span_of(max), false);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->query.view(), ok);
  WireBuilder too_long = dns_header(0x0100, 1, 0);
  name(too_long, ok + "b");
  too_long.be16(1).be16(1);
  EXPECT_FALSE(parse_dns(span_of(too_long), false));

  WireBuilder binary = dns_header(0x0100, 1, 0);
  binary.u8(3).bytes({'a', 0, 'b'}).u8(0).be16(1).be16(1);
  EXPECT_FALSE(parse_dns(span_of(binary), false));
}

TEST(Dns, NoiseIsNotDns) {
  EXPECT_FALSE(parse_dns({}, false));
  WireBuilder no_question = dns_header(0x8180, 0, 1);
  EXPECT_FALSE(parse_dns(span_of(no_question), false));
  WireBuilder root = dns_header(0x0100, 1, 0);
  root.u8(0).be16(2).be16(1);
  auto info = parse_dns(span_of(root), false);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->has_query);
}

TEST(Dns, AnswerCapAndHostileCounts) {
  WireBuilder b = dns_header(0x8180, 1, 40);
  name(b, "many.test");
  b.be16(1).be16(1);
  for (int i = 0; i < 40; ++i) {
    b.be16(0xC00C).be16(1).be16(1).be32(5).be16(4).be32(0x0A000000u + static_cast<uint32_t>(i));
  }
  auto info = parse_dns(span_of(b), false);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->answer_count, DnsInfo::kMaxAnswers);
  WireBuilder lying = dns_header(0x8180, 65535, 65535);
  name(lying, "x.test");
  lying.be16(1).be16(1);
  info = parse_dns(span_of(lying), false);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->answer_count, 0);
}

TEST(Dns, TruncationAndCorruptionAtEveryOffset) {
  WireBuilder full = dns_response();
  for (size_t n = 0; n <= full.size(); ++n) {
    std::vector<uint8_t> cut(full.vec().begin(), full.vec().begin() + static_cast<long>(n));
    auto info = parse_dns(cut, false);
    if (info && info->has_query) {
      EXPECT_EQ(info->query.view(), "www.example.com");
    }
    if (info) {
      EXPECT_LE(info->answer_count, 2);
    }
  }
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t v : {uint8_t{0x00}, uint8_t{0xC0}, uint8_t{0x3F}, uint8_t{0xFF}}) {
      WireBuilder m = full;
      m.vec()[i] = v;
      (void)parse_dns(span_of(m), false);
      (void)parse_dns(span_of(m), true);
    }
  }
}

}  // namespace
}  // namespace orbwatch::ingest
