#include "brick/port_allocator.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

#include "support/ports.h"
#include "support/status_matchers.h"

namespace gd2::brick {
namespace {

using ::gd2::testing::StatusIs;

// A listening socket on 127.0.0.1:port for the life of the object.
class Listener {
 public:
  explicit Listener(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
          ::listen(fd_, 1) == 0;
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

PortAllocator::Options Range(int base, int count) {
  PortAllocator::Options o;
  o.bind_host = "127.0.0.1";
  o.base_port = base;
  o.max_port = base + count - 1;
  return o;
}

TEST(PortAllocatorTest, SkipsPortBoundByAnotherProcess) {
  int base = gd2::testing::FreePort();
  Listener busy(base);
  ASSERT_TRUE(busy.ok());
  PortAllocator ports(Range(base, 20));
  ASSERT_OK_AND_ASSIGN(int port, ports.Allocate());
  EXPECT_NE(port, base);
  EXPECT_GT(port, base);
  EXPECT_TRUE(ports.IsAllocated(port));
}

TEST(PortAllocatorTest, SkipsReservedAndHandedOutPorts) {
  int base = gd2::testing::FreePort();
  PortAllocator ports(Range(base, 20));
  EXPECT_OK(ports.Reserve(base));
  ASSERT_OK_AND_ASSIGN(int a, ports.Allocate());
  ASSERT_OK_AND_ASSIGN(int b, ports.Allocate());
  EXPECT_NE(a, base);
  EXPECT_NE(b, base);
  EXPECT_NE(a, b);
  EXPECT_THAT(ports.Reserve(a), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(ports.Reserve(0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ports.Reserve(70000), StatusIs(StatusCode::kInvalidArgument));
  ports.Release(a);
  EXPECT_FALSE(ports.IsAllocated(a));
  EXPECT_OK(ports.Reserve(a));
  ports.Release(12345);  // never handed out: no-op
}

TEST(PortAllocatorTest, WrapsAroundAndReusesReleasedPorts) {
  int base = gd2::testing::FreePort();
  PortAllocator ports(Range(base, 3));
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) {
    auto p = ports.Allocate();
    if (!p.ok()) GTEST_SKIP() << "a port in the test range is in use: " << p.status().ToString();
    got.push_back(*p);
  }
  EXPECT_THAT(ports.Allocate(), StatusIs(StatusCode::kResourceExhausted));
  ports.Release(got[1]);
  ASSERT_OK_AND_ASSIGN(int again, ports.Allocate());
  EXPECT_EQ(again, got[1]);
}

TEST(PortAllocatorTest, ExhaustedWhenOnlyPortIsBound) {
  int base = gd2::testing::FreePort();
  Listener busy(base);
  ASSERT_TRUE(busy.ok());
  PortAllocator ports(Range(base, 1));
  EXPECT_THAT(ports.Allocate(), StatusIs(StatusCode::kResourceExhausted));
}

TEST(PortAllocatorTest, ConcurrentAllocationsAreDistinct) {
  int base = gd2::testing::FreePort();
  PortAllocator ports(Range(base, 200));
  std::mutex mu;
  std::set<int> seen;
  int total = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto p = ports.Allocate();
        if (!p.ok()) continue;
        std::lock_guard<std::mutex> lock(mu);
        seen.insert(*p);
        ++total;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(static_cast<int>(seen.size()), total);
  EXPECT_EQ(total, 40);
}

}  // namespace
}  // namespace gd2::brick
