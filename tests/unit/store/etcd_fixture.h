// Shared helpers for the store tests: a fixture that starts a real etcd per test and connects a
// Store to it, and WaitFor() to poll a condition with a deadline instead of sleeping.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "store/store.h"
#include "support/etcd_process.h"
#include "support/status_matchers.h"

namespace gd2::store {

// Polls `cond` every 10 ms until it holds or `timeout` passes; returns its last value.
inline bool WaitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

class EtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_.Start();
    auto store = Store::Connect(MakeOptions());
    ASSERT_OK(store);
    store_ = std::move(store).value();
  }

  Options MakeOptions() const {
    Options o;
    o.endpoints = {etcd_.endpoint()};
    o.dial_timeout = std::chrono::seconds(5);
    o.request_timeout = std::chrono::seconds(2);
    return o;
  }

  // After etcd_.Start() following a Kill(): waits until the store answers again.
  bool WaitForStore() {
    Status last;
    bool ok = WaitFor(
        [&] {
          last = store_->Get("probe").status();
          return last.ok();
        },
        std::chrono::seconds(15));
    if (!ok) ADD_FAILURE() << "store did not recover: " << last.ToString();
    return ok;
  }

  gd2::testing::EtcdProcess etcd_;
  std::unique_ptr<Store> store_;
};

}  // namespace gd2::store
