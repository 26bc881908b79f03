#include "curv/prune/obs.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/core/error.hpp"
#include "curv/linalg/dense.hpp"

namespace curv {
namespace {

void check_size(const char* who, std::size_t got, index_t want) {
  CURV_CHECK(index_t(got) == want, who, ": expected ", want, " weights (the Fisher's size), found ",
             got);
}

// w − F⁻¹u with w_Q then set to exactly 0.
std::vector<double> step_and_zero(const std::vector<double>& w, const std::vector<double>& u,
                                  const std::vector<index_t>& Q, const FisherInverse& F) {
  const std::vector<double> d = F.solve(u);
  std::vector<double> out(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) out[i] = w[i] - d[i];
  for (index_t q : Q) out[std::size_t(q)] = 0;
  return out;
}

}  // namespace

std::vector<double> magnitude_scores(const std::vector<double>& w) {
  std::vector<double> s(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) s[i] = std::abs(w[i]);
  return s;
}

std::vector<double> obd_scores(const std::vector<double>& w, const std::vector<double>& diagonal) {
  CURV_CHECK(w.size() == diagonal.size(), "OBD: expected a diagonal of ", w.size(),
             " entries, found ", diagonal.size());
  std::vector<double> s(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) s[i] = 0.5 * w[i] * w[i] * diagonal[i];
  return s;
}

std::vector<double> obs_scores(const std::vector<double>& w, const FisherInverse& F) {
  check_size("OBS", w.size(), F.size());
  const std::vector<double> inv = F.inverse_diagonal();
  std::vector<double> s(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) s[i] = w[i] * w[i] / (2 * inv[i]);
  return s;
}

std::vector<double> woodtaylor_scores(const std::vector<double>& w, const std::vector<double>& g,
                                      const FisherInverse& F) {
  check_size("WoodTaylor", w.size(), F.size());
  check_size("WoodTaylor", g.size(), F.size());
  const std::vector<double> inv = F.inverse_diagonal(), Fg = F.solve(g);
  double gFg = 0;
  for (std::size_t i = 0; i < g.size(); ++i) gFg += g[i] * Fg[i];
  std::vector<double> s(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double r = w[i] - Fg[i];
    s[i] = r * r / (2 * inv[i]) - 0.5 * gFg;
  }
  return s;
}

std::vector<index_t> lowest_scores(const std::vector<double>& scores, index_t k,
                                   const std::vector<std::uint8_t>& eligible) {
  CURV_CHECK(eligible.size() == scores.size(), "pruning: expected an eligibility flag per score (",
             scores.size(), "), found ", eligible.size());
  std::vector<index_t> idx;
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (eligible[i]) idx.push_back(index_t(i));
  CURV_CHECK(k >= 0 && k <= index_t(idx.size()), "pruning: expected to remove 0..", idx.size(),
             " eligible weights, found ", k);
  std::stable_sort(idx.begin(), idx.end(), [&](index_t a, index_t b) {
    return scores[std::size_t(a)] < scores[std::size_t(b)];
  });
  idx.resize(std::size_t(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

std::vector<double> woodfisher_update(const std::vector<double>& w, const std::vector<index_t>& Q,
                                      const FisherInverse& F) {
  check_size("OBS", w.size(), F.size());
  const std::vector<double> inv = F.inverse_diagonal();
  std::vector<double> u(w.size(), 0.0);
  for (index_t q : Q) u[std::size_t(q)] = w[std::size_t(q)] / inv[std::size_t(q)];
  return step_and_zero(w, u, Q, F);
}

std::vector<double> joint_obs_update(const std::vector<double>& w, const std::vector<index_t>& Q,
                                     const FisherInverse& F) {
  check_size("OBS", w.size(), F.size());
  const auto k = index_t(Q.size());
  if (k == 0) return w;
  CURV_CHECK(k <= 4096, "OBS joint update: expected at most 4096 weights removed at once, found ",
             k, " (use the WoodFisher rule)");
  // C = E_QᵀF⁻¹E_Q from the columns F⁻¹e_q; solve C a = w_Q; δ = −Σ_q a_q F⁻¹e_q.
  std::vector<std::vector<double>> cols;
  std::vector<double> e(w.size(), 0.0);
  for (index_t q : Q) {
    e[std::size_t(q)] = 1;
    cols.push_back(F.solve(e));
    e[std::size_t(q)] = 0;
  }
  std::vector<double> C(static_cast<std::size_t>(k * k)), wq(static_cast<std::size_t>(k));
  for (index_t a = 0; a < k; ++a) {
    wq[std::size_t(a)] = w[std::size_t(Q[std::size_t(a)])];
    for (index_t b = 0; b < k; ++b)
      C[std::size_t(a * k + b)] = cols[std::size_t(b)][std::size_t(Q[std::size_t(a)])];
  }
  const std::vector<double> a = linalg::solve_spd(C, k, wq);
  std::vector<double> out(w);
  for (index_t j = 0; j < k; ++j)
    for (std::size_t i = 0; i < w.size(); ++i)
      out[i] -= a[std::size_t(j)] * cols[std::size_t(j)][i];
  for (index_t q : Q) out[std::size_t(q)] = 0;
  return out;
}

std::vector<double> woodtaylor_update(const std::vector<double>& w, const std::vector<double>& g,
                                      const std::vector<index_t>& Q, const FisherInverse& F) {
  check_size("WoodTaylor", w.size(), F.size());
  check_size("WoodTaylor", g.size(), F.size());
  const std::vector<double> inv = F.inverse_diagonal(), Fg = F.solve(g);
  // δ = −F⁻¹(g + Σ_q c_q e_q), c_q = (w_q − e_qᵀF⁻¹g) / [F⁻¹]_qq: the single-weight corrections
  // summed, as in WoodFisher's rule.
  std::vector<double> u(g);
  for (index_t q : Q)
    u[std::size_t(q)] += (w[std::size_t(q)] - Fg[std::size_t(q)]) / inv[std::size_t(q)];
  return step_and_zero(w, u, Q, F);
}

}  // namespace curv
