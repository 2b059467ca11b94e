// dsys/rpc/marshal.hpp: request and reply bodies, marshalled with Boost.Serialization.
//
// A message type says what it carries the Boost way:
//
//   struct AcquireRequest {
//     std::uint64_t client = 0;
//     std::string lock;
//     template <class Archive> void serialize(Archive& ar, unsigned /*version*/) { ar & client &
//     lock; }
//   };
//
// Encoding uses Boost's binary archive without a header. Decoding uses BoundedInArchive, a
// binary archive that refuses a string or collection longer than the bytes that are left, so
// a hostile length field cannot make the receiver allocate gigabytes. decode() never throws.
#pragma once

#include <streambuf>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/archive/binary_iarchive_impl.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/detail/register_archive.hpp>
#include <boost/serialization/collection_size_type.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/optional.hpp>
#include <boost/serialization/set.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

namespace dsys::rpc {

namespace detail {

// Appends everything written to it to a string.
class StringSink final : public std::streambuf {
 public:
  explicit StringSink(std::string& out) : out_(out) {}

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof()))
      out_.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_.append(s, static_cast<std::size_t>(n));
    return n;
  }

 private:
  std::string& out_;
};

// Reads from a byte range it does not own.
class ViewSource final : public std::streambuf {
 public:
  explicit ViewSource(std::string_view bytes) {
    char* begin = const_cast<char*>(bytes.data());  // NOLINT: read-only use
    setg(begin, begin, begin + bytes.size());
  }
  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

}  // namespace detail

// A Boost binary input archive that checks every length against the bytes left.
class BoundedInArchive
    : public boost::archive::binary_iarchive_impl<BoundedInArchive, char, std::char_traits<char>> {
  using Base = boost::archive::binary_iarchive_impl<BoundedInArchive, char, std::char_traits<char>>;
  friend class boost::archive::detail::interface_iarchive<BoundedInArchive>;
  friend class boost::archive::basic_binary_iarchive<BoundedInArchive>;
  friend class boost::archive::load_access;

 public:
  explicit BoundedInArchive(detail::ViewSource& source)
      : Base(source, boost::archive::no_header), source_(source) {}

 public:  // called through Boost's This() dispatch, so these must be reachable
  using Base::load;
  void load(std::string& s);  // checks the length before allocating
  template <class T>
  void load_override(T& t) {
    Base::load_override(t);
  }
  void load_override(boost::serialization::collection_size_type& t);

 private:
  detail::ViewSource& source_;
};

}  // namespace dsys::rpc

// Like Boost's own binary archives: arrays of primitives travel as one block.
BOOST_SERIALIZATION_REGISTER_ARCHIVE(dsys::rpc::BoundedInArchive)
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(dsys::rpc::BoundedInArchive)

namespace dsys::rpc {

// Appends the Boost.Serialization encoding of `value` to `out`.
template <class T>
void encode_into(std::string& out, const T& value) {
  if constexpr (std::is_empty_v<T>) {
    return;  // an empty message (a null RPC) has no body
  } else {
    detail::StringSink sink(out);
    boost::archive::binary_oarchive archive(sink, boost::archive::no_header);
    archive << value;
  }
}

template <class T>
std::string encode(const T& value) {
  std::string out;
  encode_into(out, value);
  return out;
}

// Decodes `bytes` into `value`: false when they are not exactly one well-formed T.
template <class T>
bool decode(std::string_view bytes, T& value) noexcept {
  if constexpr (std::is_empty_v<T>) {
    return bytes.empty();
  } else {
    try {
      detail::ViewSource source(bytes);
      BoundedInArchive archive(source);
      archive >> value;
      return source.remaining() == 0;
    } catch (...) {  // archive_exception, length_error, bad_alloc: all mean "malformed"
      return false;
    }
  }
}

}  // namespace dsys::rpc
