// transformer: a decoder-only character language model (pre-LayerNorm, GPT-2 style).
//   ids (N,T) → tok embedding + learned positions                                (N,T,d)
//   L × block:  h += proj(causal_attention(qkv(ln1(h))))                        heads of d/H
//               h += fc2(gelu(fc1(ln2(h))))                                      d → 4d → d
//   → ln → head                                                                  (N·T, V)
// One output row per position: the loss (cross-entropy on the next character) is the mean
// over all N·T positions. Initialization as GPT-2: linear weights and both embeddings
// N(0, 0.02), biases 0, LayerNorm weight 1 and bias 0.
#include "curv/ops/ops.hpp"
#include "registry.hpp"

namespace curv {
namespace {

template <class T>
class Transformer final : public Model<T> {
  using Rule = typename Model<T>::InitRule;
  using Kind = typename Rule::Kind;

 public:
  Transformer(index_t vocab, index_t d, index_t context, index_t layers, index_t heads)
      : V_(vocab), d_(d), T_(context), L_(layers), H_(heads) {
    CURV_CHECK(vocab > 0 && d > 0 && context > 0 && layers > 0 && heads > 0 && d % heads == 0,
               "transformer: expected positive sizes with d divisible by heads, found vocab ",
               vocab, " d ", d, " context ", context, " layers ", layers, " heads ", heads);
    const Rule normal{Kind::Normal, 0.02};
    tok_ = this->add_param("tok.weight", Shape{V_, d_}, normal);
    pos_ = this->add_param("pos.weight", Shape{T_, d_}, normal);
    auto linear = [&](const std::string& n, index_t out, index_t in) {
      return this->add_linear(n, out, in, normal);
    };
    auto norm = [&](const std::string& n) { return this->add_layer_norm(n, d_); };
    for (index_t l = 0; l < L_; ++l) {
      const std::string b = "blocks." + std::to_string(l) + ".";
      Block k;
      k.ln1 = norm(b + "ln1");
      k.qkv = linear(b + "qkv", 3 * d_, d_);
      k.proj = linear(b + "proj", d_, d_);
      k.ln2 = norm(b + "ln2");
      k.fc1 = linear(b + "fc1", 4 * d_, d_);
      k.fc2 = linear(b + "fc2", d_, 4 * d_);
      blocks_.push_back(k);
    }
    ln_ = norm("ln");
    head_ = linear("head", V_, d_);
  }

  std::string name() const override { return "transformer"; }
  std::string config() const override {
    return detail::Config{{"vocab", V_}, {"d", d_}, {"context", T_}, {"layers", L_}, {"heads", H_}}
        .dump();
  }
  Shape input_shape() const override { return Shape{T_}; }
  index_t outputs() const override { return V_; }

  Value forward(Tape<T>& t, Value ids) const override {
    const Shape s = t.shape(ids);
    CURV_CHECK(s.rank() == 2 && s[1] <= T_, "transformer: expected token ids (N,T) with T <= ", T_,
               ", found ", s.str());
    auto lin = [&](Value x, index_t w) {
      return ops::linear(t, x, this->weight(w), this->bias(w));
    };
    auto norm = [&](Value x, index_t w) {
      return ops::layer_norm(t, x, this->weight(w), this->bias(w));
    };
    Value h = ops::positional(t, ops::embedding(t, ids, this->weight(tok_)),
                              this->weight(pos_));  // (N,T,d)
    for (const Block& k : blocks_) {
      Value a = ops::self_attention(t, lin(norm(h, k.ln1), k.qkv), H_, true);  // (N,T,d)
      h = ops::add(t, h, lin(a, k.proj));
      Value m = ops::gelu(t, lin(norm(h, k.ln2), k.fc1));  // (N,T,4d)
      h = ops::add(t, h, lin(m, k.fc2));
    }
    Value logits = lin(norm(h, ln_), head_);                 // (N,T,V)
    return ops::reshape(t, logits, Shape{s[0] * s[1], V_});  // (N·T,V)
  }

 private:
  struct Block {
    index_t ln1, qkv, proj, ln2, fc1, fc2;
  };
  index_t V_, d_, T_, L_, H_;
  index_t tok_, pos_, ln_, head_;
  std::vector<Block> blocks_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Model<T>> make_transformer_model(const Config& cfg) {
  const char* m = "transformer";
  expect_keys(cfg, m, {"vocab", "d", "context", "layers", "heads"});
  return std::make_unique<Transformer<T>>(
      get<index_t>(cfg, m, "vocab", 83), get<index_t>(cfg, m, "d", 128),
      get<index_t>(cfg, m, "context", 64), get<index_t>(cfg, m, "layers", 2),
      get<index_t>(cfg, m, "heads", 4));
}
template std::unique_ptr<Model<float>> make_transformer_model<float>(const Config&);
template std::unique_ptr<Model<double>> make_transformer_model<double>(const Config&);
}  // namespace detail
}  // namespace curv
