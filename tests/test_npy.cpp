// .npy I/O: round trips, byte-exact agreement with numpy's np.save, and one-line errors for every
// way a file can be wrong.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "curv/core/error.hpp"
#include "curv/io/npy.hpp"
#include "support/errors.hpp"

using namespace curv;
using namespace curv::testing;
namespace fs = std::filesystem;

namespace {

// Hex digits (spaces ignored) to bytes: embedded files stay readable and free of the pitfalls of
// "\x.." escapes swallowing the next hex digit.
std::string from_hex(const std::string& hex) {
  std::string out, digits;
  for (char c : hex)
    if (c != ' ') digits += c;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
    out += char(std::stoi(digits.substr(i, 2), nullptr, 16));
  return out;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A header as the NPY spec describes it: magic, version 1.0, u16 LE length, the dict padded with
// spaces and '\n' so that the data starts at a multiple of 64 (numpy also reserves 21 - digits
// spaces for the first axis to grow; the exact padding here is what numpy 1.24 wrote).
std::string v1_header(const std::string& dict, std::size_t total = 128) {
  const std::size_t hlen = total - 10;
  std::string h = std::string("\x93NUMPY\x01\x00", 8) + char(hlen & 0xff) + char(hlen >> 8) + dict;
  h.append(total - 1 - h.size(), ' ');
  return h + '\n';
}

// Files written by numpy 1.24.2 (np.save, or np.lib.format.write_array for versions 2.0/3.0).
// np.save(f, np.array([[1.5, -2, 0.25], [3, 4, 5]], dtype='<f8'))
const std::string kF8_2x3 = from_hex(
    "934e554d5059010076007b276465736372273a20273c6638272c2027666f7274 "
    "72616e5f6f72646572273a2046616c73652c20277368617065273a2028322c20"
    "33292c207d202020202020202020202020202020202020202020202020202020 "
    "202020202020202020202020202020202020202020202020202020202020200a"
    "000000000000f83f00000000000000c0000000000000d03f0000000000000840 "
    "00000000000010400000000000001440");
// np.save(f, np.array(-7, dtype='<i8'))
const std::string kI8_scalar = from_hex(
    "934e554d5059010076007b276465736372273a20273c6938272c2027666f7274 "
    "72616e5f6f72646572273a2046616c73652c20277368617065273a2028292c20"
    "7d20202020202020202020202020202020202020202020202020202020202020 "
    "202020202020202020202020202020202020202020202020202020202020200a"
    "f9ffffffffffffff");
// np.save(f, np.array([0, 1, 255], dtype='|u1'))
const std::string kU1_3 = from_hex(
    "934e554d5059010076007b276465736372273a20277c7531272c2027666f7274 "
    "72616e5f6f72646572273a2046616c73652c20277368617065273a2028332c29"
    "2c207d2020202020202020202020202020202020202020202020202020202020 "
    "202020202020202020202020202020202020202020202020202020202020200a"
    "0001ff");
// np.save(f, np.arange(24, dtype='<f4').reshape(1, 2, 3, 4) * 0.5)
const std::string kF4_4d = from_hex(
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f7274 "
    "72616e5f6f72646572273a2046616c73652c20277368617065273a2028312c20"
    "322c20332c2034292c207d202020202020202020202020202020202020202020 "
    "202020202020202020202020202020202020202020202020202020202020200a"
    "000000000000003f0000803f0000c03f00000040000020400000404000006040 "
    "00008040000090400000a0400000b0400000c0400000d0400000e0400000f040"
    "0000004100000841000010410000184100002041000028410000304100003841");
// write_array(f, np.array([3, -1], dtype='<i4'), version=(2, 0)); version 3.0 differs in byte 6.
const std::string kI4_v2 = from_hex(
    "934e554d50590200740000007b276465736372273a20273c6934272c2027666f "
    "727472616e5f6f72646572273a2046616c73652c20277368617065273a202832"
    "2c292c207d202020202020202020202020202020202020202020202020202020 "
    "202020202020202020202020202020202020202020202020202020202020200a"
    "03000000ffffffff");

}  // namespace

TEST_CASE("npy: the hand-built header per the spec matches numpy's bytes") {
  CHECK(kF8_2x3.substr(0, 128) ==
        v1_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"));
  CHECK(kI8_scalar.substr(0, 128) ==
        v1_header("{'descr': '<i8', 'fortran_order': False, 'shape': (), }"));
  CHECK(kU1_3.substr(0, 128) ==
        v1_header("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }"));
}

TEST_CASE("npy: write_npy is byte-identical to np.save") {
  TempDir d;
  const std::string f = d.file("a.npy");
  const double a[] = {1.5, -2.0, 0.25, 3, 4, 5};
  write_npy(f, a, {2, 3});
  CHECK(read_bytes(f) == kF8_2x3);
  const std::int64_t s = -7;
  write_npy(f, &s, {});
  CHECK(read_bytes(f) == kI8_scalar);
  std::vector<float> x(24);
  for (int i = 0; i < 24; ++i) x[i] = 0.5f * float(i);
  write_npy(f, x.data(), {1, 2, 3, 4});
  CHECK(read_bytes(f) == kF4_4d);
  // The data starts 64-byte aligned whatever the shape; no temporary is left behind.
  for (std::int64_t n : {0, 7, 123456789}) {
    write_npy(f, static_cast<const double*>(nullptr), {n, 0, 12345678901234});
    const std::string b = read_bytes(f);
    CHECK(b.size() % 64 == 0);
    CHECK(b.back() == '\n');
  }
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path)) ++files;
  CHECK(files == 1);
}

