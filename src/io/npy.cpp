#include "curv/io/npy.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "curv/core/error.hpp"

namespace curv {

// Data bytes are copied as they are: the host must share the files' byte order.
static_assert(std::endian::native == std::endian::little,
              "curv's .npy I/O assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
constexpr std::size_t kAlign =
    64;  // numpy's ARRAY_ALIGN: data start aligned for mmap and SIMD loads
constexpr std::size_t kGrowthDigits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS, see shape_header
constexpr const char* kDtypes = "'<f4', '<f8', '<i8', '<i4' or '|u1'";

std::size_t itemsize(const std::string& dtype) {
  if (dtype == "<f8" || dtype == "<i8") return 8;
  if (dtype == "<f4" || dtype == "<i4") return 4;
  if (dtype == "|u1") return 1;
  return 0;
}

// Header text quoted in an error stays on one line and short; the padding is dropped.
std::string printable(std::string s, std::size_t max = 80) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
  std::string out;
  for (char c : s.substr(0, max))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (s.size() > max) out += "…";
  return out;
}

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// A recursive-descent reader for the header: a Python dict literal with exactly the keys descr,
// fortran_order and shape, in any order, single or double quotes, optional trailing commas and
// Python 2's long suffix (3L) on dimensions, which old numpy versions wrote.
class HeaderParser {
 public:
  HeaderParser(const std::string& path, const std::string& text) : path_(path), s_(text) {}

  void parse(NpyArray& a, bool& fortran) {
    bool has_descr = false, has_fortran = false, has_shape = false;
    expect('{');
    for (skip(); peek() != '}'; skip()) {
      const std::string key = string_literal();
      expect(':');
      skip();
      if (key == "descr" && !has_descr) {
        // A list here is a structured (record) dtype, e.g. [('x', '<f8'), ('y', '<i4')].
        CURV_CHECK(peek() != '[', path_, ": expected dtype ", kDtypes,
                   ", found a structured dtype");
        a.dtype = string_literal();
        has_descr = true;
      } else if (key == "fortran_order" && !has_fortran) {
        const std::string word = identifier();
        if (word != "True" && word != "False") bad("True or False for fortran_order");
        fortran = word == "True";
        has_fortran = true;
      } else if (key == "shape" && !has_shape) {
        a.shape = tuple();
        has_shape = true;
      } else {
        fail(path_,
             ": expected header keys 'descr', 'fortran_order' and 'shape' once each, found '",
             printable(key), "'",
             (key == "descr" || key == "fortran_order" || key == "shape") ? " twice" : "");
      }
      skip();
      if (peek() == ',')
        ++p_;
      else if (peek() != '}')
        bad("',' or '}'");
    }
    ++p_;
    skip();
    if (p_ != s_.size()) bad("the end of the header after '}'");
    if (!has_descr || !has_fortran || !has_shape)
      fail(path_, ": expected header keys 'descr', 'fortran_order' and 'shape', found no '",
           !has_descr     ? "descr"
           : !has_fortran ? "fortran_order"
                          : "shape",
           "' in ", printable(s_));
  }

