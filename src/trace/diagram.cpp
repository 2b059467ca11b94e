#include "dsys/trace/diagram.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

namespace dsys::trace {

namespace detail {
extern const char* const kDiagramTemplate;  // src/trace/diagram.html, embedded by CMake
}

namespace {

constexpr std::string_view kDataMark = "/*DSYS_RUN_DATA*/";

std::int64_t nanoseconds(core::Time t) {
  return t.time_since_epoch().count();
}

// `text` as a JSON string, safe inside a <script> element (no "</").
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '/':
        out += i > 0 && text[i - 1] == '<' ? "\\/" : "/";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

int lane(std::uint32_t node) {
  return node == kNoNode ? -1 : static_cast<int>(node);
}

// The run, column by column (each event's fields at one index of each array): times as
// differences in ns, kinds as trace::Kind numbers, texts once each.
std::string run_data(const Trace& trace, const DiagramOptions& options) {
  const std::vector<Event>& events = trace.events();
  std::string out = "{\"title\":";
  append_json_string(out, options.title);
  out += ",\"failure\":";
  append_json_string(out, options.failure);
  out += fmt::format(",\"highlight\":{},\"nodes\":[", options.highlight);
  std::uint32_t nodes = static_cast<std::uint32_t>(trace.node_names().size());
  for (const Event& e : events) {
    if (e.node != kNoNode && e.node >= nodes) nodes = e.node + 1;
    if (e.peer != kNoNode && e.peer >= nodes) nodes = e.peer + 1;
  }
  for (const Span& span : trace.spans()) {  // a span has a lane, though its node did nothing
    if (span.node != kNoNode && span.node >= nodes) nodes = span.node + 1;
  }
  for (std::uint32_t n = 0; n < nodes; ++n) {
    if (n > 0) out += ',';
    append_json_string(out, n < trace.node_names().size() ? trace.node_names()[n] : "");
  }
  out += ']';
  const auto column = [&](std::string_view name, auto value) {
    out += fmt::format(",\"{}\":[", name);
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (i > 0) out += ',';
      out += fmt::format("{}", value(i));
    }
    out += ']';
  };
  column("t", [&](std::size_t i) {
    return nanoseconds(events[i].time) - (i > 0 ? nanoseconds(events[i - 1].time) : 0);
  });
  column("k", [&](std::size_t i) { return static_cast<int>(events[i].kind); });
  column("n", [&](std::size_t i) { return lane(events[i].node); });
  column("p", [&](std::size_t i) { return lane(events[i].peer); });
  column("m", [&](std::size_t i) { return events[i].message; });
  column("s", [&](std::size_t i) { return events[i].size; });
  std::unordered_map<std::string_view, std::size_t> numbers;
  std::vector<std::string_view> texts;
  column("x", [&](std::size_t i) -> long long {
    const std::string& text = events[i].text;
    if (text.empty()) return -1;
    auto [it, added] = numbers.try_emplace(text, texts.size());
    if (added) texts.push_back(text);
    return static_cast<long long>(it->second);
  });
  out += ",\"texts\":[";
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, texts[i]);
  }
  out += "],\"spans\":[";
  for (std::size_t i = 0; i < trace.spans().size(); ++i) {
    const Span& s = trace.spans()[i];
    out += fmt::format("{}[{},{},{},", i > 0 ? "," : "", lane(s.node), nanoseconds(s.begin),
                       s.end ? nanoseconds(*s.end) : -1);
    append_json_string(out, s.text);
    out += ']';
  }
  out += "]}";
  return out;
}

// "n1 client" -> "n1-client": a ShiViz host is one word.
std::string host_name(const Trace& trace, std::uint32_t node) {
  std::string name = trace.node_label(node);
  for (char& c : name) {
    if (c == ' ' || c == '\t') c = '-';
  }
  return name;
}

}  // namespace

std::string render_html(const Trace& trace, const DiagramOptions& options) {
  const std::string_view page = detail::kDiagramTemplate;
  const std::size_t mark = page.find(kDataMark);
  std::string out;
  out.reserve(page.size() + trace.events().size() * 40);
  out += page.substr(0, mark);
  out += run_data(trace, options);
  out += page.substr(mark + kDataMark.size());
  return out;
}

std::string render_shiviz(const Trace& trace) {
  using Clock = std::map<std::string, std::uint64_t>;
  std::map<std::uint32_t, Clock> clocks;             // per node (kNoNode: the world)
  std::unordered_map<std::uint64_t, Clock> at_send;  // per message: its sender's clock
  std::unordered_map<std::uint64_t, std::string> lost;
  for (const Event& e : trace.events()) {
    if (e.kind == Kind::drop && e.message != 0) lost[e.message] = e.text;
  }
  std::string out = "(?<host>\\S*) (?<clock>{.*})\\n(?<event>.*)\n\n";
  for (const Event& e : trace.events()) {
    if (e.kind == Kind::drop || e.kind == Kind::duplicate) continue;  // the network's, not a node's
    const std::string host = host_name(trace, e.node);
    Clock& clock = clocks[e.node];
    if (e.kind == Kind::deliver) {
      if (auto it = at_send.find(e.message); it != at_send.end()) {
        for (const auto& [other, count] : it->second) {
          std::uint64_t& mine = clock[other];
          mine = std::max(mine, count);
        }
      }
    }
    ++clock[host];
    if (e.message != 0 && e.kind != Kind::deliver) at_send[e.message] = clock;
    out += host;
    out += " {";
    bool first = true;
    for (const auto& [other, count] : clock) {
      out += first ? "" : ", ";
      first = false;
      append_json_string(out, other);
      out += fmt::format(": {}", count);
    }
    out += "}\n";
    std::string what = std::string(to_string(e.kind));
    if (e.peer != kNoNode) {
      what +=
          fmt::format(" {} {}", e.kind == Kind::deliver ? "from" : "to", trace.node_label(e.peer));
    }
    if (!e.text.empty()) what += ": " + e.text;
    if (auto it = lost.find(e.message); e.kind == Kind::send && it != lost.end()) {
      what += fmt::format(" (a copy was dropped: {})", it->second);
    }
    for (char& c : what) {
      if (c == '\n') c = ' ';
    }
    out += what;
    out += '\n';
  }
  return out;
}

bool write_text_file(const std::string& path, const std::string& text) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << text;
  return static_cast<bool>(out);
}

}  // namespace dsys::trace
