// Communicator: the processes of one run and the collectives curv needs between them, on Open
// MPI (docs/distributed.md). It is the only file that sees mpi.h.
//
// A run is distributed when it was started by `mpirun` and curv was built with MPI
// (-Dmpi=enabled|auto); then world() initializes MPI once, asking for MPI_THREAD_FUNNELED: only
// the main thread calls MPI, oneTBB's workers never do. Otherwise world() is one process whose
// collectives are copies or nothing, so every caller is written once for both.
//
// Progress of non-blocking collectives is driven by the caller: test() between the layers of a
// backward sweep (distributed/data_parallel.hpp), wait() when the sums are needed.
//
// Errors: a check that may fail on some processes only (a shard that cannot be read) goes
// through agree(), so every process throws the same curv::Error and none is left waiting in a
// collective. Collectives take their sizes from the caller; every process must call them in
// the same order with the same counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "curv/core/error.hpp"

namespace curv::distributed {

class Communicator {
 public:
  // The run's processes: MPI's world when launched by mpirun, else this process alone.
  static Communicator& world();
  // Whether this curv was built with MPI (-Dmpi).
  static bool built_with_mpi();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }
  // The processes that write files and print: rank 0.
  bool root() const { return rank_ == 0; }

  // In place: data[i] becomes the sum over the processes (the same on every process).
  void allreduce_sum(float* data, std::size_t n);
  void allreduce_sum(double* data, std::size_t n);
  double sum(double x);
  // In place: every process gets root's data.
  void broadcast(float* data, std::size_t n, int root = 0);
  void broadcast(double* data, std::size_t n, int root = 0);
  void broadcast(std::string& s, int root = 0);
  // On root: every process's block (counts[r] values each, in rank order) into out; counts must
  // be the same on every process. Elsewhere out is left alone.
  void gather(const float* local, const std::vector<std::size_t>& counts, float* out, int root = 0);
  void gather(const double* local, const std::vector<std::size_t>& counts, double* out,
              int root = 0);
  void barrier();

  // A non-blocking sum in place; the buffer must stay untouched until the request completes.
  class Request {
   public:
    Request() = default;
    bool active() const { return handle_ != 0; }

   private:
    friend class Communicator;
    std::uintptr_t handle_ = 0;  // an MPI_Request, 0 when none or complete
  };
  Request iallreduce_sum(float* data, std::size_t n);
  Request iallreduce_sum(double* data, std::size_t n);
  // Drives progress; true once r is complete (then r is inactive).
  bool test(Request& r);
  void wait(Request& r);

  // Every process passes the error it met ("" for none); if any did, every process throws the
  // first one by rank as a curv::Error.
  void agree(const std::string& error);

  // The processes with the same color, ranked by key (MPI_Comm_split); every process calls it.
  // Groups of these run collectives among themselves (distributed K-FAC's gradient workers).
  std::unique_ptr<Communicator> split(int color, int key);

  // Ends MPI (at exit of a distributed run; a no-op otherwise).
  void finalize();

  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  ~Communicator();

 private:
  Communicator();                                           // the world
  Communicator(std::uintptr_t handle, int rank, int size);  // a group split from it
  std::uintptr_t handle_ = 0;                               // an MPI_Comm, 0 for one process
  int rank_ = 0, size_ = 1;
  bool initialized_ = false;  // the world, once it initialized MPI
  bool owns_handle_ = false;  // a group, freed with it
};

// Runs f on every process; an error that any of them meets (a curv::Error) is thrown by all,
// the same one (Communicator::agree), so no process goes on into a collective alone.
template <class F>
void agreed(Communicator& comm, F&& f) {
  comm.agree(caught_error(f));
}

// The payloads of the collectives this process took part in so far (an allreduce's vector, a
// broadcast's message whether sent or received): what `curv train --mpi-stats` reports.
struct TrafficCounter {
  std::uint64_t allreduce_bytes = 0, allreduce_calls = 0;
  std::uint64_t broadcast_bytes = 0, broadcast_calls = 0;
};
TrafficCounter& traffic();

}  // namespace curv::distributed
