// The compiled half of the archives: BoundedInArchive's length checks, and the serializer maps
// of both (Boost's own library has them only for its own archives). Neither archive reads or
// writes a header, so Boost's basic_binary_*archive<>::init() is never called nor defined here.
#include "dsys/rpc/marshal.hpp"

#include <algorithm>
#include <string>

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/detail/archive_serializer_map.hpp>
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/serialization/extended_type_info.hpp>

namespace dsys::rpc {

void BoundedInArchive::malformed() {
  throw boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error);
}

void BoundedInArchive::require(std::size_t count, std::size_t each) const {
  if (each != 0 && count > remaining() / each) malformed();
}

void BoundedInArchive::load(std::string& s) {
  std::size_t length = 0;
  load(length);
  require(length, 1);
  s.resize(length);
  if (length != 0) load_binary(s.data(), length);
}

// Boost reads a bool's byte straight into the bool, which is undefined behaviour (and a failed
// assertion) for any byte but 0 and 1: read a byte instead.
void BoundedInArchive::load(bool& b) {
  unsigned char byte = 0;
  load_binary(&byte, 1);
  if (byte > 1) malformed();
  b = byte == 1;
}

void BoundedInArchive::load(boost::archive::tracking_type& t) {
  bool b = false;
  load(b);
  t = boost::archive::tracking_type(b);
}

void BoundedInArchive::check_bools(unsigned char* bytes, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (bytes[i] > 1) {
      std::fill(bytes, bytes + n, 0);  // leave no invalid bool behind
      malformed();
    }
  }
}

void BoundedInArchive::load_override(boost::serialization::collection_size_type& t) {
  Base::load_override(t);
  require(t, 1);  // at least a byte per item; the sequences check more (MinEncodedSize)
}

// A class name (of an exported class, sent through a pointer): a string that fits Boost's buffer.
void BoundedInArchive::load_override(boost::archive::class_name_type& t) {
  std::string name;
  load(name);
  if (name.size() >= BOOST_SERIALIZATION_MAX_KEY_SIZE) malformed();
  std::copy(name.begin(), name.end(), t.t);
  t.t[name.size()] = '\0';
}

}  // namespace dsys::rpc

namespace boost::archive {
template class detail::archive_serializer_map<dsys::rpc::BoundedInArchive>;
template class detail::archive_serializer_map<dsys::rpc::StringOutArchive>;
}  // namespace boost::archive
