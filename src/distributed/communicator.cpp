#include "curv/distributed/communicator.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "curv/core/error.hpp"

#if CURV_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only; Open MPI's C++ bindings are deprecated
#include <mpi.h>
#endif

namespace curv::distributed {

TrafficCounter& traffic() {
  static TrafficCounter t;
  return t;
}

bool Communicator::built_with_mpi() { return CURV_HAVE_MPI != 0; }

Communicator& Communicator::world() {
  static Communicator c;
  return c;
}

#if CURV_HAVE_MPI

namespace {

// Started by mpirun (Open MPI sets this in every process it launches): only then is MPI
// initialized, so a plain `curv …` never loads MPI's runtime.
bool launched_by_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

template <class T>
MPI_Datatype type_of();
template <>
MPI_Datatype type_of<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype type_of<double>() {
  return MPI_DOUBLE;
}

int count_of(std::size_t n) {
  CURV_CHECK(n <= std::size_t(std::numeric_limits<int>::max()), "mpi: expected a message of at ",
             "most 2^31 - 1 values, found ", n);
  return int(n);
}

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  fail("mpi: ", what, " failed: ", std::string(text, std::size_t(len)));
}

// MPI's handles (MPI_Request, MPI_Comm: pointers in Open MPI) kept in the header's integers, so
// that only this file sees mpi.h.
template <class H>
H from_handle(std::uintptr_t h) {
  H x;
  static_assert(sizeof x <= sizeof h, "an MPI handle must fit a std::uintptr_t");
  std::memcpy(&x, &h, sizeof x);
  return x;
}

template <class H>
std::uintptr_t to_handle(H x) {
  std::uintptr_t h = 0;
  std::memcpy(&h, &x, sizeof x);
  return h;
}

MPI_Request to_mpi(std::uintptr_t h) { return from_handle<MPI_Request>(h); }
std::uintptr_t from_mpi(MPI_Request r) { return to_handle(r); }
MPI_Comm comm_of(std::uintptr_t h) { return from_handle<MPI_Comm>(h); }
std::uintptr_t handle_of(MPI_Comm c) { return to_handle(c); }

template <class T>
void allreduce(T* data, std::size_t n, MPI_Comm comm) {
  traffic().allreduce_bytes += n * sizeof(T), ++traffic().allreduce_calls;
  check(MPI_Allreduce(MPI_IN_PLACE, data, count_of(n), type_of<T>(), MPI_SUM, comm), "allreduce");
}

template <class T>
std::uintptr_t iallreduce(T* data, std::size_t n, MPI_Comm comm) {
  traffic().allreduce_bytes += n * sizeof(T), ++traffic().allreduce_calls;
  MPI_Request r;
  check(MPI_Iallreduce(MPI_IN_PLACE, data, count_of(n), type_of<T>(), MPI_SUM, comm, &r),
        "iallreduce");
  return from_mpi(r);
}

}  // namespace

Communicator::Communicator() {
  if (!launched_by_mpirun()) return;
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "init");
  initialized_ = true;
  CURV_CHECK(provided >= MPI_THREAD_FUNNELED, "mpi: expected MPI_THREAD_FUNNELED support, found ",
             "level ", provided);
  // Errors come back as codes (turned into curv::Error above) instead of aborting the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  handle_ = handle_of(MPI_COMM_WORLD);
}

Communicator::Communicator(std::uintptr_t handle, int rank, int size)
    : handle_(handle), rank_(rank), size_(size), owns_handle_(handle != 0) {}

Communicator::~Communicator() {
  int done = 0;
  if (owns_handle_ && (MPI_Finalized(&done), !done)) {
    MPI_Comm c = comm_of(handle_);
    MPI_Comm_free(&c);
  }
  finalize();
}

void Communicator::finalize() {
  int done = 0;
  if (initialized_ && (MPI_Finalized(&done), !done)) MPI_Finalize();
  initialized_ = false;
}

std::unique_ptr<Communicator> Communicator::split(int color, int key) {
  if (handle_ == 0)  // one process, without MPI
    return std::unique_ptr<Communicator>(new Communicator(0, 0, 1));
  MPI_Comm group;
  check(MPI_Comm_split(comm_of(handle_), color, key, &group), "comm_split");
  MPI_Comm_set_errhandler(group, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(group, &rank);
  MPI_Comm_size(group, &size);
  return std::unique_ptr<Communicator>(new Communicator(handle_of(group), rank, size));
}

void Communicator::allreduce_sum(float* data, std::size_t n) {
  if (distributed()) allreduce(data, n, comm_of(handle_));
}
void Communicator::allreduce_sum(double* data, std::size_t n) {
  if (distributed()) allreduce(data, n, comm_of(handle_));
}

double Communicator::sum(double x) {
  allreduce_sum(&x, 1);
  return x;
}

template <class T>
void bcast(T* data, std::size_t n, int root, MPI_Comm comm) {
  traffic().broadcast_bytes += n * sizeof(T), ++traffic().broadcast_calls;
  check(MPI_Bcast(data, count_of(n), type_of<T>(), root, comm), "bcast");
}

void Communicator::broadcast(float* data, std::size_t n, int root) {
  if (distributed()) bcast(data, n, root, comm_of(handle_));
}
void Communicator::broadcast(double* data, std::size_t n, int root) {
  if (distributed()) bcast(data, n, root, comm_of(handle_));
}

void Communicator::broadcast(std::string& s, int root) {
  if (!distributed()) return;
  std::uint64_t n = s.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm_of(handle_)), "bcast");
  s.resize(std::size_t(n));
  check(MPI_Bcast(s.data(), count_of(std::size_t(n)), MPI_CHAR, root, comm_of(handle_)), "bcast");
}

