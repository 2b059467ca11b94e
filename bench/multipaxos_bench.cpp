// bench_multipaxos: ./dsys bench multipaxos. Decided commands per second through lab 10's
// replicated log, as real processes on loopback: 3 paxos_node processes (this directory's) and N
// client processes (this program, as `bench_multipaxos --paxos-client ...`), each a
// multipaxos::LogClient that appends a 16-byte command, waits until a node answers delivered,
// and appends the next, over one persistent connection per node.
//
// Beside them, in the same run and from the same load generator (this program, as
// `bench_multipaxos --etcd-client ...`: the same closed loop, one request at a time over one
// persistent connection), 3 etcd members on loopback: each command a put of a 16-byte value
// through etcd's v3 JSON gateway (HTTP/1.1 keep-alive), sent to the leader (as a LogClient's
// commands go to the leader once a node names it). etcd 3.4 fsyncs its log before it commits;
// its data directories and the paxos nodes' are in one temporary directory (one file system).
//
//   configurations   fsync on and off, alpha 1 and 8, batching off (1) and on (16), each with
//                    1 client and 8 (--clients): commands/s and the mean time per command
//   etcd             the same clients and commands (when etcd is installed)
//   fail-over        8 clients on a group with fsync on, alpha 8, batch 16; the leader is
//                    SIGKILLed a third of the way through: the longest pause any client saw
//                    between two delivered commands
//
// Usage: bench_multipaxos [--clients N,N,...] [--seconds S] [--etcd PATH|none]
// (DSYS_BENCH_BRIEF=1: a second per figure, fewer configurations; the figures then mean nothing.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "brief.hpp"
#include "dsys/multipaxos/client.hpp"
#include "dsys/net/host.hpp"
#include "dsys/net/runtime.hpp"
#include "dsys/testing/process.hpp"

using namespace std::chrono_literals;
using dsys::testing::Process;
using Clock = std::chrono::steady_clock;

namespace {

// Every command is this long, in both systems.
constexpr std::size_t kCommandBytes = 16;

std::string command_text(std::uint64_t n) {
  return fmt::format("{:0{}}", n, kCommandBytes);
}

// What one client process counts, printed as its last line.
struct Tally {
  std::uint64_t ops = 0, errors = 0;
  Clock::duration max_gap{}, latency{};
  Clock::time_point last;

  void delivered(Clock::time_point sent) {
    const auto now = Clock::now();
    ++ops;
    latency += now - sent;
    max_gap = std::max(max_gap, now - last);
    last = now;
  }
  std::string line() const {
    return fmt::format("ops {} errors {} max_gap_ms {} latency_us {}", ops, errors,
                       std::chrono::duration_cast<std::chrono::milliseconds>(max_gap).count(),
                       std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
  }
};

// ------------------------------------------------------------ the clients

// A paxos client process's node: a warm-up command (it finds the leader; not counted), "ready
// leader N", then commands for `length`.
struct PaxosClient {
  PaxosClient(dsys::core::Context& ctx,
              std::map<dsys::multipaxos::NodeId, dsys::core::Address> nodes, std::uint64_t id,
              dsys::core::Duration length)
      : ctx_(ctx), log_(ctx, std::move(nodes), id), length_(length) {
    ctx.spawn(run());
  }

  dsys::core::Task<void> run() {
    std::uint64_t n = 1;
    if (!co_await log_.append(command_text(n++), ctx_.now() + 60s)) {
      fmt::print("no leader: the warm-up command was not delivered in 60 s\n");
      std::fflush(stdout);
      done = true;
      co_return;
    }
    fmt::print("ready leader {}\n", log_.target());
    std::fflush(stdout);
    const auto end = ctx_.now() + length_;
    tally.last = Clock::now();
    while (ctx_.now() < end) {
      const auto sent = Clock::now();
      if (co_await log_.append(command_text(n++), end)) tally.delivered(sent);
    }
    done = true;
  }

