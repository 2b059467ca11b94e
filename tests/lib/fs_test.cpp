// The file system's fixed parts: the directory encoding every lab shares, name checks, errno
// values, and the extent protocol's messages.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "dsys/core/rng.hpp"
#include "dsys/extent/protocol.hpp"
#include "dsys/fs/directory.hpp"
#include "dsys/fs/types.hpp"
#include "dsys/rpc/marshal.hpp"

using dsys::fs::Directory;
using dsys::fs::Error;

TEST_CASE("a directory encodes and decodes its entries in order, and an empty extent is empty") {
  auto empty = Directory::decode("");
  REQUIRE(empty);
  CHECK(empty->empty());
  Directory d;
  CHECK(d.add("b", 0x80000002));
  CHECK(d.add("a", 0x80000001));
  CHECK(d.add(std::string(255, 'x'), 7));
  CHECK_FALSE(d.add("a", 0x80000009));  // taken: nothing changes
  auto back = Directory::decode(d.encode());
  REQUIRE(back);
  REQUIRE(back->size() == 3);
  CHECK(back->entries()[0] == dsys::fs::DirEntry{"b", 0x80000002});
  CHECK(back->entries()[1] == dsys::fs::DirEntry{"a", 0x80000001});
  CHECK(back->find("a") == 0x80000001u);
  CHECK_FALSE(back->find("c"));
  CHECK(back->remove("b"));
  CHECK_FALSE(back->remove("b"));
  CHECK(back->entries().front().name == "a");
  // The encoding is fixed (labs and tests read each other's directories): u16 length, name, u64.
  Directory one;
  one.add("hi", 0x0102030405060708);
  CHECK(one.encode() == std::string("\x02\x00hi\x08\x07\x06\x05\x04\x03\x02\x01", 12));
}

TEST_CASE("a directory extent that is not an encoding is refused, never half read") {
  Directory d;
  d.add("name", 42);
  const std::string good = d.encode();
  CHECK_FALSE(Directory::decode(good.substr(0, good.size() - 1)));  // a truncated inum
  CHECK_FALSE(Directory::decode(good + "\x01"));                    // a truncated length
  CHECK_FALSE(Directory::decode(std::string("\x00\x00", 2) + std::string(8, '\0')));   // empty name
  CHECK_FALSE(Directory::decode(std::string("\x00\x01", 2) + std::string(300, 'a')));  // 256 bytes
  CHECK_FALSE(Directory::decode(std::string("\x03\x00a/b", 5) + std::string(8, '\0')));
  CHECK_FALSE(Directory::decode(std::string("\x03\x00"
                                            "a\0b",
                                            5) +
                                std::string(8, '\0')));
  // Random bytes: every input either decodes into valid names or is refused, and what decodes
  // encodes back to the same bytes.
  dsys::core::Rng rng(5);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng.below(40), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng.below(4) == 0 ? rng.below(4) : rng.below(256));
    auto dir = Directory::decode(bytes);
    if (!dir) continue;
    ++decoded;
    CHECK(dir->encode() == bytes);
    for (const auto& e : dir->entries()) {
      const bool usable = dsys::fs::check_new_name(e.name).ok() || e.name == "." || e.name == "..";
      CHECK(usable);
    }
  }
  CHECK(decoded > 0);
}

