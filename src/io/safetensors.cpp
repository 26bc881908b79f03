#include "curv/io/safetensors.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "curv/core/error.hpp"

namespace curv {

std::size_t dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL") return 1;
  return 0;
}

template <class T>
std::vector<T> SafeTensor::as(const std::string& name) const {
  const std::size_t n = static_cast<std::size_t>(shape.numel());
  std::vector<T> out(n);
  if (dtype == "F32") {
    std::vector<float> v(n);
    std::memcpy(v.data(), bytes.data(), n * sizeof(float));
    for (std::size_t i = 0; i < n; ++i) out[i] = T(v[i]);
  } else if (dtype == "F64") {
    std::vector<double> v(n);
    std::memcpy(v.data(), bytes.data(), n * sizeof(double));
    for (std::size_t i = 0; i < n; ++i) out[i] = T(v[i]);
  } else {
    fail(name, ": expected dtype F32 or F64, found ", dtype);
  }
  return out;
}
template std::vector<float> SafeTensor::as<float>(const std::string&) const;
template std::vector<double> SafeTensor::as<double>(const std::string&) const;

namespace {

// The file's JSON header, validated as a whole object, and the sizes around it; `in` is left at
// the start of the data section.
struct Header {
  nlohmann::json json;
  std::uint64_t file_size = 0, length = 0;  // the whole file, the JSON
};

Header read_header(std::ifstream& in, const std::string& path) {
  CURV_CHECK(!std::filesystem::is_directory(path), path,
             ": expected a safetensors file, found a directory");
  in.open(path, std::ios::binary);
  CURV_CHECK(in.good(), path, ": expected a safetensors file, found none");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  CURV_CHECK(size >= 8, path, ": expected at least 8 bytes (the header length), found ", size);
  unsigned char len8[8];
  in.read(reinterpret_cast<char*>(len8), 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len8[i];
  // A text file or another format lands here: its first 8 bytes read as a huge length.
  CURV_CHECK(n >= 2 && n <= size - 8, path,
             ": expected a safetensors file (an 8-byte header length, then a JSON header), found "
             "a header length of ",
             n, " in a file of ", size, " bytes: not a safetensors file");
  std::string header(static_cast<std::size_t>(n), '\0');
  in.read(header.data(), std::streamsize(n));
  Header h;
  try {
    h.json = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": expected a JSON header, found invalid JSON (", e.what(), ")");
  }
  CURV_CHECK(h.json.is_object(), path, ": expected a JSON object as header, found ",
             h.json.type_name());
  h.file_size = size, h.length = n;
  return h;
}

std::map<std::string, std::string> metadata_of(const nlohmann::json& e, const std::string& path) {
  CURV_CHECK(e.is_object(), path, ": expected __metadata__ to be an object, found ", e.type_name());
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : e.items()) {
    CURV_CHECK(v.is_string(), path, ": expected string metadata values, found ", v.type_name(),
               " for '", k, "'");
    out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> read_safetensors_metadata(const std::string& path) {
  std::ifstream in;
  const Header h = read_header(in, path);
  const auto it = h.json.find("__metadata__");
  return it == h.json.end() ? std::map<std::string, std::string>{} : metadata_of(*it, path);
}

Safetensors read_safetensors(const std::string& path) {
  std::ifstream in;
  const Header h = read_header(in, path);
  const nlohmann::json& j = h.json;
  const std::uint64_t size = h.file_size, n = h.length;
  const std::uint64_t data_size = size - 8 - n;
  Safetensors st;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const auto& [name, e] : j.items()) {
    if (name == "__metadata__") {
      st.metadata = metadata_of(e, path);
      continue;
    }
    const std::string where = path + ": tensor '" + name + "'";
    CURV_CHECK(
        e.is_object() && e.contains("dtype") && e.contains("shape") && e.contains("data_offsets"),
        where, ": expected dtype, shape and data_offsets, found ", e.dump());
    SafeTensor t;
    t.dtype = e["dtype"].is_string() ? e["dtype"].get<std::string>() : "";
    const std::size_t es = dtype_size(t.dtype);
    CURV_CHECK(es > 0, where, ": expected a known dtype, found ", e["dtype"].dump());
    CURV_CHECK(e["shape"].is_array() && e["shape"].size() <= std::size_t(Shape::kMaxRank), where,
               ": expected a shape of rank <= ", Shape::kMaxRank, ", found ", e["shape"].dump());
    // The element count is bounded by the data section before it is multiplied out, so a
    // hand-edited shape can neither overflow nor ask for more memory than the file holds.
    const std::uint64_t max_elements = data_size / es;
    std::uint64_t elements = 1;
    bool empty = false, fits = true;
    for (const auto& d : e["shape"]) {
      CURV_CHECK(d.is_number_unsigned(), where, ": expected non-negative dimensions, found ",
                 e["shape"].dump());
      const auto dim = d.get<std::uint64_t>();
      if (dim == 0)
        empty = true;
      else if (dim > max_elements / elements)
        fits = false;
      else
        elements *= dim;
    }
    CURV_CHECK(empty || fits, where, ": expected a shape whose ", t.dtype, " data fits the file's ",
               data_size, " data bytes, found ", e["shape"].dump());
    for (const auto& d : e["shape"]) t.shape.push_back(index_t(d.get<std::uint64_t>()));
    const auto& off = e["data_offsets"];
    CURV_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() &&
                   off[1].is_number_unsigned(),
               where, ": expected data_offsets [begin, end], found ", off.dump());
    const auto b = off[0].get<std::uint64_t>(), en = off[1].get<std::uint64_t>();
    CURV_CHECK(b <= en && en <= data_size, where, ": expected data_offsets within the ", data_size,
               " data bytes, found [", b, ", ", en, "]");
    const std::uint64_t want = std::uint64_t(t.shape.numel()) * es;
    CURV_CHECK(en - b == want, where, ": expected ", want, " bytes for ", t.dtype, " ",
               t.shape.str(), ", found ", en - b, " in data_offsets");
    ranges.emplace_back(b, en);
    t.bytes.resize(static_cast<std::size_t>(want));
    in.seekg(std::streamoff(8 + n + b));
    in.read(reinterpret_cast<char*>(t.bytes.data()), std::streamsize(want));
    CURV_CHECK(in.good(), where, ": expected ", want, " readable bytes, found a short read");
    st.tensors.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    CURV_CHECK(ranges[i].first >= ranges[i - 1].second, path,
               ": expected non-overlapping tensor data, found [", ranges[i - 1].first, ", ",
               ranges[i - 1].second, ") overlapping [", ranges[i].first, ", ", ranges[i].second,
               ")");
  return st;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json j = nlohmann::json::object();
  if (!metadata.empty()) j["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    const std::size_t es = dtype_size(t.dtype);
    CURV_CHECK(es > 0, "safetensors: expected a known dtype for '", t.name, "', found ", t.dtype);
    std::vector<index_t> shape;
    for (int i = 0; i < t.shape.rank(); ++i) shape.push_back(t.shape[i]);
    const std::uint64_t bytes = std::uint64_t(t.shape.numel()) * es;
    j[t.name] = {{"dtype", t.dtype}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header = j.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    CURV_CHECK(out.good(), tmp, ": expected a writable file, found it cannot be opened");
    unsigned char len8[8];
    std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) len8[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len8), 8);
    out.write(header.data(), std::streamsize(header.size()));
    for (const TensorToWrite& t : tensors)
      out.write(static_cast<const char*>(t.data),
                std::streamsize(std::uint64_t(t.shape.numel()) * dtype_size(t.dtype)));
    out.flush();
    CURV_CHECK(out.good(), tmp, ": expected to write ", 8 + header.size() + offset,
               " bytes, found a write error");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    fail(path, ": expected to replace the file, found ", ec.message());
  }
}

}  // namespace curv