  dsys::core::Context& ctx_;
  dsys::multipaxos::LogClient log_;
  dsys::core::Duration length_;
  Tally tally;
  bool done = false;
};

int paxos_client_main(const std::string& peers, std::uint64_t id, int seconds) {
  std::map<dsys::multipaxos::NodeId, dsys::core::Address> nodes;
  std::size_t at = 0;
  while (at < peers.size()) {
    const auto comma = std::min(peers.find(',', at), peers.size());
    const std::string item = peers.substr(at, comma - at);
    const auto equals = item.find('=');
    auto address =
        dsys::net::parse_host_port(item.substr(equals + 1), dsys::net::PortZero::refused);
    if (equals == std::string::npos || !address) {
      std::cerr << "bench_multipaxos --paxos-client: bad peer '" << item << "'\n";
      return 2;
    }
    nodes[std::stoul(item.substr(0, equals))] = address->address();
    at = comma + 1;
  }
  auto options = dsys::net::Options::from_environment();
  options.name = "bench_multipaxos";
  dsys::net::Runtime runtime(
      options, dsys::core::make_node<PaxosClient>(nodes, id, dsys::core::Duration(seconds * 1s)));
  auto& client = runtime.service<PaxosClient>();
  runtime.run_until([&] { return client.done; }, std::chrono::seconds(seconds + 90));
  std::cout << client.tally.line() << "\n" << std::flush;
  runtime.context().shutdown();
  return client.done ? 0 : 1;
}

// A blocking HTTP/1.1 connection to 127.0.0.1:port, kept open between requests.
class Http {
 public:
  explicit Http(std::uint16_t port) : port_(port) {}
  ~Http() { close(); }
  Http(const Http&) = delete;
  Http& operator=(const Http&) = delete;

  // The status and body of `method path` with `body`, or nullopt (the connection is then closed:
  // the next request opens another) when it fails or takes longer than `limit`.
  std::optional<std::pair<int, std::string>> request(const std::string& method,
                                                     const std::string& path,
                                                     const std::string& body,
                                                     Clock::duration limit = 5s) {
    const auto deadline = Clock::now() + limit;
    if (fd_ < 0 && !connect()) return std::nullopt;
    const std::string text = fmt::format(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n"
        "Content-Length: {}\r\n\r\n{}",
        method, path, port_, body.size(), body);
    if (!send_all(text)) return fail();
    // The head, then a body of Content-Length bytes or in chunks.
    std::size_t head_end;
    while ((head_end = in_.find("\r\n\r\n")) == std::string::npos)
      if (!receive(deadline)) return fail();
    std::string head = in_.substr(0, head_end);
    in_.erase(0, head_end + 4);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head.rfind("http/1.1 ", 0) != 0) return fail();
    const int status = std::atoi(head.c_str() + 9);
    std::string out;
    if (auto cl = head.find("content-length:"); cl != std::string::npos) {
      const auto length = static_cast<std::size_t>(std::atoll(head.c_str() + cl + 15));
      while (in_.size() < length)
        if (!receive(deadline)) return fail();
      out = in_.substr(0, length);
      in_.erase(0, length);
    } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
      for (;;) {
        std::size_t line_end;
        while ((line_end = in_.find("\r\n")) == std::string::npos)
          if (!receive(deadline)) return fail();
        const auto size = static_cast<std::size_t>(std::strtoull(in_.c_str(), nullptr, 16));
        while (in_.size() < line_end + 2 + size + 2)
          if (!receive(deadline)) return fail();
        out += in_.substr(line_end + 2, size);
        in_.erase(0, line_end + 2 + size + 2);
        if (size == 0) break;
      }
    } else {
      return fail();  // no length: not what etcd sends
    }
    return std::pair{status, out};
  }

 private:
  bool connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      close();
      return false;
    }
    return true;
  }
  bool send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  bool receive(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[4096];
    const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    in_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
  std::nullopt_t fail() {
    close();
    return std::nullopt;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    in_.clear();
  }
  std::uint16_t port_;
  int fd_ = -1;
  std::string in_;
};

std::string base64(std::string_view in) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<std::uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<std::uint8_t>(in[i + 2]);
    out += kDigits[(n >> 18) & 63];
    out += kDigits[(n >> 12) & 63];
    out += i + 1 < in.size() ? kDigits[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kDigits[n & 63] : '=';
  }
  return out;
}

