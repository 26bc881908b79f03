// Optimal Brain Surgeon on a vector w of d prunable weights with the damped empirical Fisher F
// (prune/fisher_inverse.hpp), the model's loss change near a minimum being ½δᵀFδ:
//   score of weight q          ρ_q = w_q² / (2 [F⁻¹]_qq): the least increase of ½δᵀFδ over all
//                              δ that zero w_q, reached by δ = −w_q F⁻¹e_q / [F⁻¹]_qq
//   removing a set Q at once:
//     woodfisher (default)     δ = −F⁻¹ Σ_{q∈Q} (w_q / [F⁻¹]_qq) e_q: the single-weight
//                              corrections summed (WoodFisher's rule), then w_Q set to 0 exactly
//     joint                    δ = −F⁻¹E_Q (E_QᵀF⁻¹E_Q)⁻¹ w_Q: the exact minimizer with w_Q = 0,
//                              |Q| solves and a |Q|×|Q| system (small Q only)
//   WoodTaylor (not at a minimum, g = ∇L): ρ_q = (w_q − e_qᵀF⁻¹g)² / (2[F⁻¹]_qq) − ½gᵀF⁻¹g and
//                              δ = −F⁻¹g − ((w_q − e_qᵀF⁻¹g) / [F⁻¹]_qq) F⁻¹e_q
// The magnitude and OBD scores are here too, so every pruner ranks weights the same way.
#pragma once

#include <cstdint>
#include <vector>

#include "curv/prune/fisher_inverse.hpp"

namespace curv {

std::vector<double> magnitude_scores(const std::vector<double>& w);  // |w_q|
// w_q² F_qq / 2 for a diagonal curvature F (the exact GGN or empirical-Fisher diagonal).
std::vector<double> obd_scores(const std::vector<double>& w, const std::vector<double>& diagonal);
std::vector<double> obs_scores(const std::vector<double>& w, const FisherInverse& F);
// WoodTaylor's scores and the common shift −½gᵀF⁻¹g included.
std::vector<double> woodtaylor_scores(const std::vector<double>& w, const std::vector<double>& g,
                                      const FisherInverse& F);

// The k eligible entries with the lowest scores (ties broken by index), in increasing index order.
std::vector<index_t> lowest_scores(const std::vector<double>& scores, index_t k,
                                   const std::vector<std::uint8_t>& eligible);

// w after removing Q (returned; w_Q exactly 0).
std::vector<double> woodfisher_update(const std::vector<double>& w, const std::vector<index_t>& Q,
                                      const FisherInverse& F);
std::vector<double> joint_obs_update(const std::vector<double>& w, const std::vector<index_t>& Q,
                                     const FisherInverse& F);
std::vector<double> woodtaylor_update(const std::vector<double>& w, const std::vector<double>& g,
                                      const std::vector<index_t>& Q, const FisherInverse& F);

}  // namespace curv