TEST_CASE("names of every length, with '/' or NUL anywhere, are found, refused and removed right") {
  // Names up to 8 bytes are checked and compared a word at a time: every length and position.
  for (std::size_t length = 1; length <= 12; ++length) {
    INFO("names of " << length << " bytes");
    Directory d;
    const std::string a(length, 'a');
    std::string b = a;
    b.back() = 'b';
    REQUIRE(d.add(b, 0x80000002u));
    REQUIRE(d.add(a, 0x80000001u));
    CHECK(d.find(a) == dsys::fs::Inum{0x80000001u});
    CHECK(d.find(b) == dsys::fs::Inum{0x80000002u});
    CHECK_FALSE(d.find(a + "a"));
    CHECK_FALSE(d.find(a.substr(1)));
    CHECK_FALSE(d.add(a, 7));  // taken: after a find that hit, and after one that missed
    CHECK_FALSE(d.find("zz"));
    CHECK(d.add("zz", 9));
    CHECK_FALSE(d.add("zz", 10));
    auto back = Directory::decode(d.encode());
    REQUIRE(back);
    CHECK(back->entries() == d.entries());
    CHECK(d.remove(a));
    CHECK_FALSE(d.find(a));
    CHECK(d.find(b) == dsys::fs::Inum{0x80000002u});
    for (std::size_t at = 0; at < length; ++at) {
      for (char bad : {'/', '\0'}) {
        std::string name = a;
        name[at] = bad;
        std::string bytes;
        bytes.push_back(static_cast<char>(length));
        bytes.push_back('\0');
        bytes += name;
        bytes += std::string(8, '\0');
        CHECK_FALSE(Directory::decode(bytes));
      }
    }
  }
}

TEST_CASE("new names are checked: not empty, not . or .., no / or NUL, at most 255 bytes") {
  using dsys::fs::check_new_name;
  CHECK(check_new_name("a").ok());
  CHECK(check_new_name(std::string(255, 'n')).ok());
  CHECK(check_new_name(".hidden").ok());
  CHECK(check_new_name("").error() == Error::invalid_name);
  CHECK(check_new_name(".").error() == Error::invalid_name);
  CHECK(check_new_name("..").error() == Error::invalid_name);
  CHECK(check_new_name("a/b").error() == Error::invalid_name);
  CHECK(check_new_name(std::string("a\0b", 3)).error() == Error::invalid_name);
  CHECK(check_new_name(std::string(256, 'n')).error() == Error::name_too_long);
}

TEST_CASE("file-system errors map to the errno values programs expect") {
  using dsys::fs::to_errno;
  CHECK(to_errno(Error::not_found) == ENOENT);
  CHECK(to_errno(Error::exists) == EEXIST);
  CHECK(to_errno(Error::not_directory) == ENOTDIR);
  CHECK(to_errno(Error::is_directory) == EISDIR);
  CHECK(to_errno(Error::name_too_long) == ENAMETOOLONG);
  CHECK(to_errno(Error::file_too_big) == EFBIG);
  CHECK(to_errno(Error::not_supported) == ENOSYS);
  CHECK(to_errno(Error::io) == EIO);
  CHECK(dsys::fs::from_store(dsys::extent::Error::unavailable) == Error::io);
  CHECK(dsys::fs::from_store(dsys::extent::Error::not_found) == Error::not_found);
  CHECK(dsys::fs::is_file(0x80000001));
  CHECK(dsys::fs::is_directory(dsys::fs::kRootInum));
}

TEST_CASE("extent messages round-trip, with and without attributes") {
  dsys::extent::PutRequest put(
      9, std::string("\0bytes", 6),
      dsys::extent::Attributes{.size = 0, .atime = 1, .mtime = 2, .ctime = 3});
  dsys::extent::PutRequest back;
  REQUIRE(dsys::rpc::decode(dsys::rpc::encode(put), back));
  CHECK(back.id == 9);
  CHECK(back.data == put.data);
  REQUIRE(back.attributes);
  CHECK(back.attributes->mtime == 2);
  dsys::extent::PutRequest plain(10, "x");
  REQUIRE(dsys::rpc::decode(dsys::rpc::encode(plain), back));
  CHECK_FALSE(back.attributes);
  dsys::extent::GetReply reply(dsys::extent::Status::not_found);
  dsys::extent::GetReply reply_back;
  REQUIRE(dsys::rpc::decode(dsys::rpc::encode(reply), reply_back));
  CHECK(reply_back.status == dsys::extent::Status::not_found);
}
