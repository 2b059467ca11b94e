// A program's own address on its command line: see node_address.hpp.
#include "main/node_address.hpp"

#include <fmt/format.h>

namespace dsys::apps {

std::string take_node_address(std::vector<std::string>& args, NodeAddress& out) {
  for (std::size_t i = 0; i < args.size();) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag != "--listen" && flag != "--announce") {
      ++i;
      continue;
    }
    std::size_t taken = 1;
    if (!value) {
      if (i + 1 >= args.size()) return fmt::format("{} needs an address (HOST:PORT)", flag);
      value = args[i + 1];
      taken = 2;
    }
    auto& slot = flag == "--listen" ? out.listen : out.announce;
    if (slot) return fmt::format("{} is given twice", flag);
    auto parsed = net::parse_host_port(*value, net::PortZero::any_free_port);
    if (!parsed) return fmt::format("{}: {}", flag, parsed.error());
    slot = *parsed;
    args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i + taken));
  }
  return "";
}

void apply(net::Options& options, net::HostPort listen, std::optional<net::HostPort> announce) {
  options.listen_host = listen.host();
  options.listen_port = listen.port;
  options.announce.reset();
  if (announce) options.announce = core::Address::ipv4(announce->ip, announce->port);
}

void listen_as_client(net::Options& options, const NodeAddress& own, core::Address server) {
  const net::HostPort facing{net::local_ip_toward(server), 0};
  const net::HostPort listen = own.listen.value_or(facing);
  std::optional<net::HostPort> announce = own.announce;
  if (!announce && listen.ip == 0) announce = facing;
  apply(options, listen, announce);
}

std::string listening_line(std::string_view name, const net::Runtime& runtime) {
  const auto listening = runtime.listening_address();
  const auto known_as = runtime.address();
  if (known_as == listening) return fmt::format("{}: listening on {}", name, listening.to_string());
  return fmt::format("{}: listening on {}, announced as {}", name, listening.to_string(),
                     known_as.to_string());
}

}  // namespace dsys::apps
