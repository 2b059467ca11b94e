// What decoding a hostile body allocates, counted by replacing the global operator new: a
// program of its own, so that the counting does not touch the other tests.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <list>
#include <new>
#include <string>
#include <vector>

#include <boost/serialization/list.hpp>

#include "dsys/rpc/marshal.hpp"

namespace {
std::size_t g_allocated = 0;  // bytes requested from operator new since the program started
}  // namespace

void* operator new(std::size_t n) {
  g_allocated += n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return ::operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocated += n;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return ::operator new(n, t);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace {

std::string le64(std::uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
  return s;
}

// A vector<string>'s encoding: a class preamble (tracking flag and version), its count, an item
// version (then the items).
std::string strings_header(std::uint64_t count) {
  return std::string(5, '\0') + le64(count) + std::string(4, '\0');
}

// Bytes allocated while decoding `body` as a T, which must be refused.
template <class T>
std::size_t allocated_refusing(const std::string& body) {
  T value;
  const std::size_t before = g_allocated;
  const bool ok = dsys::rpc::decode(body, value);
  const std::size_t used = g_allocated - before;
  CHECK_FALSE(ok);
  return used;
}

constexpr std::size_t kBody = 16u << 20;

}  // namespace

TEST_CASE("a 16 MB body declaring 16 million strings allocates almost nothing", "[decode]") {
  // Boost checked the count against the bytes (one per item) and reserved 16M × 32 bytes.
  std::string body = strings_header(kBody - 17);
  REQUIRE(dsys::rpc::encode(std::vector<std::string>(2)) == strings_header(2) + le64(0) + le64(0));
  body.resize(kBody, 'z');
  CHECK(allocated_refusing<std::vector<std::string>>(body) < (1u << 20));
}

TEST_CASE("a 16 MB body declaring 2 million strings, one of them bad, allocates about its size",
          "[decode]") {
  // 2M strings of 8 bytes fit in 16 MB, so the count passes; the items are decoded until the
  // bad one, and the vector grows with them, not by 2M × 32 bytes up front.
  std::string body = strings_header(kBody / 8 - 3);
  for (int i = 0; i < 1000; ++i) body += le64(0);  // 1000 empty strings
  body += le64(kBody);                             // then a length longer than the body
  body.resize(kBody, '\0');
  CHECK(allocated_refusing<std::vector<std::string>>(body) <= 2 * kBody);
}

TEST_CASE("a 16 MB body declaring 16 million numbers or list items allocates almost nothing",
          "[decode]") {
  std::string body = le64(kBody - 8);
  body.resize(kBody, '\0');
  CHECK(allocated_refusing<std::vector<std::uint64_t>>(body) < (1u << 20));
  std::string list_body = le64(kBody - 12) + std::string(4, '\0');
  REQUIRE(dsys::rpc::encode(std::list<std::uint32_t>{7}) ==
          le64(1) + std::string(4, '\0') + std::string("\x07\0\0\0", 4));
  list_body.resize(kBody, '\0');
  CHECK(allocated_refusing<std::list<std::uint32_t>>(list_body) < (1u << 20));
}
