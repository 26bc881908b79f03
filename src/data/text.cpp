#include <fstream>
#include <iterator>

#include "curv/core/error.hpp"
#include "curv/data/dataset.hpp"

namespace curv {

std::u32string load_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CURV_CHECK(in.good(), path,
             ": expected a readable UTF-8 text file, found none (run datasets/fetch.sh)");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::u32string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    const int len = b < 0x80           ? 1
                    : (b >> 5) == 0x6  ? 2
                    : (b >> 4) == 0xE  ? 3
                    : (b >> 3) == 0x1E ? 4
                                       : 0;
    CURV_CHECK(len > 0 && i + std::size_t(len) <= bytes.size(), path,
               ": expected UTF-8, found byte 0x", std::hex, int(b), std::dec, " at offset ", i);
    char32_t c = len == 1 ? b : b & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      const auto cb = static_cast<unsigned char>(bytes[i + std::size_t(k)]);
      CURV_CHECK((cb & 0xC0) == 0x80, path, ": expected a UTF-8 continuation byte, found 0x",
                 std::hex, int(cb), std::dec, " at offset ", i + std::size_t(k));
      c = (c << 6) | (cb & 0x3F);
    }
    out.push_back(c);
    i += std::size_t(len);
  }
  return out;
}

}  // namespace curv
