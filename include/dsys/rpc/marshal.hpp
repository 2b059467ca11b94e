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
// The bytes are those of Boost's binary archive without a header: a number as it is in memory, a
// string as its length then its characters, a collection as its count (and item version) then its
// items. Encoding uses StringOutArchive, which appends them to a string. Decoding uses
// BoundedInArchive, a binary archive that treats its input as hostile: decode() of any byte string
// returns false or a value, never throws, never aborts, and allocates at most a few times the
// input's size:
//   - a string or collection must fit in the bytes that are left, counting the fewest bytes one
//     element can take (8 for a string, sizeof for a number): a 16 MB body cannot declare more
//     than 2 million strings;
//   - vectors, deques and lists grow as their elements are decoded, not up front;
//   - a bool (also the flag of an optional and the items of a vector<bool>) must be 0 or 1.
// std::optional<T> is marshalled as Boost marshals boost::optional: a bool, then the value.
// Both archives are Boost's basic_binary_oarchive and basic_binary_iarchive (which say how a class,
// a version or a collection's count is laid out) over primitives of their own: Boost's binary
// primitives build a std::locale for every archive (17 % of a lab 10 simulated run, measured).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/archive/basic_archive.hpp>
#include <boost/archive/basic_binary_iarchive.hpp>
#include <boost/archive/basic_binary_oarchive.hpp>
#include <boost/archive/detail/register_archive.hpp>
#include <boost/serialization/array_wrapper.hpp>
#include <boost/serialization/collection_size_type.hpp>
#include <boost/serialization/deque.hpp>
#include <boost/serialization/detail/is_default_constructible.hpp>
#include <boost/serialization/detail/stack_constructor.hpp>
#include <boost/serialization/is_bitwise_serializable.hpp>
#include <boost/serialization/item_version_type.hpp>
#include <boost/serialization/level.hpp>
#include <boost/serialization/list.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/optional.hpp>
#include <boost/serialization/set.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/tracking.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

namespace dsys::rpc {

namespace detail {

// How both archives are opened: no header (a message is its fields alone).
inline constexpr unsigned kArchiveFlags = boost::archive::no_header;

// Numbers and arrays of numbers travel as their bytes, as in Boost's binary archives.
struct BitwiseArrays {
  template <class T>
  struct apply  // NOLINT(readability-identifier-naming): Boost's name
      : boost::serialization::is_bitwise_serializable<T> {};
};

}  // namespace detail

// A Boost binary output archive that appends to a string.
class StringOutArchive : public boost::archive::basic_binary_oarchive<StringOutArchive> {
  using Base = boost::archive::basic_binary_oarchive<StringOutArchive>;
  friend class boost::archive::detail::interface_oarchive<StringOutArchive>;
  friend class boost::archive::basic_binary_oarchive<StringOutArchive>;
  friend class boost::archive::save_access;

 public:
  explicit StringOutArchive(std::string& out) : Base(detail::kArchiveFlags), out_(out) {}

 public:  // called through Boost's This() dispatch, so these must be reachable
  using use_array_optimization = detail::BitwiseArrays;
  template <class T>
  void save(const T& t) {
    // (Boost sends here only what it marshals as a primitive: numbers, enums, and its own small
    // wrappers of numbers such as a collection's count.)
    static_assert(!std::is_pointer_v<T>, "a pointer is never saved as its bytes");
    save_binary(&t, sizeof(T));
  }
  void save(const std::string& s) {
    const std::size_t length = s.size();
    save(length);
    save_binary(s.data(), length);
  }
  template <class V>
  void save_array(const boost::serialization::array_wrapper<V>& a, unsigned int /*version*/) {
    save_binary(a.address(), a.count() * sizeof(V));
  }
  void save_binary(const void* address, std::size_t count) {
    out_.append(static_cast<const char*>(address), count);
  }
  template <class T>
  void save_override(const T& t) {
    Base::save_override(t);
  }

 private:
  std::string& out_;
};

// A Boost binary input archive for hostile input: it checks every length against the bytes
// left, and every bool. A malformed input throws boost::archive::archive_exception (decode()
// turns that into false).
class BoundedInArchive : public boost::archive::basic_binary_iarchive<BoundedInArchive> {
  using Base = boost::archive::basic_binary_iarchive<BoundedInArchive>;
  friend class boost::archive::detail::interface_iarchive<BoundedInArchive>;
  friend class boost::archive::basic_binary_iarchive<BoundedInArchive>;
  friend class boost::archive::load_access;