// An etcd client process: puts of key bench-<id> (a warm-up first), as PaxosClient appends.
int etcd_client_main(std::uint16_t port, std::uint64_t id, int seconds) {
  Http http(port);
  const std::string key = base64(fmt::format("bench-{}", id));
  std::uint64_t n = 1;
  auto put = [&] {
    const std::string body =
        fmt::format(R"({{"key":"{}","value":"{}"}})", key, base64(command_text(n++)));
    auto reply = http.request("POST", "/v3/kv/put", body);
    return reply && reply->first == 200;
  };
  if (!put()) {
    std::cout << "no leader: the warm-up put failed\n" << std::flush;
    return 1;
  }
  std::cout << "ready\n" << std::flush;
  Tally tally;
  tally.last = Clock::now();
  const auto end = Clock::now() + seconds * 1s;
  while (Clock::now() < end) {
    const auto sent = Clock::now();
    if (put()) {
      tally.delivered(sent);
    } else {
      ++tally.errors;
    }
  }
  std::cout << tally.line() << "\n" << std::flush;
  return 0;
}

// ------------------------------------------------------------ the groups

std::string here() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

// Reads what each process wrote so far (a process whose pipe is full would block).
void drain(const std::vector<Process*>& procs) {
  for (auto* p : procs) p->wait_for_line("\x01", 1ms);
}

struct Config {
  bool fsync;
  std::size_t alpha, batch;
  std::string name() const {
    return fmt::format("fsync {:<3} alpha {} batch {:<2}", fsync ? "on" : "off", alpha, batch);
  }
};

// Three paxos_node processes on free ports, each with its disk in root/<label>/nK.
class PaxosGroup {
 public:
  PaxosGroup(const std::string& root, const Config& config) {
    for (int attempt = 1;; ++attempt) {
      const auto ports = dsys::testing::free_ports(3);
      peers_ =
          fmt::format("1=127.0.0.1:{},2=127.0.0.1:{},3=127.0.0.1:{}", ports[0], ports[1], ports[2]);
      nodes_.clear();
      bool all = true;
      for (int k = 1; k <= 3 && all; ++k) {
        nodes_.push_back(std::make_unique<Process>(std::vector<std::string>{
            here() + "/paxos_node", "--id", std::to_string(k), "--peers", peers_, "--dir",
            fmt::format("{}/n{}", root, k), "--alpha", std::to_string(config.alpha), "--batch",
            std::to_string(config.batch), "--fsync", config.fsync ? "on" : "off"}));
        if (nodes_.back()->wait_for_line("listening on", 20s)) continue;
        if (attempt < 3 && nodes_.back()->output().find("in use") != std::string::npos) {
          all = false;  // a port was taken meanwhile: again, with others
          continue;
        }
        throw std::runtime_error("a paxos_node did not start:\n" + nodes_.back()->output());
      }
      if (all) return;
    }
  }
  const std::string& peers() const { return peers_; }
  void kill(int id) { nodes_.at(static_cast<std::size_t>(id - 1))->signal(SIGKILL); }
  std::vector<Process*> processes() const {
    std::vector<Process*> out;
    for (const auto& p : nodes_) out.push_back(p.get());
    return out;
  }

 private:
  std::string peers_;
  std::vector<std::unique_ptr<Process>> nodes_;
};

// Three etcd members on free ports, with their data in root/etcdK; throws when they do not form
// a cluster within a minute.
class EtcdGroup {
 public:
  EtcdGroup(const std::string& etcd, const std::string& root) {
    const auto ports = dsys::testing::free_ports(6);
    std::string cluster;
    for (int k = 0; k < 3; ++k)
      cluster += fmt::format("{}m{}=http://127.0.0.1:{}", k ? "," : "", k + 1, ports[3 + k]);
    for (int k = 0; k < 3; ++k) {
      const auto client = fmt::format("http://127.0.0.1:{}", ports[k]);
      const auto peer = fmt::format("http://127.0.0.1:{}", ports[3 + k]);
      members_.push_back(
          std::make_unique<Process>(std::vector<std::string>{etcd,
                                                             "--name",
                                                             fmt::format("m{}", k + 1),
                                                             "--data-dir",
                                                             fmt::format("{}/etcd{}", root, k + 1),
                                                             "--listen-client-urls",
                                                             client,
                                                             "--advertise-client-urls",
                                                             client,
                                                             "--listen-peer-urls",
                                                             peer,
                                                             "--initial-advertise-peer-urls",
                                                             peer,
                                                             "--initial-cluster",
                                                             cluster,
                                                             "--initial-cluster-token",
                                                             "dsys-bench",
                                                             "--initial-cluster-state",
                                                             "new",
                                                             "--logger",
                                                             "zap",
                                                             "--log-level",
                                                             "error"}));
      client_ports_.push_back(ports[k]);
    }
    // Healthy (a leader elected), then which member leads.
    const auto deadline = Clock::now() + 60s;
    for (;;) {
      drain(processes());
      for (std::size_t k = 0; k < 3; ++k) {
        Http http(client_ports_[k]);
        auto status = http.request("POST", "/v3/maintenance/status", "{}", 2s);
        if (!status || status->first != 200) continue;
        const auto member = field(status->second, "member_id");
        if (!member.empty() && member == field(status->second, "leader")) {
          leader_port_ = client_ports_[k];
          return;
        }
      }
      if (Clock::now() > deadline) {
        std::string out;
        for (const auto& m : members_) out += m->output();
        throw std::runtime_error("etcd's members elected no leader in 60 s:\n" + out);
      }
      std::this_thread::sleep_for(100ms);  // polling a real cluster, under the deadline above
    }
  }
  std::uint16_t leader_port() const { return leader_port_; }
  std::vector<Process*> processes() const {
    std::vector<Process*> out;
    for (const auto& p : members_) out.push_back(p.get());
    return out;
  }

