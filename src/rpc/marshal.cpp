// The compiled half of BoundedInArchive: its length checks, and the instantiation of Boost's
// archive templates for it (Boost's own library instantiates them only for its own archives).
#include "dsys/rpc/marshal.hpp"

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/detail/archive_serializer_map.hpp>
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_binary_iarchive.ipp>
#include <boost/archive/impl/basic_binary_iprimitive.ipp>

namespace dsys::rpc {

void BoundedInArchive::load(std::string& s) {
  std::size_t length = 0;
  Base::load(length);
  if (length > source_.remaining()) {
    throw boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error);
  }
  s.resize(length);
  if (length != 0) load_binary(s.data(), length);
}

void BoundedInArchive::load_override(boost::serialization::collection_size_type& t) {
  Base::load_override(t);
  if (static_cast<std::size_t>(t) > source_.remaining()) {
    throw boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error);
  }
}

}  // namespace dsys::rpc

namespace boost::archive {
template class detail::archive_serializer_map<dsys::rpc::BoundedInArchive>;
template class basic_binary_iprimitive<dsys::rpc::BoundedInArchive, char, std::char_traits<char>>;
template class basic_binary_iarchive<dsys::rpc::BoundedInArchive>;
template class binary_iarchive_impl<dsys::rpc::BoundedInArchive, char, std::char_traits<char>>;
}  // namespace boost::archive
