// t2t: a small encoder-decoder text-to-text transformer in T5's spirit (pre-LayerNorm).
// Its input row holds S source ids followed by U decoder-input ids (BOS, then the target so far):
//   encoder  tok + enc_pos → E × [h += proj(attn(qkv(ln1 h))); h += fc2(gelu(fc1(ln2 h)))] → enc_ln
//   decoder  tok + dec_pos → D × [h += proj(causal_attn(qkv(ln1 h)));
//                                 h += cross_proj(cross_attn(q(ln2 h), kv(encoder)));
//                                 h += fc2(gelu(fc1(ln3 h)))] → dec_ln → head        (N·U, V)
// The token embedding is shared by encoder and decoder. Parameters, in order: tok, enc_pos,
// dec_pos (weights only), encoder.I.{ln1,qkv,proj,ln2,fc1,fc2}, enc_ln,
// decoder.I.{ln1,qkv,proj,ln2,q,kv,cross_proj,ln3,fc1,fc2}, dec_ln, head (each .weight, .bias).
// Initialization as the transformer model (GPT-2 style).
#include "curv/ops/ops.hpp"
#include "registry.hpp"

namespace curv {
namespace {

template <class T>
class T2t final : public Model<T> {
  using Rule = typename Model<T>::InitRule;
  using Kind = typename Rule::Kind;

 public:
  T2t(index_t vocab, index_t d, index_t heads, index_t enc_layers, index_t dec_layers,
      index_t source, index_t target)
      : V_(vocab), d_(d), H_(heads), E_(enc_layers), D_(dec_layers), S_(source), U_(target) {
    CURV_CHECK(vocab > 0 && d > 0 && heads > 0 && d % heads == 0 && enc_layers > 0 &&
                   dec_layers > 0 && source > 0 && target > 0,
               "t2t: expected positive sizes with d divisible by heads, found ", config());
    const Rule normal{Kind::Normal, 0.02};
    auto linear = [&](const std::string& n, index_t out, index_t in) {
      return this->add_linear(n, out, in, normal);
    };
    auto norm = [&](const std::string& n) { return this->add_layer_norm(n, d_); };
    tok_ = this->add_param("tok.weight", Shape{V_, d_}, normal);
    enc_pos_ = this->add_param("enc_pos.weight", Shape{S_, d_}, normal);
    dec_pos_ = this->add_param("dec_pos.weight", Shape{U_, d_}, normal);
    for (index_t l = 0; l < E_; ++l) {
      const std::string b = "encoder." + std::to_string(l) + ".";
      Layer k;
      k.ln1 = norm(b + "ln1"), k.qkv = linear(b + "qkv", 3 * d_, d_),
      k.proj = linear(b + "proj", d_, d_);
      k.ln2 = norm(b + "ln2"), k.fc1 = linear(b + "fc1", 4 * d_, d_),
      k.fc2 = linear(b + "fc2", d_, 4 * d_);
      enc_.push_back(k);
    }
    enc_ln_ = norm("enc_ln");
    for (index_t l = 0; l < D_; ++l) {
      const std::string b = "decoder." + std::to_string(l) + ".";
      Layer k;
      k.ln1 = norm(b + "ln1"), k.qkv = linear(b + "qkv", 3 * d_, d_),
      k.proj = linear(b + "proj", d_, d_);
      k.ln2 = norm(b + "ln2"), k.q = linear(b + "q", d_, d_), k.kv = linear(b + "kv", 2 * d_, d_);
      k.cross = linear(b + "cross_proj", d_, d_);
      k.ln3 = norm(b + "ln3"), k.fc1 = linear(b + "fc1", 4 * d_, d_),
      k.fc2 = linear(b + "fc2", d_, 4 * d_);
      dec_.push_back(k);
    }
    dec_ln_ = norm("dec_ln");
    head_ = linear("head", V_, d_);
  }

  std::string name() const override { return "t2t"; }
  std::string config() const override {
    return detail::Config{
        {"vocab", V_},          {"d", d_},      {"heads", H_}, {"encoder_layers", E_},
        {"decoder_layers", D_}, {"source", S_}, {"target", U_}}
        .dump();
  }
  Shape input_shape() const override { return Shape{S_ + U_}; }
  index_t outputs() const override { return V_; }

  Value forward(Tape<T>& t, Value ids) const override {
    const Shape s = t.shape(ids);
    CURV_CHECK(s.rank() == 2 && s[1] == S_ + U_, "t2t: expected ids (N,", S_ + U_, ") = source ",
               S_, " + target ", U_, ", found ", s.str());
    auto lin = [&](Value x, index_t w) {
      return ops::linear(t, x, this->weight(w), this->bias(w));
    };
    auto norm = [&](Value x, index_t w) {
      return ops::layer_norm(t, x, this->weight(w), this->bias(w));
    };
    auto mlp = [&](Value h, index_t ln, const Layer& k) {
      return ops::add(t, h, lin(ops::gelu(t, lin(norm(h, ln), k.fc1)), k.fc2));
    };
    Value e = ops::embedding(t, ops::slice_tokens(t, ids, 0, S_), this->weight(tok_));  // (N,S,d)
    e = ops::positional(t, e, this->weight(enc_pos_));
    for (const Layer& k : enc_) {
      e = ops::add(t, e,
                   lin(ops::self_attention(t, lin(norm(e, k.ln1), k.qkv), H_, false), k.proj));
      e = mlp(e, k.ln2, k);
    }
    e = norm(e, enc_ln_);
    Value h =
        ops::embedding(t, ops::slice_tokens(t, ids, S_, S_ + U_), this->weight(tok_));  // (N,U,d)
    h = ops::positional(t, h, this->weight(dec_pos_));
    for (const Layer& k : dec_) {
      h = ops::add(t, h, lin(ops::self_attention(t, lin(norm(h, k.ln1), k.qkv), H_, true), k.proj));
      h = ops::add(
          t, h, lin(ops::cross_attention(t, lin(norm(h, k.ln2), k.q), lin(e, k.kv), H_), k.cross));
      h = mlp(h, k.ln3, k);
    }
    return ops::reshape(t, lin(norm(h, dec_ln_), head_), Shape{s[0] * U_, V_});  // (N·U,V)
  }

 private:
  struct Layer {
    index_t ln1 = -1, qkv = -1, proj = -1, ln2 = -1, q = -1, kv = -1, cross = -1, ln3 = -1,
            fc1 = -1, fc2 = -1;
  };
  index_t V_, d_, H_, E_, D_, S_, U_;
  index_t tok_, enc_pos_, dec_pos_, enc_ln_, dec_ln_, head_;
  std::vector<Layer> enc_, dec_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Model<T>> make_t2t_model(const Config& cfg) {
  const char* m = "t2t";
  expect_keys(cfg, m,
              {"vocab", "d", "heads", "encoder_layers", "decoder_layers", "source", "target"});
  return std::make_unique<T2t<T>>(
      get<index_t>(cfg, m, "vocab", 42), get<index_t>(cfg, m, "d", 128),
      get<index_t>(cfg, m, "heads", 4), get<index_t>(cfg, m, "encoder_layers", 2),
      get<index_t>(cfg, m, "decoder_layers", 2), get<index_t>(cfg, m, "source", 24),
      get<index_t>(cfg, m, "target", 14));
}
template std::unique_ptr<Model<float>> make_t2t_model<float>(const Config&);
template std::unique_ptr<Model<double>> make_t2t_model<double>(const Config&);
}  // namespace detail
}  // namespace curv
