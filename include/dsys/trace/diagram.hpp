// dsys/trace/diagram.hpp: pictures of a run, made from its trace.
//
//   - render_html: a space-time diagram, one self-contained HTML page (src/trace/diagram.html):
//     one lane per node, time downwards, one row per event, message arrows from send to
//     delivery (a lost copy ends in a cross, a duplicated copy is dashed), timers, crashes and
//     restarts, partitions shaded, log lines; filters by node and by RPC procedure; details of
//     an event on hover and click; the events up to a failure highlighted. The simulated world
//     writes one beside the text trace of every failing run (sim::World::write_trace).
//   - render_shiviz: the run as a ShiViz log (https://bestchai.bitbucket.io/shiviz/): each event
//     of a node with its vector clock, the parser's regular expression on the first line.
#pragma once

#include <string>

#include "dsys/trace/trace.hpp"

namespace dsys::trace {

struct DiagramOptions {
  std::string title = "dsys run";
  // What failed ("" when the run did not fail): shown at the top; the page opens at the end of
  // the run, with the last `highlight` events marked.
  std::string failure;
  std::size_t highlight = 12;
};

// The page, with the run's events inside. Events take about 45 bytes each, texts included (100,000
// events: 4.5 MB; ./dsys bench diagram).
std::string render_html(const Trace& trace, const DiagramOptions& options);

// One entry per node event (and "world" for partitions, heals and notes), each two lines: the
// host and its vector clock as JSON ({"n1-client": 3, "n0-server": 2}), then what happened. A
// node's clock counts its own events; a delivery first merges the sender's clock at the send.
std::string render_shiviz(const Trace& trace);

// Writes `text` to `path`, creating its directory; false on an I/O error.
bool write_text_file(const std::string& path, const std::string& text);

}  // namespace dsys::trace
