// safetensors: the checkpoint format shared with PyTorch and the Hugging Face tools.
//   8 bytes   little-endian u64 N, the header's length
//   N bytes   JSON: {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …,
//                    "__metadata__": {"key": "string value", …}}
//   the rest  raw little-endian tensor data; offsets are relative to its start
// Reading validates everything a truncated or hand-edited file can get wrong (header length,
// JSON, dtype, shape × dtype size = byte range, ranges inside the data, no overlaps) and
// throws curv::Error naming the file and the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv {

struct SafeTensor {
  std::string dtype;  // "F32", "F64", "I64", …
  Shape shape;
  std::vector<std::uint8_t> bytes;

  // The values as T, converting from F32 or F64; throws naming `name` for other dtypes.
  template <class T>
  std::vector<T> as(const std::string& name) const;
};

struct Safetensors {
  std::map<std::string, std::string> metadata;
  std::map<std::string, SafeTensor> tensors;  // by name (files sort them; order is not kept)
};

Safetensors read_safetensors(const std::string& path);
// The metadata alone, reading only the header (validated as read_safetensors does).
std::map<std::string, std::string> read_safetensors_metadata(const std::string& path);

// One tensor to write: name, dtype ("F32" or "F64"), shape and its data.
struct TensorToWrite {
  std::string name;
  std::string dtype;
  Shape shape;
  const void* data;
};

// Writes to a temporary file beside `path`, then renames it over `path`: a reader never sees a
// partial file and an existing file survives a failed write.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata);

// Bytes per element of a dtype name, 0 if unknown.
std::size_t dtype_size(const std::string& dtype);

}  // namespace curv