TEST_CASE("npy: files written by numpy read back") {
  TempDir d;
  const std::string f = d.file("a.npy");
  write_bytes(f, kF8_2x3);
  NpyArray a = read_npy(f);
  CHECK(a.dtype == "<f8");
  CHECK(a.shape == std::vector<std::int64_t>{2, 3});
  CHECK(a.to_double() == std::vector<double>{1.5, -2.0, 0.25, 3, 4, 5});
  CHECK(a.to_float() == std::vector<float>{1.5f, -2.0f, 0.25f, 3, 4, 5});

  write_bytes(f, kI8_scalar);
  a = read_npy(f);
  CHECK(a.shape.empty());
  CHECK(a.numel() == 1);
  CHECK(a.to_int64() == std::vector<std::int64_t>{-7});
  CHECK(a.to_double() == std::vector<double>{-7.0});

  write_bytes(f, kU1_3);
  a = read_npy(f);
  CHECK(a.to_int64() == std::vector<std::int64_t>{0, 1, 255});
  CHECK(a.to_float() == std::vector<float>{0, 1, 255});

  write_bytes(f, kF4_4d);
  a = read_npy(f);
  CHECK(a.shape == std::vector<std::int64_t>{1, 2, 3, 4});
  CHECK(a.to_float()[23] == 11.5f);

  write_bytes(f, kI4_v2);
  CHECK(read_npy(f).to_int64() == std::vector<std::int64_t>{3, -1});
  std::string v3 = kI4_v2;
  v3[6] = 3;
  write_bytes(f, v3);
  CHECK(read_npy(f).to_int64() == std::vector<std::int64_t>{3, -1});

  // Old and hand-written headers: other key order, double quotes, Python 2 longs, 16-byte
  // alignment, no trailing comma.
  std::string dict = "{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<i8\"}";
  std::string h = std::string("\x93NUMPY\x01\x00", 8) + char(dict.size() + 1) + '\0' + dict + "\n";
  write_bytes(f, h + std::string("\x05\0\0\0\0\0\0\0\x06\0\0\0\0\0\0\0", 16));
  a = read_npy(f);
  CHECK(a.shape == std::vector<std::int64_t>{2, 1});
  CHECK(a.to_int64() == std::vector<std::int64_t>{5, 6});
}

TEST_CASE("npy: round trips for each dtype and shape") {
  TempDir d;
  const std::string f = d.file("r.npy");
  const std::vector<std::vector<std::int64_t>> shapes = {{},           {1}, {7},      {3, 5},
                                                         {2, 3, 1, 4}, {0}, {4, 0, 2}};
  for (const auto& shape : shapes) {
    std::int64_t n = 1;
    for (std::int64_t s : shape) n *= s;
    std::vector<double> a(static_cast<std::size_t>(n));
    std::vector<float> b(a.size());
    std::vector<std::int64_t> c(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      a[i] = 1.0 / (double(i) + 3.0) - 0.1;  // not exactly representable: catches float round trips
      b[i] = float(a[i]);
      c[i] = std::int64_t(i * i) - (std::int64_t(1) << 40);
    }
    write_npy(f, a.data(), shape);
    NpyArray r = read_npy(f);
    CHECK(r.dtype == "<f8");
    CHECK(r.shape == shape);
    CHECK(r.numel() == n);
    CHECK(r.to_double() == a);
    write_npy(f, b.data(), shape);
    r = read_npy(f);
    CHECK(r.dtype == "<f4");
    CHECK(r.shape == shape);
    CHECK(r.to_float() == b);
    write_npy(f, c.data(), shape);
    r = read_npy(f);
    CHECK(r.dtype == "<i8");
    CHECK(r.shape == shape);
    CHECK(r.to_int64() == c);
  }
}