 private:
  char peek() const { return p_ < s_.size() ? s_[p_] : '\0'; }
  void skip() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r'))
      ++p_;
  }
  [[noreturn]] void bad(const std::string& what) const {
    const std::string found =
        p_ < s_.size() ? "'" + printable(s_.substr(p_), 20) + "'" : "the end of the header";
    fail(path_, ": expected ", what, " at header byte ", p_, ", found ", found);
  }
  void expect(char c) {
    skip();
    if (peek() != c) bad(std::string("'") + c + "'");
    ++p_;
  }
  std::string string_literal() {
    skip();
    const char q = peek();
    if (q != '\'' && q != '"') bad("a quoted string");
    std::string out;
    for (++p_; p_ < s_.size() && s_[p_] != q; ++p_) {
      if (s_[p_] == '\\' && p_ + 1 < s_.size()) ++p_;
      out += s_[p_];
    }
    if (p_ == s_.size()) bad("a closing quote");
    ++p_;
    return out;
  }
  std::string identifier() {
    std::string out;
    while (p_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[p_]))) out += s_[p_++];
    if (out.empty()) bad("True or False");
    return out;
  }
  std::vector<std::int64_t> tuple() {
    std::vector<std::int64_t> dims;
    expect('(');
    for (skip(); peek() != ')'; skip()) {
      if (!std::isdigit(static_cast<unsigned char>(peek())))
        bad("a non-negative dimension in shape");
      std::int64_t v = 0;
      for (; std::isdigit(static_cast<unsigned char>(peek())); ++p_) {
        const int digit = peek() - '0';
        if (v > (std::numeric_limits<std::int64_t>::max() - digit) / 10)
          bad("a dimension below 2^63");
        v = v * 10 + digit;
      }
      if (peek() == 'L' || peek() == 'l') ++p_;
      dims.push_back(v);
      skip();
      if (peek() == ',')
        ++p_;
      else if (peek() != ')')
        bad("',' or ')' in shape");
    }
    ++p_;
    return dims;
  }

  const std::string& path_;
  const std::string& s_;
  std::size_t p_ = 0;
};

// The dict exactly as numpy (≥ 1.23) writes it, so files are byte-identical to np.save. numpy
// appends spaces for the digits the first axis could grow to, so a file can be appended to in
// place without rewriting its data.
std::string shape_header(const char* dtype, const std::vector<std::int64_t>& shape) {
  std::string h = std::string("{'descr': '") + dtype +
                  "', 'fortran_order': False, 'shape': " + shape_str(shape) + ", }";
  if (!shape.empty()) h.append(kGrowthDigits - std::to_string(shape[0]).size(), ' ');
  return h;
}

std::atomic<unsigned> temp_counter{0};

// The bytes before the data: magic, version, length and the padded dict (numpy's layout).
std::string npy_header(const std::string& path, const char* dtype, std::size_t size,
                       const std::vector<std::int64_t>& shape, std::uint64_t& data_bytes) {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) {
    CURV_CHECK(d >= 0, path, ": expected non-negative dimensions to write, found shape ",
               shape_str(shape));
    CURV_CHECK(d == 0 || n <= std::numeric_limits<std::uint64_t>::max() / 8 / std::uint64_t(d),
               path, ": expected a shape whose bytes fit in 64 bits, found ", shape_str(shape));
    n *= std::uint64_t(d);
  }
  data_bytes = n * size;
  const std::string dict = shape_header(dtype, shape);
  // numpy pads with 1..64 spaces (a full 64 when already aligned), then '\n'.
  std::size_t len_bytes = 2;
  char version = 1;
  std::size_t hlen = dict.size() + 1;
  hlen += kAlign - (kMagicLen + 2 + len_bytes + hlen) % kAlign;
  if (hlen > 0xffff) {  // thousands of dimensions: version 2.0's u32 length, as numpy falls back to
    len_bytes = 4;
    version = 2;
    hlen = dict.size() + 1;
    hlen += kAlign - (kMagicLen + 2 + len_bytes + hlen) % kAlign;
  }
  std::string header(kMagic, kMagicLen);
  header += version;
  header += '\0';
  for (std::size_t i = 0; i < len_bytes; ++i) header += static_cast<char>((hlen >> (8 * i)) & 0xff);
  header += dict;
  header.append(hlen - dict.size() - 1, ' ');
  header += '\n';
  return header;
}

void write_file(const std::string& path, const char* dtype, std::size_t size, const void* data,
                const std::vector<std::int64_t>& shape) {
  NpyWriter w(path, dtype, shape);
  CURV_CHECK(data != nullptr || w.data_bytes() == 0, path, ": expected data for ",
             w.data_bytes() / size, " elements, found a null pointer");
  w.write(data, w.data_bytes());
  w.finish();
}

