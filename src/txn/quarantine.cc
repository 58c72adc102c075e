#include "txn/quarantine.h"

#include <nlohmann/json.hpp>

#include "common/metrics.h"

namespace gd2::txn {

StatusOr<std::string> QuarantineKey(const store::KeySpace& keys, std::string_view key) {
  const std::string prefix = keys.Prefix();
  if (key.size() <= prefix.size() || key.substr(0, prefix.size()) != prefix) {
    return InvalidArgumentError("key outside the cluster's key space");
  }
  std::string_view rest = key.substr(prefix.size());
  if (rest.substr(0, 11) == "quarantine/") return InvalidArgumentError("key already quarantined");
  return prefix + "quarantine/" + std::string(rest);
}

StatusOr<bool> Quarantine(store::Store& store, const store::KeySpace& keys,
                          const store::KeyValue& seen, std::string_view kind,
                          const Status& reason, const log::Logger& log) {
  GD2_ASSIGN_OR_RETURN(std::string to, QuarantineKey(keys, seen.key));
  // The value may be any bytes: keep it as a JSON string only if it is valid UTF-8.
  nlohmann::json value;
  try {
    value = nlohmann::json{{"key", seen.key}, {"reason", reason.ToString()}, {"value", seen.value}};
    value.dump();
  } catch (const std::exception&) {
    value = nlohmann::json{{"key", seen.key}, {"reason", reason.ToString()}, {"value_bytes", seen.value.size()}};
  }
  std::string text;
  try {
    text = value.dump();
  } catch (const std::exception&) {
    text = nlohmann::json{{"reason", "record key and reason not valid UTF-8"}}.dump();
  }
  GD2_ASSIGN_OR_RETURN(store::TxnResult r,
                       store.Txn({store::Compare::ModRevisionEquals(seen.key, seen.mod_revision)},
                                 {store::Op::Put(to, text), store::Op::Delete(seen.key)}, {}));
  if (!r.succeeded) return false;
  metrics::Default()
      .GetCounter("gd2_store_records_quarantined_total",
                  "store records set aside because their content is invalid", {{"kind", std::string(kind)}})
      .Inc();
  log.Error("bad store record quarantined",
            {{"key", seen.key}, {"kind", kind}, {"quarantine_key", to}, {"error", reason}});
  return true;
}

}  // namespace gd2::txn
