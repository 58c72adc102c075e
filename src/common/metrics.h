// A small Prometheus metrics registry: counters, gauges and histograms with fixed label sets,
// rendered in the text exposition format for GET /metrics. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"

namespace gd2::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(double v = 1) { value_.fetch_add(v); }
  double value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v); }
  void Add(double v) { value_.fetch_add(v); }
  double value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // Cumulative bucket counts, sum and count, consistent with each other.
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Take() const;

 private:
  std::vector<double> bounds_;
  mutable Mutex mu_;
  std::vector<uint64_t> buckets_ GD2_GUARDED_BY(mu_);
  double sum_ GD2_GUARDED_BY(mu_) = 0;
  uint64_t count_ GD2_GUARDED_BY(mu_) = 0;
};

// Default latency buckets in seconds: 100 us .. 10 s.
std::vector<double> LatencyBuckets();

class Registry {
 public:
  // Each returns the series for (name, labels), creating it on first use. References stay
  // valid for the registry's lifetime. `help` is taken from the first call per name.
  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const Labels& labels = {}, std::vector<double> bounds = LatencyBuckets());
  // Text exposition format 0.0.4.
  std::string Render() const;

 private:
  struct Family {
    std::string type;
    std::string help;
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  mutable Mutex mu_;
  std::map<std::string, Family> families_ GD2_GUARDED_BY(mu_);
};

// The process-wide registry.
Registry& Default();

}  // namespace gd2::metrics
