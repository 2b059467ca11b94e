// tests/lib/raw_socket.hpp: a raw TCP connection for the library's tests, to send what no
// well-behaved node would. Waits are bounded; none sleeps a fixed time.
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "dsys/core/address.hpp"
#include "dsys/net/runtime.hpp"

namespace dsys::testing {

class RawSocket {
 public:
  // Connects to `to`; with `hello`, first sends the hello that every dsys connection starts
  // with (so that what follows reaches the RPC layer).
  explicit RawSocket(core::Address to, bool hello = false)
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(to.port());
    addr.sin_addr.s_addr = htonl(to.ip());
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    if (hello) {
      std::string frame;
      net::append_frame(frame, net::hello_message({}));
      send(frame);
    }
  }
  ~RawSocket() { close(); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }
  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // True when the server closes the connection within `limit` (whatever it sent before).
  bool closed_by_peer(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buffer[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  int fd_;
};

}  // namespace dsys::testing
