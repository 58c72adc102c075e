#include "sunrpc/record.h"

#include <algorithm>

namespace gd2::sunrpc {

namespace {

void PutMarker(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

}  // namespace

std::string EncodeRecord(std::string_view payload, uint32_t max_fragment) {
  GD2_CHECK(max_fragment >= 1 && max_fragment <= kMaxFragmentLength);
  std::string out;
  size_t fragments = payload.empty() ? 1 : (payload.size() + max_fragment - 1) / max_fragment;
  out.reserve(payload.size() + 4 * fragments);
  size_t pos = 0;
  do {
    size_t n = std::min<size_t>(max_fragment, payload.size() - pos);
    bool last = pos + n == payload.size();
    PutMarker(out, static_cast<uint32_t>(n) | (last ? kLastFragmentBit : 0));
    out.append(payload.substr(pos, n));
    pos += n;
  } while (pos < payload.size());
  return out;
}

Status RecordReader::Feed(std::string_view data, std::vector<std::string>& records) {
  if (!failed_.ok()) return failed_;
  size_t pos = 0;
  while (pos < data.size()) {
    if (!in_fragment_) {
      while (header_len_ < 4 && pos < data.size()) {
        header_[header_len_++] = static_cast<unsigned char>(data[pos++]);
      }
      if (header_len_ < 4) break;
      header_len_ = 0;
      uint32_t marker = (uint32_t{header_[0]} << 24) | (uint32_t{header_[1]} << 16) |
                        (uint32_t{header_[2]} << 8) | uint32_t{header_[3]};
      last_fragment_ = (marker & kLastFragmentBit) != 0;
      fragment_left_ = marker & kMaxFragmentLength;
      if (++fragments_ > max_fragments_) {
        failed_ = ResourceExhaustedError("record has too many fragments: max=" +
                                         std::to_string(max_fragments_));
        return failed_;
      }
      if (fragment_left_ > max_record_size_ - record_.size()) {
        failed_ = ResourceExhaustedError(
            "record too large: size>=" + std::to_string(record_.size() + fragment_left_) +
            " max=" + std::to_string(max_record_size_));
        return failed_;
      }
      in_fragment_ = true;
    }
    size_t n = std::min(fragment_left_, data.size() - pos);
    record_.append(data.substr(pos, n));
    pos += n;
    fragment_left_ -= n;
    if (fragment_left_ == 0) {
      in_fragment_ = false;
      if (last_fragment_) {
        records.push_back(std::move(record_));
        record_.clear();
        fragments_ = 0;
      }
    }
  }
  return OkStatus();
}

}  // namespace gd2::sunrpc