TEST_CASE("npy: bad files name the file, the expectation and what was found") {
  TempDir d;
  const std::string f = d.file("bad.npy");
  const std::string head = v1_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }");
  const std::string data(48, '\0');

  CHECK(error_of([&] { read_npy(d.file("nope.npy")); }) ==
        d.file("nope.npy") + ": expected a readable .npy file, found none");
  CHECK(error_of([&] { read_npy(d.path.string()); }) ==
        d.path.string() + ": expected a readable .npy file, found none");
  write_bytes(f, "");
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected the .npy magic \\x93NUMPY, found an empty file");
  write_bytes(f, "PK\x03\x04 zip");
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected the .npy magic \\x93NUMPY, found '\\x50\\x4b\\x03\\x04\\x20\\x7a'");
  write_bytes(f, std::string("\x93NUMPY\x01", 7));
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": truncated header: expected at least 8 bytes (magic and version), found 7");
  write_bytes(f, std::string("\x93NUMPY\x04\x00", 8) + head.substr(8) + data);
  CHECK(error_of([&] { read_npy(f); }) == f + ": expected .npy version 1.0, 2.0 or 3.0, found 4.0");
  write_bytes(f, std::string("\x93NUMPY\x02\x00\x10", 9));
  CHECK(error_of([&] { read_npy(f); }) == f + ": truncated header: expected at least 12 bytes "
                                              "(magic, version, header length), found 9");
  write_bytes(f, head.substr(0, 60));
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": truncated header: expected 118 header bytes after the 10-byte preamble, found 50");
  write_bytes(f, head.substr(0, 127) + " " + data);
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected the header to end with '\\n', found byte 0x20");

  write_bytes(f, v1_header("{'descr': '<f8', 'fortran_order': False, 'shape': [2, 3], }") + data);
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected '(' at header byte 50, found '[2, 3], }'");
  write_bytes(f, v1_header("{'descr': '<f8', 'fortran_order': false, 'shape': (2, 3), }") + data);
  CHECK(error_of([&] { read_npy(f); }) == f + ": expected True or False for fortran_order at "
                                              "header byte 39, found ', 'shape': (2, 3), }'");
  write_bytes(f, v1_header("{'descr': '<f8', 'shape': (2, 3), }") + data);
  CHECK(error_of([&] { read_npy(f); }) == f + ": expected header keys 'descr', 'fortran_order' and "
                                              "'shape', found no 'fortran_order' in "
                                              "{'descr': '<f8', 'shape': (2, 3), }");
  write_bytes(
      f, v1_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}") + data);
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected header keys 'descr', 'fortran_order' and 'shape' once each, found 'extra'");
  write_bytes(f, v1_header("{'descr': '<f8', 'fortran_order': False, 'shape': (-2, 3), }") + data);
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected a non-negative dimension in shape at header byte 51, found '-2, 3), }'");

  write_bytes(f, v1_header("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }") + data);
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected dtype '<f4', '<f8', '<i8', '<i4' or '|u1', found '>f8'");
  write_bytes(f, v1_header("{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }") + data);
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected dtype '<f4', '<f8', '<i8', '<i4' or '|u1', found '<c16'");
  write_bytes(
      f, v1_header("{'descr': [('x', '<f8')], 'fortran_order': False, 'shape': (6,), }") + data);
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected dtype '<f4', '<f8', '<i8', '<i4' or '|u1', found a structured dtype");
  write_bytes(f, v1_header("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }") + data);
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": expected C order (fortran_order False), found fortran_order True for shape (2, 3)");

  write_bytes(f, head + data.substr(0, 40));
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": truncated data: expected 48 bytes for '<f8' (2, 3), found 40");
  write_bytes(f, head + data + "12345678");
  CHECK(error_of([&] { read_npy(f); }) ==
        f + ": data size mismatch: expected 48 bytes for '<f8' (2, 3), found 56");
  write_bytes(
      f,
      v1_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }") +
          data);
  CHECK(error_of([&] { read_npy(f); }) == f + ": truncated data: expected more than 2^64 bytes for "
                                              "'<f8' (4294967296, 4294967296), found 48");

  write_bytes(f, head + data);
  CHECK(read_npy(f).to_double().size() == 6);
  CHECK(error_of([&] { read_npy(f).to_int64(); }) ==
        f + ": expected an integer dtype ('<i8', '<i4' or '|u1') to read as int64, found '<f8'");
}

TEST_CASE("npy: a failed write leaves no partial file and keeps the old one") {
  TempDir d;
  const double x[] = {1, 2};
  const std::string missing = d.file("no/such/dir/a.npy");
  CHECK(contains(error_of([&] { write_npy(missing, x, {2}); }),
                 missing + ": expected a writable temporary file "));
  CHECK(!fs::exists(d.file("no")));

  // Renaming over a non-empty directory fails after the data was written: the temporary goes.
  const std::string dir = d.file("taken");
  fs::create_directories(dir + "/inside");
  CHECK(contains(error_of([&] { write_npy(dir, x, {2}); }),
                 dir + ": expected to replace the file, found "));
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path)) ++files;
  CHECK(files == 1);

  const std::string f = d.file("keep.npy");
  write_npy(f, x, {2});
  const std::string before = read_bytes(f);
  CHECK(error_of([&] {
          write_npy(f, x, {2, -1});
        }) == f + ": expected non-negative dimensions to write, found shape (2, -1)");
  CHECK(error_of([&] { write_npy(f, static_cast<const double*>(nullptr), {2}); }) ==
        f + ": expected data for 2 elements, found a null pointer");
  CHECK(read_bytes(f) == before);
}