template <class T>
std::vector<T> convert(const NpyArray& a, bool to_int) {
  const std::size_t n = a.bytes.size() / std::max<std::size_t>(itemsize(a.dtype), 1);
  std::vector<T> out(n);
  auto copy = [&](auto tag) {
    using S = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      S v;
      std::memcpy(&v, a.bytes.data() + i * sizeof(S), sizeof(S));
      out[i] = static_cast<T>(v);
    }
  };
  const std::string& d = a.dtype;
  if (d == "<i8")
    copy(std::int64_t{});
  else if (d == "<i4")
    copy(std::int32_t{});
  else if (d == "|u1")
    copy(std::uint8_t{});
  else if (to_int)
    fail(a.source, ": expected an integer dtype ('<i8', '<i4' or '|u1') to read as int64, found '",
         d, "'");
  else if (d == "<f8")
    copy(double{});
  else if (d == "<f4")
    copy(float{});
  else
    fail(a.source, ": expected dtype ", kDtypes, ", found '", printable(d), "'");
  return out;
}

}  // namespace

NpyWriter::NpyWriter(std::string path, const char* dtype, const std::vector<std::int64_t>& shape)
    : path_(std::move(path)),
      // A unique temporary name in the same directory: rename is atomic only within a
      // filesystem, and concurrent writers of the same path must not share a temporary.
      tmp_(path_ + ".tmp-" + std::to_string(::getpid()) + "-" +
           std::to_string(temp_counter.fetch_add(1))) {
  const std::size_t size = itemsize(dtype);
  CURV_CHECK(size > 0, path_, ": expected a dtype to write among <f8, <f4, <i8, found ", dtype);
  const std::string header = npy_header(path_, dtype, size, shape, data_bytes_);
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  CURV_CHECK(out_.good(), path_, ": expected a writable temporary file ", tmp_,
             ", found it cannot be created");
  header_bytes_ = header.size();
  out_.write(header.data(), std::streamsize(header.size()));
}

NpyWriter::~NpyWriter() {
  if (finished_) return;
  out_.close();
  std::error_code ec;
  std::filesystem::remove(tmp_, ec);
}

void NpyWriter::write(const void* data, std::uint64_t bytes) {
  CURV_CHECK(written_ + bytes <= data_bytes_, path_, ": expected ", data_bytes_,
             " data bytes in all, found ", written_ + bytes, " written");
  if (bytes) out_.write(static_cast<const char*>(data), std::streamsize(bytes));
  written_ += bytes;
}

void NpyWriter::finish() {
  CURV_CHECK(written_ == data_bytes_, path_, ": expected ", data_bytes_, " data bytes, found ",
             written_, " written");
  out_.flush();
  bool ok = out_.good();
  out_.close();
  ok = ok && !out_.fail();
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(tmp_, ec);
    finished_ = true;
    fail(path_, ": expected to write ", header_bytes_ + data_bytes_, " bytes, found a write error");
  }
  std::filesystem::rename(tmp_, path_, ec);
  finished_ = true;
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp_, ec);
    fail(path_, ": expected to replace the file, found ", why);
  }
}

