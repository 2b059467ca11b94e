// A fuzz target as a plain program, for the normal build (g++, a ctest): it runs the target on
// every file of the directories it is given (a corpus), on its built-in seeds, and on inputs
// generated from those seeds by a fixed-seed mutator. Exit status 0: every input passed.
//
//   fuzz_frame_replay fuzz/corpus/frame            # replay, as ctest does
//   fuzz_frame_replay --write-seeds fuzz/corpus/frame   # (re)write the committed seed corpus
//   fuzz_frame_replay --generated 100000 DIR       # more generated inputs
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz.hpp"

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

// A variation of one or two inputs: bytes flipped, cut, inserted, or two inputs spliced.
std::string mutate(const std::vector<std::string>& pool, std::mt19937_64& rng) {
  std::string s = pool[rng() % pool.size()];
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 6) {
      case 0:  // flip a byte to an interesting value
        if (at < s.size()) {
          static constexpr unsigned char kValues[] = {0, 1, 2, 0x7f, 0x80, 0xff};
          s[at] = static_cast<char>(kValues[rng() % std::size(kValues)]);
        }
        break;
      case 1:  // a random byte
        if (at < s.size()) s[at] = static_cast<char>(rng());
        break;
      case 2:  // cut
        s.resize(at);
        break;
      case 3:  // insert random bytes
        s.insert(at, std::string(1 + rng() % 8, static_cast<char>(rng())));
        break;
      case 4: {  // splice another input's tail
        const std::string& other = pool[rng() % pool.size()];
        s = s.substr(0, at) + other.substr(other.empty() ? 0 : rng() % other.size());
        break;
      }
      default:  // a large little-endian number (a count or a length) somewhere
        if (at + 4 <= s.size()) {
          const std::uint32_t n = static_cast<std::uint32_t>(rng());
          for (int i = 0; i < 4; ++i)
            s[at + static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
        }
        break;
    }
  }
  return s;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> pool;
  std::size_t files = 0, generated = 20000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--write-seeds" && i + 1 < argc) {
      const std::filesystem::path dir = argv[++i];
      std::filesystem::create_directories(dir);
      for (const auto& [name, bytes] : dsys::fuzz::seeds()) {
        std::ofstream(dir / name, std::ios::binary) << bytes;
      }
      std::printf("wrote %zu seeds to %s\n", dsys::fuzz::seeds().size(), dir.c_str());
      return 0;
    }
    if (arg == "--generated" && i + 1 < argc) {
      generated = std::strtoull(argv[++i], nullptr, 10);
      continue;
    }
    const std::filesystem::path path = arg;
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) {
          pool.push_back(read_file(entry.path()));
          ++files;
        }
      }
    } else {
      pool.push_back(read_file(path));
      ++files;
    }
  }
  for (auto& [name, bytes] : dsys::fuzz::seeds()) pool.push_back(std::move(bytes));
  for (const std::string& input : pool) run(input);
  std::mt19937_64 rng(20240607);
  for (std::size_t i = 0; i < generated; ++i) run(mutate(pool, rng));
  std::printf("%s: %zu corpus files, %zu seeds, %zu generated inputs: no failure\n", argv[0], files,
              pool.size() - files, generated);
  return 0;
}