 public:
  // Reads `bytes`, which must outlive the archive.
  explicit BoundedInArchive(std::string_view bytes)
      : Base(detail::kArchiveFlags), next_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  // Bytes not yet decoded.
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - next_); }
  // Throws (malformed) unless `count` items of at least `each` encoded bytes can fit in what is
  // left.
  void require(std::size_t count, std::size_t each) const;
  // Throws (malformed).
  [[noreturn]] static void malformed();

 public:  // called through Boost's This() dispatch, so these must be reachable
  using use_array_optimization = detail::BitwiseArrays;
  template <class T>
  void load(T& t) {
    // (Boost sends here only what it marshals as a primitive: numbers, enums, and its own small
    // wrappers of numbers such as a collection's count.)
    static_assert(!std::is_pointer_v<T>, "a pointer is never loaded as its bytes");
    load_binary(&t, sizeof(T));
  }
  void load(std::string& s);                    // checks the length before allocating
  void load(bool& b);                           // 0 or 1
  void load(boost::archive::tracking_type& t);  // a bool in a class's preamble: 0 or 1
  // Arrays of numbers (a vector<int>'s items, an int[4]) travel as one block; bools are checked.
  template <class V>
  void load_array(boost::serialization::array_wrapper<V>& a, unsigned int /*version*/) {
    require(a.count(), sizeof(V));
    load_binary(a.address(), a.count() * sizeof(V));
    if constexpr (std::is_same_v<std::remove_cv_t<V>, bool>) {
      check_bools(reinterpret_cast<unsigned char*>(a.address()), a.count());
    }
  }
  // Throws (malformed) unless `count` bytes are left.
  void load_binary(void* address, std::size_t count) {
    if (count > remaining()) malformed();
    if (count != 0) std::memcpy(address, next_, count);
    next_ += count;
  }
  template <class T>
  void load_override(T& t) {
    Base::load_override(t);
  }
  void load_override(boost::serialization::collection_size_type& t);
  void load_override(boost::archive::class_name_type& t);  // (Boost defines its own out of line)

 private:
  static void check_bools(unsigned char* bytes, std::size_t n);

  const char* next_;
  const char* end_;
};

}  // namespace dsys::rpc

// Like Boost's own binary archives: arrays of primitives travel as one block.
BOOST_SERIALIZATION_REGISTER_ARCHIVE(dsys::rpc::StringOutArchive)
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(dsys::rpc::StringOutArchive)
BOOST_SERIALIZATION_REGISTER_ARCHIVE(dsys::rpc::BoundedInArchive)
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(dsys::rpc::BoundedInArchive)

