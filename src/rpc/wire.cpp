#include "dsys/rpc/wire.hpp"

#include <map>
#include <mutex>

#include <cstdio>
#include <cstring>

namespace dsys::rpc {

namespace {
constexpr char kMagic[4] = {'d', 'R', 'P', 'C'};

template <class T>
void put(std::string& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
template <class T>
T get(std::string_view in, std::size_t offset) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<unsigned char>(in[offset + i])) << (8 * i);
  }
  return value;
}
}  // namespace

void write_header(std::string& out, const Header& h) {
  out.append(kMagic, 4);
  out.push_back(static_cast<char>(h.kind));
  out.push_back(static_cast<char>(h.status));
  put<std::uint16_t>(out, h.service);
  put<std::uint16_t>(out, h.procedure);
  put<std::uint16_t>(out, 0);
  put<std::uint32_t>(out, h.client_nonce);
  put<std::uint32_t>(out, h.server_nonce);
  put<std::uint64_t>(out, h.xid);
  put<std::uint64_t>(out, h.xid_rep);
}

namespace {
// The names of the procedures this process has served or called, for describe().
struct ProcedureNames {
  std::mutex mutex;
  std::map<std::pair<ServiceId, ProcedureId>, std::string> names;
};
ProcedureNames& procedure_names() {
  static ProcedureNames* names = new ProcedureNames();  // never destroyed: used until exit
  return *names;
}
std::string procedure_text(ServiceId service, ProcedureId procedure) {
  ProcedureNames& n = procedure_names();
  std::lock_guard lock(n.mutex);
  auto it = n.names.find({service, procedure});
  if (it != n.names.end()) return it->second;
  return std::to_string(service) + "." + std::to_string(procedure);
}
}  // namespace

void name_procedure(ServiceId service, ProcedureId procedure, std::string_view name) {
  ProcedureNames& n = procedure_names();
  std::lock_guard lock(n.mutex);
  n.names.try_emplace({service, procedure}, name);
}

std::string describe(std::string_view message) {
  const std::optional<Header> h = read_header(message);
  if (!h) return "not an RPC message";
  const std::string procedure = procedure_text(h->service, h->procedure);
  static constexpr const char* kStatus[] = {"ok",
                                            "timeout",
                                            "unreachable",
                                            "server restarted",
                                            "unknown procedure",
                                            "decode failure",
                                            "forgotten"};
  char text[160];
  if (h->kind == Kind::request) {
    std::snprintf(text, sizeof text, "request %s xid %llu (acks %llu) client %08x",
                  procedure.c_str(), static_cast<unsigned long long>(h->xid),
                  static_cast<unsigned long long>(h->xid_rep), h->client_nonce);
  } else {
    std::snprintf(text, sizeof text, "reply %s xid %llu client %08x: %s", procedure.c_str(),
                  static_cast<unsigned long long>(h->xid), h->client_nonce, kStatus[h->status]);
  }
  return text;
}

std::optional<Header> read_header(std::string_view message, std::string* why) {
  auto reject = [&](const char* reason) -> std::optional<Header> {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  if (message.size() < kHeaderSize) return reject("message shorter than an RPC header");
  if (std::memcmp(message.data(), kMagic, 4) != 0)
    return reject("bad magic (not a dsys RPC message)");
  Header h;
  const auto kind = static_cast<std::uint8_t>(message[4]);
  if (kind != 1 && kind != 2) return reject("bad message kind");
  h.kind = static_cast<Kind>(kind);
  h.status = static_cast<std::uint8_t>(message[5]);
  if (h.status > 6 || (h.kind == Kind::request && h.status != 0)) return reject("bad status");
  h.service = get<std::uint16_t>(message, 6);
  h.procedure = get<std::uint16_t>(message, 8);
  if (get<std::uint16_t>(message, 10) != 0) return reject("reserved header bytes are not zero");
  h.client_nonce = get<std::uint32_t>(message, 12);
  h.server_nonce = get<std::uint32_t>(message, 16);
  h.xid = get<std::uint64_t>(message, 20);
  h.xid_rep = get<std::uint64_t>(message, 28);
  if (h.xid == 0 || h.client_nonce == 0) return reject("zero xid or client nonce");
  if (h.kind == Kind::request && h.xid_rep >= h.xid) return reject("xid_rep not below xid");
  return h;
}

}  // namespace dsys::rpc