 private:
  // "name":"value" in a JSON text ("" when missing).
  static std::string field(const std::string& json, const std::string& name) {
    const auto at = json.find("\"" + name + "\":\"");
    if (at == std::string::npos) return "";
    const auto from = at + name.size() + 4;
    return json.substr(from, json.find('"', from) - from);
  }
  std::vector<std::unique_ptr<Process>> members_;
  std::vector<std::uint16_t> client_ports_;
  std::uint16_t leader_port_ = 0;
};

struct Figures {
  std::uint64_t ops = 0, errors = 0;
  long max_gap_ms = 0;
  double latency_us = 0;  // summed over the commands
  int leader = 0;         // the leader the paxos clients found (0: etcd)
  double per_second(int seconds) const { return static_cast<double>(ops) / seconds; }
  double mean_ms() const { return ops ? latency_us / 1000.0 / static_cast<double>(ops) : 0; }
};

// Runs `count` client processes (`argv` + the client's id + seconds each); once every one is
// ready, calls during(leader); sums what they print. The servers' output is read meanwhile.
template <class During>
Figures run_clients(const std::vector<std::string>& argv, int count, std::uint64_t first_id,
                    int seconds, const std::vector<Process*>& servers, During during) {
  std::vector<std::unique_ptr<Process>> clients;
  for (int i = 0; i < count; ++i) {
    auto args = argv;
    args.push_back(std::to_string(first_id + static_cast<std::uint64_t>(i)));
    args.push_back(std::to_string(seconds));
    clients.push_back(std::make_unique<Process>(args));
  }
  Figures f;
  for (auto& c : clients) {
    const auto deadline = Clock::now() + 90s;
    std::optional<std::string> ready;
    while (!ready && Clock::now() < deadline && !c->wait(0ms)) {
      ready = c->wait_for_line("ready", 200ms);
      drain(servers);
    }
    if (!ready) throw std::runtime_error("a client did not get going:\n" + c->output());
    if (auto at = ready->find("leader "); at != std::string::npos)
      f.leader = std::atoi(ready->c_str() + at + 7);
  }
  during(f.leader);
  for (auto& c : clients) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds + 120);
    std::optional<std::string> line;
    while (!line && Clock::now() < deadline) {
      line = c->wait_for_line("ops ", 200ms);
      drain(servers);
      if (!line && c->wait(0ms)) line = c->wait_for_line("ops ", 0ms);
      if (!line && c->wait(0ms)) break;
    }
    if (!line) throw std::runtime_error("a client did not finish:\n" + c->output());
    unsigned long long ops = 0, errors = 0, latency = 0;
    long gap = 0;
    std::sscanf(line->c_str(), "ops %llu errors %llu max_gap_ms %ld latency_us %llu", &ops, &errors,
                &gap, &latency);
    f.ops += ops;
    f.errors += errors;
    f.max_gap_ms = std::max(f.max_gap_ms, gap);
    f.latency_us += static_cast<double>(latency);
  }
  return f;
}

