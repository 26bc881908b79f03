// Every iterative solver that takes a LinearOperator: linear systems (CG, LiSSA), eigenpairs
// (Lanczos, Arnoldi, power iteration) and randomized estimates (Hutchinson, Hutch++, SLQ).
#pragma once

#include "curv/linalg/eigensolvers.hpp"
#include "curv/linalg/estimators.hpp"
#include "curv/linalg/linear_solvers.hpp"