std::int64_t NpyArray::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::vector<double> NpyArray::to_double() const { return convert<double>(*this, false); }
std::vector<float> NpyArray::to_float() const { return convert<float>(*this, false); }
std::vector<std::int64_t> NpyArray::to_int64() const { return convert<std::int64_t>(*this, true); }

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;  // a directory opens as a stream on Linux but reads nothing
  CURV_CHECK(in.good() && !std::filesystem::is_directory(path, ec), path,
             ": expected a readable .npy file, found none");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);

  unsigned char pre[12] = {};
  in.read(reinterpret_cast<char*>(pre), std::streamsize(std::min<std::uint64_t>(size, 8)));
  if (size < kMagicLen || std::memcmp(pre, kMagic, kMagicLen) != 0) {
    std::string found;
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(size, kMagicLen); ++i) {
      static const char hex[] = "0123456789abcdef";
      found += std::string("\\x") + hex[pre[i] >> 4] + hex[pre[i] & 15];
    }
    fail(path, ": expected the .npy magic \\x93NUMPY, found ",
         found.empty() ? "an empty file" : "'" + found + "'");
  }
  CURV_CHECK(size >= 8, path,
             ": truncated header: expected at least 8 bytes (magic and version), found ", size);
  const int major = pre[6], minor = pre[7];
  CURV_CHECK(major >= 1 && major <= 3 && minor == 0, path,
             ": expected .npy version 1.0, 2.0 or 3.0, found ", major, ".", minor);
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  const std::uint64_t preamble = 8 + len_bytes;
  CURV_CHECK(size >= preamble, path, ": truncated header: expected at least ", preamble,
             " bytes (magic, version, header length), found ", size);
  in.read(reinterpret_cast<char*>(pre + 8), std::streamsize(len_bytes));
  std::uint64_t hlen = 0;
  for (std::size_t i = len_bytes; i-- > 0;) hlen = (hlen << 8) | pre[8 + i];
  CURV_CHECK(hlen <= size - preamble, path, ": truncated header: expected ", hlen,
             " header bytes after the ", preamble, "-byte preamble, found ", size - preamble);
  std::string text(static_cast<std::size_t>(hlen), '\0');
  in.read(text.data(), std::streamsize(hlen));
  CURV_CHECK(in.good(), path, ": expected ", hlen, " readable header bytes, found a short read");
  if (text.empty() || text.back() != '\n') {
    static const char hex[] = "0123456789abcdef";
    const auto last = static_cast<unsigned char>(text.empty() ? 0 : text.back());
    fail(path, ": expected the header to end with '\\n', found ",
         text.empty() ? std::string("an empty header")
                      : std::string("byte 0x") + hex[last >> 4] + hex[last & 15]);
  }

  NpyArray a;
  a.source = path;
  bool fortran = false;
  HeaderParser(path, text).parse(a, fortran);
  const std::size_t es = itemsize(a.dtype);
  CURV_CHECK(es > 0, path, ": expected dtype ", kDtypes, ", found '", printable(a.dtype), "'");
  // Fortran order is refused even for 1-d arrays (where the bytes agree): numpy writes False
  // for those, so True means the file came from elsewhere and deserves a look.
  CURV_CHECK(!fortran, path,
             ": expected C order (fortran_order False), found fortran_order True for shape ",
             shape_str(a.shape));

  const std::uint64_t available = size - preamble - hlen;
  std::uint64_t want = es;
  // With a zero dimension the array is empty whatever the others are (no overflow to report).
  if (std::find(a.shape.begin(), a.shape.end(), 0) != a.shape.end()) want = 0;
  for (std::int64_t d : a.shape) {
    CURV_CHECK(d == 0 || want <= std::numeric_limits<std::uint64_t>::max() / std::uint64_t(d), path,
               ": truncated data: expected more than 2^64 bytes for '", a.dtype, "' ",
               shape_str(a.shape), ", found ", available);
    want *= std::uint64_t(d);
  }
  CURV_CHECK(available >= want, path, ": truncated data: expected ", want, " bytes for '", a.dtype,
             "' ", shape_str(a.shape), ", found ", available);
  CURV_CHECK(available == want, path, ": data size mismatch: expected ", want, " bytes for '",
             a.dtype, "' ", shape_str(a.shape), ", found ", available);
  a.bytes.resize(static_cast<std::size_t>(want));
  in.read(reinterpret_cast<char*>(a.bytes.data()), std::streamsize(want));
  CURV_CHECK(in.good() || want == 0, path, ": expected ", want,
             " readable data bytes, found a short read");
  return a;
}

void write_npy(const std::string& path, const double* data,
               const std::vector<std::int64_t>& shape) {
  write_file(path, "<f8", sizeof(double), data, shape);
}
void write_npy(const std::string& path, const float* data, const std::vector<std::int64_t>& shape) {
  write_file(path, "<f4", sizeof(float), data, shape);
}
void write_npy(const std::string& path, const std::int64_t* data,
               const std::vector<std::int64_t>& shape) {
  write_file(path, "<i8", sizeof(std::int64_t), data, shape);
}

}  // namespace curv