std::string file_system_of(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) != 0) return "?";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794C7630:
      return "overlayfs";
    default:
      return fmt::format("type {:#x}", static_cast<unsigned long>(s.f_type));
  }
}

// The etcd program: `wanted` as given, or found on PATH; "" when there is none.
std::string find_etcd(const std::string& wanted) {
  if (wanted == "none") return "";
  if (wanted.find('/') != std::string::npos)
    return ::access(wanted.c_str(), X_OK) == 0 ? wanted : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin";
  std::size_t at = 0;
  while (at <= dirs.size()) {
    const auto colon = std::min(dirs.find(':', at), dirs.size());
    auto candidate = dirs.substr(at, colon - at) + "/" + wanted;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    at = colon + 1;
  }
  return "";
}

int usage(const std::string& why) {
  std::cerr << "bench_multipaxos: " << why
            << "\nusage: bench_multipaxos [--clients N,N,... (1-64 each)] [--seconds S (1-600)] "
               "[--etcd PATH|none]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 4 && args[0] == "--paxos-client")
      return paxos_client_main(args[1], std::stoull(args[2]), std::stoi(args[3]));
    if (args.size() == 4 && args[0] == "--etcd-client") {
      return etcd_client_main(static_cast<std::uint16_t>(std::stoi(args[1])), std::stoull(args[2]),
                              std::stoi(args[3]));
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_multipaxos: " << e.what() << "\n";
    return 2;
  }
  const bool brief = dsys::bench::brief();
  std::vector<int> counts = brief ? std::vector<int>{1, 2} : std::vector<int>{1, 8};
  int seconds = brief ? 1 : 3;
  std::string etcd_wanted = "etcd";
  for (std::size_t i = 0; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return usage(args[i] + " needs a value");
    const std::string& value = args[i + 1];
    if (args[i] == "--clients") {
      counts.clear();
      std::size_t at = 0;
      while (at <= value.size()) {
        const auto comma = std::min(value.find(',', at), value.size());
        const std::string item = value.substr(at, comma - at);
        const bool digits = !item.empty() && item.size() <= 2 &&
                            item.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoi(item) < 1 || std::stoi(item) > 64)
          return usage("--clients '" + value + "' is not a list of numbers from 1 to 64");
        counts.push_back(std::stoi(item));
        at = comma + 1;
      }
    } else if (args[i] == "--seconds") {
      const bool digits = !value.empty() && value.size() <= 3 &&
                          value.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoi(value) < 1 || std::stoi(value) > 600)
        return usage("--seconds '" + value + "' is not 1 to 600");
      seconds = std::stoi(value);
    } else if (args[i] == "--etcd") {
      etcd_wanted = value;
    } else {
      return usage("unknown argument '" + args[i] + "'");
    }
  }
  const std::string etcd = find_etcd(etcd_wanted);
  if (etcd.empty() && etcd_wanted != "none" && etcd_wanted != "etcd")
    return usage("--etcd '" + etcd_wanted + "' is not an executable");

  dsys::testing::TempDir root("dsys-bench-multipaxos");
  int status = 0;
  try {
    const auto most = *std::max_element(counts.begin(), counts.end());
    fmt::print(
        "lab 10's replicated log: 3 paxos_node processes on loopback; client processes that each "
        "append a {}-byte command and wait until it is delivered, {} s a figure; disks in {} "
        "({})\n",
        kCommandBytes, seconds, root.path(), file_system_of(root.path()));
    std::string header = fmt::format("{:<28}", "");
    for (int n : counts)
      header += fmt::format(" {:>10} {:>8}", fmt::format("{} cl cmd/s", n), "mean ms");
    fmt::print("\n{}\n", header);
    std::fflush(stdout);
    std::uint64_t next_id = 1;  // client ids are never reused: a node keeps each one's last
    auto row = [&](const std::string& name, const std::vector<Figures>& figures) {
      std::string line = fmt::format("{:<28}", name);
      for (const auto& f : figures) {
        line += fmt::format(" {:>10.0f} {:>8.2f}", f.per_second(seconds), f.mean_ms());
        if (f.errors) line += fmt::format(" ({} errors)", f.errors);
      }
      fmt::print("{}\n", line);
      std::fflush(stdout);
    };
    std::vector<Config> configs;
    for (bool fsync : {true, false})
      for (std::size_t alpha : {1, 8})
        for (std::size_t batch : {1, 16})
          if (!brief || (fsync && alpha == 8 && batch == 16) ||
              (!fsync && alpha == 1 && batch == 1))
            configs.push_back({fsync, alpha, batch});
    std::map<std::string, std::vector<Figures>> results;
    int group = 0;
    for (const auto& config : configs) {
      PaxosGroup nodes(fmt::format("{}/g{}", root.path(), ++group), config);
      std::vector<Figures> figures;
      for (int n : counts) {
        figures.push_back(
            run_clients({here() + "/bench_multipaxos", "--paxos-client", nodes.peers()}, n, next_id,
                        seconds, nodes.processes(), [](int) {}));
        next_id += static_cast<std::uint64_t>(n);
      }
      row(config.name(), figures);
      results[config.name()] = figures;
    }
    std::vector<Figures> etcd_figures;
    if (etcd.empty()) {
      fmt::print(
          "etcd                         not installed (the Debian package etcd-server; ./dsys "
          "setup installs it): no comparison\n");
    } else {
      EtcdGroup members(etcd, root.path());
      for (int n : counts) {
        etcd_figures.push_back(run_clients(
            {here() + "/bench_multipaxos", "--etcd-client", std::to_string(members.leader_port())},
            n, 1, seconds, members.processes(), [](int) {}));
      }
      row("etcd 3 members (fsync on)", etcd_figures);
    }
    const Config kit_default{true, 8, 16};  // Proposer::kAlpha, kBatch
    if (!etcd_figures.empty()) {
      // Each fsync-on configuration against etcd, at every client count: the kit's defaults
      // first, then the one that is ahead by the most at its worst count.
      auto ratios_of = [&](const Config& config) {
        std::vector<double> out;
        for (std::size_t k = 0; k < counts.size(); ++k) {
          out.push_back(results.at(config.name())[k].per_second(seconds) /
                        std::max(etcd_figures[k].per_second(seconds), 1e-9));
        }
        return out;
      };
      auto show = [&](const std::vector<double>& ratios) {
        std::string out;
        for (std::size_t k = 0; k < counts.size(); ++k)
          out += fmt::format("{}{} clients {:.2f}x", k ? ", " : "", counts[k], ratios[k]);
        return out;
      };
      std::optional<Config> best;
      double best_worst = 0;
      for (const auto& config : configs) {
        if (!config.fsync) continue;
        const auto r = ratios_of(config);
        const double worst = *std::min_element(r.begin(), r.end());
        if (!best || worst > best_worst) {
          best = config;
          best_worst = worst;
        }
      }
      fmt::print("\nours / etcd, with fsync on in both:\n  {} (the defaults): {}\n",
                 kit_default.name(), show(ratios_of(kit_default)));
      if (best && best->name() != kit_default.name())
        fmt::print("  {} (the best): {}\n", best->name(), show(ratios_of(*best)));
      fmt::print(
          "goal: ahead of etcd with fsync on, at every client count, in one configuration: {}\n",
          best_worst > 1.0 ? "met, by " + best->name() : std::string("NOT met"));
    }
    // The fail-over.
    const int failover_seconds = brief ? 3 : std::max(seconds, 6);
    PaxosGroup nodes(fmt::format("{}/failover", root.path()), kit_default);
    int killed = 0;
    const Figures failover = run_clients(
        {here() + "/bench_multipaxos", "--paxos-client", nodes.peers()}, most, next_id,
        failover_seconds, nodes.processes(), [&](int leader) {
          // A benchmark's pause, not a test's wait: the kill lands a third of the way through.
          std::this_thread::sleep_for(std::chrono::milliseconds(failover_seconds * 1000 / 3));
          if (leader >= 1 && leader <= 3) {
            nodes.kill(leader);
            killed = leader;
          }
        });
    if (killed == 0) throw std::runtime_error("the fail-over run's clients named no leader");
    fmt::print(
        "\nfail-over ({}, {} clients, {} s): leader n{} SIGKILLed a third of the way through; "
        "the longest pause a client saw: {} ms ({} commands delivered in all)\n",
        kit_default.name(), most, failover_seconds, killed, failover.max_gap_ms, failover.ops);
  } catch (const std::exception& e) {
    std::cerr << "bench_multipaxos: " << e.what() << "\n";
    status = 1;
  }
  return status;
}
