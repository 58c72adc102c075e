// Record marking (RFC 5531 section 11): how Sun-RPC messages are framed on a TCP stream. Each
// fragment starts with a big-endian word, bit 31 = last fragment, bits 0-30 = fragment length.
// RecordReader reassembles records from arbitrary chunks of the stream with a size cap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gd2::sunrpc {

inline constexpr uint32_t kLastFragmentBit = 0x80000000u;
inline constexpr uint32_t kMaxFragmentLength = 0x7fffffffu;

// Returns `payload` framed as one record, split into fragments of at most `max_fragment` bytes
// (1..kMaxFragmentLength; an empty payload is one empty last fragment).
std::string EncodeRecord(std::string_view payload, uint32_t max_fragment = kMaxFragmentLength);

// Incremental record reassembler for one stream. Memory use stays below max_record_size plus a
// few bytes whatever the input. Not thread-safe.
class RecordReader {
 public:
  // `max_record_size` caps the sum of fragment lengths of one record; `max_fragments` caps the
  // number of fragments in one record (defends against streams of empty fragments).
  explicit RecordReader(size_t max_record_size, size_t max_fragments = 1024)
      : max_record_size_(max_record_size), max_fragments_(max_fragments) {}

  // Consumes all of `data`, appending every record it completes to `records`. Returns
  // kResourceExhausted when a record exceeds a limit; the stream cannot be resynchronised after
  // that, so the reader stays failed and the caller should close the connection.
  Status Feed(std::string_view data, std::vector<std::string>& records);

  // True when no partial record or fragment header is buffered.
  bool AtRecordBoundary() const {
    return header_len_ == 0 && !in_fragment_ && record_.empty() && fragments_ == 0;
  }

 private:
  size_t max_record_size_;
  size_t max_fragments_;
  Status failed_;
  unsigned char header_[4] = {0, 0, 0, 0};
  size_t header_len_ = 0;
  bool in_fragment_ = false;
  bool last_fragment_ = false;
  size_t fragment_left_ = 0;
  size_t fragments_ = 0;
  std::string record_;
};

}  // namespace gd2::sunrpc
