// Every op, loss and small model passes its float64 derivative checks (curv/check/check.hpp):
// the same checks `curv check` prints.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "curv/check/check.hpp"
#include "curv/kernels/im2col.hpp"
#include "curv/nn/model.hpp"

using namespace curv;

namespace {
void require_rows(const std::vector<check::Row>& rows) {
  REQUIRE(!rows.empty());
  for (const check::Row& r : rows) {
    INFO(r.subject << " " << r.pass << ": error " << r.error << " > tolerance " << r.tolerance);
    CHECK(r.ok());
  }
}
}  // namespace

TEST_CASE("every op passes its four-pass checks") {
  for (const check::OpCase& c : check::op_cases()) {
    SUBCASE(c.name.c_str()) { require_rows(check::check_op(c)); }
  }
}

TEST_CASE("the conv2d/chunks case spans several im2col chunks, as its checks assume") {
  const auto g = ConvGeometry::make(3, 4, 31, 31, 3, 3, 1, 1);
  CHECK(g.images_per_chunk() == 1);  // 3 images: 3 chunks in every pass
  bool found = false;
  for (const check::OpCase& c : check::op_cases()) found = found || c.name == "conv2d/chunks";
  CHECK(found);
}

TEST_CASE("every op passes at a second random point") {
  for (const check::OpCase& c : check::op_cases()) require_rows(check::check_op(c, 7));
}

TEST_CASE("losses: gradient, output Hessian and its square roots") {
  for (const std::string& l : check::loss_case_names()) {
    SUBCASE(l.c_str()) { require_rows(check::check_loss(l)); }
  }
}

TEST_CASE("models: J, H and G against dense matrices; per-example gradients") {
  for (const std::string& m : check::model_case_names()) {
    SUBCASE(m.c_str()) { require_rows(check::check_model(m)); }
  }
}

namespace {
// tanh with a vjp that forgets the derivative (x̄ += ȳ) and a jvp that leaves entries unset.
class BrokenTanh final : public Node<double> {
 public:
  explicit BrokenTanh(View<const double> y) : y_(y) {}
  std::string_view name() const override { return "broken_tanh"; }
  void vjp(const VjpArgs<double>& a) override {
    for (index_t i = 0; i < y_.numel(); ++i) a.dx[0][i] += a.dy[i];
  }
  void jvp(const JvpArgs<double>& a) override {
    for (index_t i = 0; i + 1 < y_.numel(); ++i) a.y_dot[i] = (1 - y_[i] * y_[i]) * a.x_dot[0][i];
  }
  void vjp_rop(const VjpRopArgs<double>& a) override {
    for (index_t i = 0; i < y_.numel(); ++i) a.dx_dot[0][i] += a.dy_dot[i];
  }

 private:
  View<const double> y_;
};
}  // namespace

TEST_CASE("full-size models: products along random directions") {
  for (const std::string& m : model_names()) {
    SUBCASE(m.c_str()) { require_rows(check::check_model_directional(m)); }
  }
}

TEST_CASE("the checker catches a wrong derivative and an unassigned tangent") {
  check::OpCase broken{
      "broken_tanh",
      {{3, 4}},
      {},
      [](Tape<double>& t, const std::vector<Value>& x, const std::vector<ParamRef<double>>&) {
        Value y = t.new_value(t.shape(x[0]), true);
        const View<double> vx = t.value(x[0]), vy = t.value(y);
        for (index_t i = 0; i < vx.numel(); ++i) vy[i] = std::tanh(vx[i]);
        t.record(std::make_unique<BrokenTanh>(vy), {x[0]}, y);
        return y;
      },
      {}};
  std::map<std::string, bool> ok;
  for (const check::Row& r : check::check_op(broken)) ok[r.pass] = r.ok();
  CHECK_FALSE(ok.at("vjp"));
  CHECK_FALSE(ok.at("jvp"));
  CHECK_FALSE(ok.at("adjoint"));
  CHECK_FALSE(ok.at("assign"));
}

namespace {
// Correct derivatives, but it claims to assign fresh adjoints while it only adds to them.
class FalselyAssigningTanh final : public Node<double> {
 public:
  explicit FalselyAssigningTanh(View<const double> y) : y_(y) {}
  std::string_view name() const override { return "falsely_assigning_tanh"; }
  bool assigns_fresh_adjoints() const override { return true; }
  void vjp(const VjpArgs<double>& a) override {
    for (index_t i = 0; i < y_.numel(); ++i) a.dx[0][i] += (1 - y_[i] * y_[i]) * a.dy[i];
  }
  void jvp(const JvpArgs<double>& a) override {
    for (index_t i = 0; i < y_.numel(); ++i) a.y_dot[i] = (1 - y_[i] * y_[i]) * a.x_dot[0][i];
  }
  void vjp_rop(const VjpRopArgs<double>& a) override {
    for (index_t i = 0; i < y_.numel(); ++i)
      a.dx_dot[0][i] += (1 - y_[i] * y_[i]) * a.dy_dot[i] -
                        2 * y_[i] * (1 - y_[i] * y_[i]) * a.x_dot[0][i] * a.dy[i];
  }

 private:
  View<const double> y_;
};
}  // namespace

TEST_CASE("the checker catches an op that does not assign the fresh adjoints it claims to") {
  check::OpCase c{
      "falsely_assigning_tanh",
      {{3, 4}},
      {},
      [](Tape<double>& t, const std::vector<Value>& x, const std::vector<ParamRef<double>>&) {
        Value y = t.new_value(t.shape(x[0]), true);
        const View<double> vx = t.value(x[0]), vy = t.value(y);
        for (index_t i = 0; i < vx.numel(); ++i) vy[i] = std::tanh(vx[i]);
        t.record(std::make_unique<FalselyAssigningTanh>(vy), {x[0]}, y);
        return y;
      },
      {}};
  std::map<std::string, bool> ok;
  for (const check::Row& r : check::check_op(c)) ok[r.pass] = r.ok();
  CHECK_FALSE(ok.at("vjp_fresh"));
  CHECK_FALSE(ok.at("vjp_rop_fresh"));
}
