// Op builders: each runs its op's forward pass on tape values and records the op, returning the
// output value. Shapes follow PyTorch: activations are batch-first (NCHW for images), Linear
// weight (out,in), Conv2d weight (out,in,kh,kw). A builder throws curv::Error naming the op and
// the expected vs found shape when its inputs do not fit.
//
// Adding an op: one file src/ops/NAME.cpp with a Node subclass holding the four passes (see
// autodiff/node.hpp for the contract), its builder declared here, and one case in
// src/check/op_cases.cpp, which `curv check` and tests/test_derivatives.cpp run.
#pragma once

#include "curv/autodiff/tape.hpp"
#include "curv/core/rng.hpp"

namespace curv::ops {

// y = x Wᵀ + b over the last dimension.  x:(N,…,I) W:(O,I) b:(O) or empty  y:(N,…,O)
template <class T>
Value linear(Tape<T>& t, Value x, ParamRef<T> w, ParamRef<T> b);

// 2-D convolution (cross-correlation as in PyTorch), im2col + GEMM.
// x:(N,C,H,W) W:(O,C,KH,KW) b:(O) or empty  y:(N,O,OH,OW)
template <class T>
Value conv2d(Tape<T>& t, Value x, ParamRef<T> w, ParamRef<T> b, index_t stride, index_t pad);

// Pooling over k×k windows with the given stride.  x:(N,C,H,W)  y:(N,C,OH,OW)
// max_pool2d pads with −∞ (PyTorch's MaxPool2d(k, stride, pad)); avg_pool2d has no padding.
template <class T>
Value max_pool2d(Tape<T>& t, Value x, index_t k, index_t stride, index_t pad = 0);
template <class T>
Value avg_pool2d(Tape<T>& t, Value x, index_t k, index_t stride);

// Elementwise activations, any shape.
template <class T>
Value relu(Tape<T>& t, Value x);
template <class T>
Value tanh(Tape<T>& t, Value x);
template <class T>
Value sigmoid(Tape<T>& t, Value x);
template <class T>
Value gelu(Tape<T>& t, Value x);  // exact: x Φ(x)

// Over the last dimension.
template <class T>
Value softmax(Tape<T>& t, Value x);
template <class T>
Value log_softmax(Tape<T>& t, Value x);

// y = a + b, same shapes (residual connections).
template <class T>
Value add(Tape<T>& t, Value a, Value b);

// The same values under another shape with the same element count (no copy).
template <class T>
Value reshape(Tape<T>& t, Value x, Shape s);
// (N, …) → (N, prod(…))
template <class T>
Value flatten(Tape<T>& t, Value x);

// Layer normalization over the last dimension: γ ⊙ (x − μ)/√(var + ε) + β.  γ, β:(D)
template <class T>
Value layer_norm(Tape<T>& t, Value x, ParamRef<T> gamma, ParamRef<T> beta, double eps = 1e-5);

// Token embedding: ids (N,…) hold integer token ids (a constant input), W:(V,d) → (N,…,d).
template <class T>
Value embedding(Tape<T>& t, Value ids, ParamRef<T> w);

// Learned positions added to x:(N,T,d) from P:(T_max,d), T ≤ T_max.
template <class T>
Value positional(Tape<T>& t, Value x, ParamRef<T> p);

// Multi-head attention. self: qkv (N,T,3d) packed as [q | k | v] → (N,T,d), causal or not.
// cross: q (N,Tq,d) and kv (N,Tk,2d) packed as [k | v] → (N,Tq,d). Heads are contiguous
// blocks of d/heads columns inside q, k and v.
template <class T>
Value self_attention(Tape<T>& t, Value qkv, index_t heads, bool causal);
template <class T>
Value cross_attention(Tape<T>& t, Value q, Value kv, index_t heads);

// Positions [begin, end) of x:(N,T,…) → (N, end−begin, …).
template <class T>
Value slice_tokens(Tape<T>& t, Value x, index_t begin, index_t end);

// Dropout with probability p: the mask is drawn from rng when recorded (p = 0 returns x).
template <class T>
Value dropout(Tape<T>& t, Value x, double p, Rng& rng);

// Batch normalization per channel of x:(N,C) or (N,C,H,W). train: batch statistics, and the
// running ones updated with `momentum` (PyTorch's convention); eval: the running statistics.
template <class T>
Value batch_norm(Tape<T>& t, Value x, ParamRef<T> gamma, ParamRef<T> beta, View<T> running_mean,
                 View<T> running_var, bool train, double momentum = 0.1, double eps = 1e-5);

}  // namespace curv::ops
