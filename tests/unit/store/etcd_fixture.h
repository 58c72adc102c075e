// Shared helpers for the store tests: a fixture that starts a real etcd per test and connects a
// Store to it, and WaitFor() to poll a condition with a deadline instead of sleeping.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/tls_ca.h"
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

// Options for a store of the test etcds: TLS with their CA, presenting their certificate.
inline Options TestStoreOptions(const gd2::testing::EtcdProcess& etcd,
                                std::vector<std::string> endpoints) {
  Options o;
  o.endpoints = std::move(endpoints);
  o.ca_file = etcd.ca_file();
  o.cert_file = etcd.cert_file();
  o.key_file = etcd.key_file();
  o.tls_server_name = tls::kStoreServerName;
  o.dial_timeout = std::chrono::seconds(5);
  o.request_timeout = std::chrono::seconds(2);
  return o;
}

class EtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_.Start();
    auto store = Store::Connect(MakeOptions());
    ASSERT_OK(store);
    store_ = std::move(store).value();
  }

  Options MakeOptions() const { return TestStoreOptions(etcd_, {etcd_.endpoint()}); }

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
