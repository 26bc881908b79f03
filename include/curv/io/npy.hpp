// NumPy .npy files: the simplest way to hand arrays (gradients, curvature diagonals, labels)
// between curv and Python.
//   6 bytes   magic "\x93NUMPY"
//   2 bytes   version major, minor: 1.0 (header length u16 LE), 2.0 or 3.0 (u32 LE; 3.0 is UTF-8)
//   N bytes   a Python dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
//             padded with spaces and ended by '\n' so the data starts 64-byte aligned
//   the rest  the raw data, C order
// Reading accepts the little-endian dtypes curv uses ('<f4', '<f8', '<i8', plus '<i4' and '|u1'
// for labels) in C order, any shape including () for a scalar. Every failure is one-line
// curv::Error naming the file, what was expected and what was found.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace curv {

struct NpyArray {
  std::vector<std::int64_t> shape;  // empty for a 0-d (scalar) array
  std::string dtype;                // "<f4", "<f8", "<i8", "<i4" or "|u1"
  std::vector<std::uint8_t> bytes;  // numel() × itemsize bytes, little-endian, C order
  std::string source;               // the file it came from, named in conversion errors

  std::int64_t numel() const;  // product of shape (1 for a scalar)

  // The values converted to the requested type. Integers convert to floating point (exactly for
  // |values| < 2^53 / 2^24); float dtypes to int64 throw instead of silently truncating.
  std::vector<double> to_double() const;
  std::vector<float> to_float() const;
  std::vector<std::int64_t> to_int64() const;
};

NpyArray read_npy(const std::string& path);

// Writes a version 1.0 file in C order ('<f8', '<f4', '<i8'), byte-identical to numpy's np.save.
// The file is written beside `path` under a temporary name and renamed over it, so a reader
// never sees a partial file and an existing file survives a failed write.
void write_npy(const std::string& path, const double* data, const std::vector<std::int64_t>& shape);
void write_npy(const std::string& path, const float* data, const std::vector<std::int64_t>& shape);
void write_npy(const std::string& path, const std::int64_t* data,
               const std::vector<std::int64_t>& shape);

// The same file written piece by piece, for arrays produced block by block (streamed gradients):
// the shape is known up front, write() appends data in C order, finish() checks that every byte
// came and renames the temporary over `path`. Destroyed unfinished (an error on the way), it
// removes the temporary, so a failed run leaves no file behind.
class NpyWriter {
 public:
  NpyWriter(std::string path, const char* dtype, const std::vector<std::int64_t>& shape);
  ~NpyWriter();
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;
  void write(const void* data, std::uint64_t bytes);
  void finish();
  std::uint64_t data_bytes() const { return data_bytes_; }

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  std::uint64_t data_bytes_ = 0, written_ = 0, header_bytes_ = 0;
  bool finished_ = false;
};

}  // namespace curv