namespace {

template <class T>
void gather_blocks(const T* local, const std::vector<std::size_t>& counts, T* out, int root,
                   int rank, int size, MPI_Comm comm) {
  CURV_CHECK(counts.size() == std::size_t(size), "mpi: expected ", size,
             " block sizes for a gather, found ", counts.size());
  if (size == 1) {
    std::copy(local, local + counts[0], out);
    return;
  }
  std::vector<int> n(counts.size()), at(counts.size());
  std::size_t offset = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    n[r] = count_of(counts[r]), at[r] = count_of(offset);
    offset += counts[r];
  }
  check(MPI_Gatherv(local, n[std::size_t(rank)], type_of<T>(), out, n.data(), at.data(),
                    type_of<T>(), root, comm),
        "gather");
}

}  // namespace

void Communicator::gather(const float* local, const std::vector<std::size_t>& counts, float* out,
                          int root) {
  gather_blocks(local, counts, out, root, rank_, size_, comm_of(handle_));
}
void Communicator::gather(const double* local, const std::vector<std::size_t>& counts, double* out,
                          int root) {
  gather_blocks(local, counts, out, root, rank_, size_, comm_of(handle_));
}

void Communicator::barrier() {
  if (distributed()) check(MPI_Barrier(comm_of(handle_)), "barrier");
}

Communicator::Request Communicator::iallreduce_sum(float* data, std::size_t n) {
  Request r;
  if (distributed()) r.handle_ = iallreduce(data, n, comm_of(handle_));
  return r;
}
Communicator::Request Communicator::iallreduce_sum(double* data, std::size_t n) {
  Request r;
  if (distributed()) r.handle_ = iallreduce(data, n, comm_of(handle_));
  return r;
}

bool Communicator::test(Request& r) {
  if (!r.active()) return true;
  MPI_Request m = to_mpi(r.handle_);
  int done = 0;
  check(MPI_Test(&m, &done, MPI_STATUS_IGNORE), "test");
  r.handle_ = done ? 0 : from_mpi(m);
  return done != 0;
}

void Communicator::wait(Request& r) {
  if (!r.active()) return;
  MPI_Request m = to_mpi(r.handle_);
  check(MPI_Wait(&m, MPI_STATUS_IGNORE), "wait");
  r.handle_ = 0;
}

void Communicator::agree(const std::string& error) {
  if (!distributed()) {
    CURV_CHECK(error.empty(), error);
    return;
  }
  // The lowest rank that met an error (size_ if none) speaks for all.
  int mine = error.empty() ? size_ : rank_, first = 0;
  check(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm_of(handle_)), "allreduce");
  if (first == size_) return;
  std::string message = error;
  broadcast(message, first);
  fail(message);
}

#else  // one process: every collective is the identity

// Started by mpirun with more than one process, a curv without MPI would run the whole job on
// each of them: it refuses instead.
Communicator::Communicator() {
  const char* n = std::getenv("OMPI_COMM_WORLD_SIZE");
  CURV_CHECK(n == nullptr || std::string(n) == "1", "mpi: expected a curv built with MPI ",
             "(-Dmpi=enabled, Debian's libopenmpi-dev) under mpirun, found one built without it ",
             "and ", n, " processes");
}
Communicator::Communicator(std::uintptr_t, int, int) {}
Communicator::~Communicator() = default;
void Communicator::finalize() {}
std::unique_ptr<Communicator> Communicator::split(int, int) {
  return std::unique_ptr<Communicator>(new Communicator(0, 0, 1));
}
void Communicator::allreduce_sum(float*, std::size_t) {}
void Communicator::allreduce_sum(double*, std::size_t) {}
double Communicator::sum(double x) { return x; }
void Communicator::broadcast(float*, std::size_t, int) {}
void Communicator::broadcast(double*, std::size_t, int) {}
void Communicator::broadcast(std::string&, int) {}
namespace {
template <class T>
void gather_one(const T* local, const std::vector<std::size_t>& counts, T* out) {
  CURV_CHECK(counts.size() == 1, "mpi: expected 1 block size for a gather, found ", counts.size());
  std::copy(local, local + counts[0], out);
}
}  // namespace
void Communicator::gather(const float* local, const std::vector<std::size_t>& counts, float* out,
                          int) {
  gather_one(local, counts, out);
}
void Communicator::gather(const double* local, const std::vector<std::size_t>& counts, double* out,
                          int) {
  gather_one(local, counts, out);
}
void Communicator::barrier() {}
Communicator::Request Communicator::iallreduce_sum(float*, std::size_t) { return {}; }
Communicator::Request Communicator::iallreduce_sum(double*, std::size_t) { return {}; }
bool Communicator::test(Request&) { return true; }
void Communicator::wait(Request&) {}
void Communicator::agree(const std::string& error) { CURV_CHECK(error.empty(), error); }

#endif

}  // namespace curv::distributed