namespace dsys::rpc {

namespace detail {

// The fewest bytes one encoded T takes in a Boost binary archive (1 when not known, so that a
// count is checked at least against the bytes left).
template <class T>
struct MinEncodedSize : std::integral_constant<std::size_t, 1> {};
template <class T>
requires std::is_arithmetic_v<T>
struct MinEncodedSize<T> : std::integral_constant<std::size_t, sizeof(T)> {
};
template <class T>
requires std::is_enum_v<T>
struct MinEncodedSize<T> : std::integral_constant<std::size_t, sizeof(int)> {
};  // as an int
template <class C, class Tr, class A>
struct MinEncodedSize<std::basic_string<C, Tr, A>>
    : std::integral_constant<std::size_t, sizeof(std::size_t)> {};  // its length
template <class T, class A>
struct MinEncodedSize<std::vector<T, A>>
    : std::integral_constant<std::size_t, sizeof(std::uint64_t)> {};  // its count
template <class T, class A>
struct MinEncodedSize<std::deque<T, A>>
    : std::integral_constant<std::size_t, sizeof(std::uint64_t)> {};
template <class T, class A>
struct MinEncodedSize<std::list<T, A>>
    : std::integral_constant<std::size_t, sizeof(std::uint64_t)> {};
template <class K, class V, class C, class A>
struct MinEncodedSize<std::map<K, V, C, A>>
    : std::integral_constant<std::size_t, sizeof(std::uint64_t)> {};
template <class K, class C, class A>
struct MinEncodedSize<std::set<K, C, A>>
    : std::integral_constant<std::size_t, sizeof(std::uint64_t)> {};
template <class A, class B>
struct MinEncodedSize<std::pair<A, B>>
    : std::integral_constant<std::size_t, MinEncodedSize<std::remove_const_t<A>>::value +
                                              MinEncodedSize<B>::value> {};

// Decodes `count` items onto the end of `c` (a vector, deque or list), one at a time, after
// checking that they can fit in the bytes left: memory grows with the items actually decoded.
template <class Container>
void load_items(BoundedInArchive& ar, Container& c, std::size_t count,
                boost::serialization::item_version_type item_version) {
  using T = typename Container::value_type;
  ar.require(count, MinEncodedSize<T>::value);
  if constexpr (requires { c.reserve(count); }) {
    // Up front, no more than the bytes left would take as items (a vector of strings declaring
    // a million items reserves at most remaining() bytes); beyond that, growth as items arrive.
    c.reserve(std::min(count, ar.remaining() / sizeof(T)));
  }
  for (std::size_t i = 0; i < count; ++i) {
    if constexpr (boost::serialization::detail::is_default_constructible<T>::value) {
      c.emplace_back();
      ar >> boost::serialization::make_nvp("item", c.back());
    } else {
      boost::serialization::detail::stack_construct<BoundedInArchive, T> u(ar, item_version);
      ar >> boost::serialization::make_nvp("item", u.reference());
      c.push_back(std::move(u.reference()));
      ar.reset_object_address(&c.back(), u.address());
    }
  }
}

// A sequence as Boost's collections_save_imp writes it: count, item version, items.
template <class Container>
void load_sequence(BoundedInArchive& ar, Container& c) {
  boost::serialization::collection_size_type count;
  ar >> BOOST_SERIALIZATION_NVP(count);
  boost::serialization::item_version_type item_version(0);
  if (boost::serialization::library_version_type(3) < ar.get_library_version()) {
    ar >> BOOST_SERIALIZATION_NVP(item_version);
  }
  c.clear();
  load_items(ar, c, count, item_version);
}

}  // namespace detail

// Decoding of the standard sequences, found by argument-dependent lookup for BoundedInArchive
// and preferred to Boost's own (which reserve or resize to the count read before any item).
// Caveat: items are not at their final address while the vector grows, so an object that a
// pointer elsewhere in the same message refers to (Boost's object tracking) must not live in a
// vector; RPC messages do not send pointers.
template <class T, class A>
void serialize(BoundedInArchive& ar, std::vector<T, A>& v, unsigned /*version*/) {
  using Optimized = typename boost::serialization::use_array_optimization<
      BoundedInArchive>::template apply<std::remove_const_t<T>>::type;
  if constexpr (Optimized::value) {  // as Boost's vector.hpp: count, then one block
    boost::serialization::collection_size_type count;
    ar >> BOOST_SERIALIZATION_NVP(count);
    ar.require(count, sizeof(T));
    v.resize(count);
    unsigned int item_version = 0;
    if (BOOST_SERIALIZATION_VECTOR_VERSIONED(ar.get_library_version())) {
      ar >> BOOST_SERIALIZATION_NVP(item_version);
    }
    if (!v.empty()) ar >> boost::serialization::make_array<T, std::size_t>(v.data(), count);
  } else {
    detail::load_sequence(ar, v);
  }
}
template <class A>
void serialize(BoundedInArchive& ar, std::vector<bool, A>& v, unsigned /*version*/) {
  boost::serialization::collection_size_type count;
  ar >> BOOST_SERIALIZATION_NVP(count);
  ar.require(count, 1);
  v.clear();
  v.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    bool b = false;
    ar >> boost::serialization::make_nvp("item", b);
    v.push_back(b);
  }
}
template <class T, class A>
void serialize(BoundedInArchive& ar, std::deque<T, A>& d, unsigned /*version*/) {
  detail::load_sequence(ar, d);
}
template <class T, class A>
void serialize(BoundedInArchive& ar, std::list<T, A>& l, unsigned /*version*/) {
  detail::load_sequence(ar, l);
}

}  // namespace dsys::rpc

// std::optional<T>, marshalled as Boost marshals boost::optional<T>: the flag "initialized" (a
// bool), then the value when there is one. No class preamble, no tracking.
namespace boost::serialization {

template <class Archive, class T>
void save(Archive& ar, const std::optional<T>& t, unsigned /*version*/) {
  const bool initialized = t.has_value();
  ar << make_nvp("initialized", initialized);
  if (initialized) ar << make_nvp("value", *t);
}
template <class Archive, class T>
void load(Archive& ar, std::optional<T>& t, unsigned /*version*/) {
  bool initialized = false;
  ar >> make_nvp("initialized", initialized);
  if (!initialized) {
    t.reset();
    return;
  }
  if (!t) t.emplace();
  ar >> make_nvp("value", *t);
}
template <class Archive, class T>
void serialize(Archive& ar, std::optional<T>& t, unsigned version) {
  split_free(ar, t, version);
}
template <class T>
struct implementation_level_impl<const std::optional<T>> {
  using tag = mpl::integral_c_tag;
  using type = mpl::int_<object_serializable>;
  static constexpr int value = type::value;  // NOLINT(readability-identifier-naming): Boost's
};
template <class T>
struct tracking_level<std::optional<T>> {
  using tag = mpl::integral_c_tag;
  using type = mpl::int_<track_never>;
  static constexpr int value = type::value;  // NOLINT(readability-identifier-naming): Boost's
};

}  // namespace boost::serialization

namespace dsys::rpc {

// Appends the Boost.Serialization encoding of `value` to `out`.
template <class T>
void encode_into(std::string& out, const T& value) {
  if constexpr (std::is_empty_v<T>) {
    return;  // an empty message (a null RPC) has no body
  } else {
    StringOutArchive archive(out);
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
      BoundedInArchive archive(bytes);
      archive >> value;
      return archive.remaining() == 0;
    } catch (...) {  // archive_exception, length_error, bad_alloc: all mean "malformed"
      return false;
    }
  }
}

}  // namespace dsys::rpc
