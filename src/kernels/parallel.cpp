#include "curv/kernels/parallel.hpp"

#include <cblas.h>

namespace curv {

int blas_threads() { return openblas_get_num_threads(); }

void set_blas_threads(int n) {
  static const int default_threads = openblas_get_num_threads();
  openblas_set_num_threads(n > 0 ? n : default_threads);
}

BlasSerial::BlasSerial() : previous_(openblas_get_num_threads()) {
  if (previous_ != 1) openblas_set_num_threads(1);
}

BlasSerial::~BlasSerial() {
  if (previous_ != 1) openblas_set_num_threads(previous_);
}

}  // namespace curv
