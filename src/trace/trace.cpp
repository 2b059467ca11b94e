#include "dsys/trace/trace.hpp"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace dsys::trace {

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::send:
      return "send";
    case Kind::deliver:
      return "deliver";
    case Kind::drop:
      return "drop";
    case Kind::duplicate:
      return "duplicate";
    case Kind::timer:
      return "timer";
    case Kind::crash:
      return "crash";
    case Kind::restart:
      return "restart";
    case Kind::log:
      return "log";
    case Kind::partition:
      return "partition";
    case Kind::heal:
      return "heal";
    case Kind::fail:
      return "FAIL";
    case Kind::note:
      return "note";
  }
  return "?";
}

std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

void Trace::set_node_name(std::uint32_t node, std::string name) {
  if (names_.size() <= node) names_.resize(node + 1);
  names_[node] = std::move(name);
}

void Trace::add(Event event) {
  counts_[static_cast<std::size_t>(event.kind)]++;
  if (enabled_) events_.push_back(std::move(event));
}

std::string Trace::node_label(std::uint32_t node) const {
  if (node == kNoNode) return "world";
  if (node < names_.size() && !names_[node].empty())
    return fmt::format("n{} {}", node, names_[node]);
  return fmt::format("n{}", node);
}

std::string Trace::render_line(const Event& e) const {
  std::string line = fmt::format("{:>12}  {:<14} {:<9}", core::format_time(e.time),
                                 node_label(e.node), to_string(e.kind));
  switch (e.kind) {
    case Kind::send:
    case Kind::duplicate:
      line += fmt::format(" -> {}  {} bytes  #{:08x}", node_label(e.peer), e.size,
                          static_cast<std::uint32_t>(e.digest));
      break;
    case Kind::deliver:
      line += fmt::format(" <- {}  {} bytes  #{:08x}", node_label(e.peer), e.size,
                          static_cast<std::uint32_t>(e.digest));
      break;
    case Kind::drop:
      line += fmt::format(" -> {}  {} bytes  #{:08x}", node_label(e.peer), e.size,
                          static_cast<std::uint32_t>(e.digest));
      break;
    default:
      break;
  }
  if (!e.text.empty()) {
    line += "  ";
    line += e.text;
  }
  return line;
}

std::string Trace::render() const {
  std::string out;
  for (const Event& e : events_) {
    out += render_line(e);
    out += '\n';
  }
  return out;
}

std::string Trace::tail(std::size_t n) const {
  std::string out;
  const std::size_t first = events_.size() > n ? events_.size() - n : 0;
  for (std::size_t i = first; i < events_.size(); ++i) {
    out += render_line(events_[i]);
    out += '\n';
  }
  return out;
}

std::uint64_t Trace::digest() const {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const Event& e : events_) h = fnv1a(render_line(e), h);
  return h;
}

std::string Trace::summary() const {
  return fmt::format(
      "{} sends, {} deliveries, {} drops, {} duplicates, {} timers, {} crashes, {} restarts, "
      "{} partitions, {} log lines",
      count(Kind::send), count(Kind::deliver), count(Kind::drop), count(Kind::duplicate),
      count(Kind::timer), count(Kind::crash), count(Kind::restart), count(Kind::partition),
      count(Kind::log));
}

bool Trace::write(const std::string& path) const {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << render();
  return static_cast<bool>(out);
}

}  // namespace dsys::trace
