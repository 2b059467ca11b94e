// The compiled half of BoundedInArchive: its length checks, and the instantiation of Boost's
// archive templates for it (Boost's own library instantiates them only for its own archives).
#include "dsys/rpc/marshal.hpp"

#include <algorithm>

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/detail/archive_serializer_map.hpp>
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_binary_iarchive.ipp>
#include <boost/archive/impl/basic_binary_iprimitive.ipp>

namespace dsys::rpc {

void BoundedInArchive::malformed() {
  throw boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error);
}

void BoundedInArchive::require(std::size_t count, std::size_t each) const {
  if (each != 0 && count > source_.remaining() / each) malformed();
}

void BoundedInArchive::load(std::string& s) {
  std::size_t length = 0;
  Base::load(length);
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

}  // namespace dsys::rpc

namespace boost::archive {
template class detail::archive_serializer_map<dsys::rpc::BoundedInArchive>;
template class basic_binary_iprimitive<dsys::rpc::BoundedInArchive, char, std::char_traits<char>>;
template class basic_binary_iarchive<dsys::rpc::BoundedInArchive>;
template class binary_iarchive_impl<dsys::rpc::BoundedInArchive, char, std::char_traits<char>>;
}  // namespace boost::archive
