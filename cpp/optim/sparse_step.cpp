// The optimizer step for sparse gradients (tf.IndexedSlices): Keras 3's update_step on the TF
// backend, fused, over the rows the slices touch where Keras updates only those.
// See Note [Sparse optimizer step].
#include <algorithm>
#include <numeric>

#include "optim/pipeline.h"
#include "optim/rules.h"
#include "optim/sparse_step.h"

namespace tg {
namespace optim {

// Note [Sparse optimizer step]
// Keras 3's update_step runs keras.ops on the IndexedSlices gradient (keras/src/backend/tensorflow/
// sparse.py): square/abs/sign and a product with a dense slot act per slice entry and stay sparse;
// a sum with a dense slot densifies with unsorted_segment_sum; assign_add/assign_sub of slices
// scatter. Written per row r touched by entries i, every optimizer is then the dense rule with
//   g = sum_i g_i,  g*g -> g2 = sum_i g_i^2,  |g| -> ga = sum_i |g_i|
// and g = g2 = ga = 0 on untouched rows (Adam's v: Keras squares the slices before densifying, so
// duplicate indices add squares; Adadelta's square(delta) likewise, see rules.h). For SGD without
// momentum and Adagrad the rule with a zero gradient leaves a row unchanged and Keras only
// scatters, so the step visits the touched rows alone: O(rows touched), never O(table). Every
// other rule decays its slots (or the variable) on every row in Keras too (Adam's m and v, RMSprop's
// velocity, Ftrl, Lion ...), so its sparse step is one pass over the whole table in which only the
// touched rows read gradient data. Clipping happens on the slice values as Keras does it
// (clipnorm: tf.clip_by_norm of the values; clipvalue: per entry); decoupled weight decay and
// the EMA are dense, as in Keras. Duplicate indices are summed in entry order, as
// unsorted_segment_sum. Every check, including the indices', happens before any write.

namespace {

std::vector<int64_t> index_values(const Tensor& idx) {
  std::vector<int64_t> out(size_t(idx.numel()));
  if (idx.dtype == DType::Int32) {
    const int32_t* p = idx.data<int32_t>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = p[i];
  } else {
    const int64_t* p = idx.data<int64_t>();
    std::copy(p, p + out.size(), out.begin());
  }
  return out;
}

// Keras scatters (assign_sub / assign_add of slices) for these; the others densify.
bool rows_only_rule(Rule r) { return r == Rule::Sgd || r == Rule::Adagrad; }

// The touched rows and the per-row sums of the (clipped) entries.
template <class T> struct Rows {
  std::vector<int64_t> rows;
  std::vector<T> g, g2, ga;
};

template <class T>
Rows<T> segment(const Tensor& values, const std::vector<int64_t>& idx, int64_t width, T scale, T lo, T hi) {
  std::vector<int64_t> order;
  order.reserve(idx.size());
  for (size_t i = 0; i < idx.size(); ++i)
    if (idx[i] >= 0) order.push_back(int64_t(i));
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return idx[size_t(a)] < idx[size_t(b)]; });
  Rows<T> out;
  const T* v = values.data<T>();
  for (int64_t e : order) {
    const int64_t row = idx[size_t(e)];
    if (out.rows.empty() || out.rows.back() != row) {
      out.rows.push_back(row);
      out.g.resize(out.g.size() + size_t(width), T(0));
      out.g2.resize(out.g.size(), T(0));
      out.ga.resize(out.g.size(), T(0));
    }
    T* g = out.g.data() + out.g.size() - size_t(width);
    T* g2 = out.g2.data() + out.g2.size() - size_t(width);
    T* ga = out.ga.data() + out.ga.size() - size_t(width);
    const T* src = v + e * width;
    for (int64_t j = 0; j < width; ++j) {
      T x = std::min(std::max(src[j] * scale, lo), hi);
      g[j] += x;
      g2[j] += x * x;
      ga[j] += std::abs(x);
    }
  }
  return out;
}

template <class T, class R>
void run_var(const R& r, T* P, T* S0, T* S1, T* S2, T* E, int64_t nrows, int64_t width, const Rows<T>& rows,
             bool rows_only, const Pre<T>& pre, bool decay_on, bool ema_on) {
  auto elem = [&](int64_t i, T g, T g2, T ga) __attribute__((always_inline)) {
    T pi = P[i];
    if (decay_on) pi = pi - pi * pre.decay;
    r(i, pi, g, g2, ga, S0, S1, S2);
    P[i] = pi;
    if (ema_on) E[i] = pre.ema_mom * E[i] + pre.ema_1m * pi;
  };
  const int64_t grain_rows = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(width, 1));
  if (rows_only) {
    parallel_for(int64_t(rows.rows.size()), grain_rows, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        const int64_t base = rows.rows[size_t(k)] * width, off = k * width;
        for (int64_t j = 0; j < width; ++j) elem(base + j, rows.g[size_t(off + j)], rows.g2[size_t(off + j)],
                                                 rows.ga[size_t(off + j)]);
      }
    });
    return;
  }
  parallel_for(nrows, grain_rows, [&](int64_t lo, int64_t hi) {
    size_t k = size_t(std::lower_bound(rows.rows.begin(), rows.rows.end(), lo) - rows.rows.begin());
    for (int64_t row = lo; row < hi; ++row) {
      const int64_t base = row * width;
      if (k < rows.rows.size() && rows.rows[k] == row) {
        const size_t off = k * size_t(width);
        for (int64_t j = 0; j < width; ++j)
          elem(base + j, rows.g[off + size_t(j)], rows.g2[off + size_t(j)], rows.ga[off + size_t(j)]);
        ++k;
      } else {
        for (int64_t j = 0; j < width; ++j) elem(base + j, T(0), T(0), T(0));
      }
    }
  });
}

std::string shape_list(const Shape& s) {
  std::string r = "[";
  for (int d = 0; d < s.ndim; ++d) r += (d ? "," : "") + std::to_string(s[d]);
  return r + "]";
}

void check_sparse_args(Rule rule, const VarList& vars, const std::vector<SparseRows>& grads,
                       const std::vector<VarList>& slots, std::vector<std::vector<int64_t>>& idx_out) {
  if (grads.size() != vars.size())
    throw InvalidArgument(std::string("optimizer_sparse_step: got ") + std::to_string(grads.size()) +
                          " gradients for " + std::to_string(vars.size()) + " variables");
  for (const VarList& s : slots)
    if (s.size() != vars.size())
      throw InvalidArgument(std::string("optimizer_sparse_step: slot list has ") + std::to_string(s.size()) +
                            " entries for " + std::to_string(vars.size()) + " variables");
  for (size_t t = 0; t < vars.size(); ++t) {
    if (!vars[t]) throw InvalidArgument("optimizer_sparse_step: variable " + std::to_string(t) + " is None");
    for (size_t u = 0; u < t; ++u)
      if (vars[u].get() == vars[t].get())
        throw InvalidArgument("optimizer_sparse_step: variable '" + vars[t]->name +
                              "' appears more than once in the list of variables to update");
    const Tensor& v = vars[t]->value;
    const SparseRows& g = grads[t];
    if (!is_floating(v.dtype))
      throw InvalidArgument("optimizer_sparse_step: variable '" + vars[t]->name + "' has dtype " + dtype_name(v.dtype) +
                            "; optimizers update float variables only");
    if (v.ndim() < 1)
      throw InvalidArgument("optimizer_sparse_step: variable '" + vars[t]->name +
                            "' is a scalar; an IndexedSlices gradient needs a variable of rank >= 1");
    if (!g.values.has_data() || !g.indices.has_data())
      throw InvalidArgument("optimizer_sparse_step: gradient for variable '" + vars[t]->name + "' is undefined");
    if (g.values.dtype != v.dtype)
      throw InvalidArgument("optimizer_sparse_step: IndexedSlices values for variable '" + vars[t]->name +
                            "' have dtype " + dtype_name(g.values.dtype) + ", expected " + dtype_name(v.dtype));
    if (g.indices.dtype != DType::Int32 && g.indices.dtype != DType::Int64)
      throw InvalidArgument("optimizer_sparse_step: IndexedSlices indices for variable '" + vars[t]->name +
                            "' have dtype " + dtype_name(g.indices.dtype) + "; expected int32 or int64");
    bool shape_ok = g.indices.ndim() == 1 && g.values.ndim() == v.ndim() && g.values.shape[0] == g.indices.shape[0];
    for (int d = 1; shape_ok && d < v.ndim(); ++d) shape_ok = g.values.shape[d] == v.shape[d];
    if (!shape_ok)
      throw InvalidArgument("optimizer_sparse_step: IndexedSlices for variable '" + vars[t]->name +
                            "' has values of shape " + shape_list(g.values.shape) + " and indices of shape " +
                            shape_list(g.indices.shape) + ", which do not match the variable's shape " +
                            shape_list(v.shape) + " (values must be [len(indices)] + shape[1:])");
    for (const VarList& s : slots) {
      if (!s[t]) throw InvalidArgument("optimizer_sparse_step: missing slot for variable '" + vars[t]->name + "'");
      if (s[t]->value.dtype != v.dtype || s[t]->value.shape != v.shape)
        throw InvalidArgument("optimizer_sparse_step: slot '" + s[t]->name + "' does not match variable '" +
                              vars[t]->name + "'");
    }
    idx_out.push_back(index_values(g.indices));
    const int64_t n = v.shape[0];
    const std::vector<int64_t>& iv = idx_out.back();
    const bool scatter = rows_only_rule(rule);
    for (size_t i = 0; i < iv.size(); ++i) {
      if (scatter && (iv[i] < 0 || iv[i] >= n))
        throw InvalidArgument("indices[" + std::to_string(i) + "] = " + std::to_string(iv[i]) + " is not in [0, " +
                              std::to_string(n) + ") [Op:" +
                              (rule == Rule::Sgd ? "ResourceScatterSub" : "ResourceScatterAdd") + "]");
      if (!scatter && iv[i] >= n)  // unsorted_segment_sum drops negative ids
        throw InvalidArgument("segment_ids[" + std::to_string(i) + "] = " + std::to_string(iv[i]) +
                              " is out of range [0, " + std::to_string(n) + ") [Op:UnsortedSegmentSum]");
    }
  }
}

template <template <class> class RuleT>
void run_sparse(Rule rule, const VarList& vars, const std::vector<SparseRows>& grads, const std::vector<VarList>& slots,
                const Hyper& hyper, const StepOptions& o) {
  std::vector<std::vector<int64_t>> idx;
  check_sparse_args(rule, vars, grads, slots, idx);
  check_options("optimizer_sparse_step", vars, o);
  if (o.accumulators)
    throw InvalidArgument("optimizer_sparse_step: gradient accumulation densifies (pass the dense gradient)");
  if (o.clip == Clip::GlobalNorm)
    throw InvalidArgument("optimizer_sparse_step: global_clipnorm densifies (pass the dense gradient)");
  std::vector<double> scales(vars.size(), 1.0);
  if (o.clip == Clip::Norm) {  // tf.clip_by_norm of the values: v * c / max(||v||, c)
    std::vector<Tensor> values;
    for (const SparseRows& g : grads) values.push_back(g.values);
    std::vector<double> ss = sum_squares(values, nullptr);
    for (size_t t = 0; t < ss.size(); ++t) scales[t] = o.clip_norm / std::max(std::sqrt(ss[t]), o.clip_norm);
  }
  const RuleT<float> rf(hyper);
  const RuleT<double> rd(hyper);
  Prepared pr = prepare(vars, slots, o);
  for (size_t t = 0; t < vars.size(); ++t) {
    const Tensor& v = vars[t]->value;
    const int64_t nrows = v.shape[0], width = nrows ? v.numel() / nrows : 0;
    const bool decay_on = !o.decay_mask.empty() && o.decay_mask[t] && o.decay != 0;
    const bool ema_on = o.ema != nullptr;
    const bool rows_only = rows_only_rule(rule) && !decay_on && !ema_on;
    auto go = [&](auto tag, const auto& r) {
      using T = decltype(tag);
      StepOptions po = o;
      po.clip = Clip::Off;
      po.clip_value = 0;
      Pre<T> pre = make_pre<T>(po, {}, t);
      const T lo = o.clip_value > 0 ? T(-o.clip_value) : -std::numeric_limits<T>::infinity();
      const T hi = o.clip_value > 0 ? T(o.clip_value) : std::numeric_limits<T>::infinity();
      Rows<T> rows = segment<T>(grads[t].values, idx[t], width, T(scales[t]), lo, hi);
      auto ptr = [](void* q) { return static_cast<T*>(q); };
      run_var<T>(r, ptr(pr.P[t]), ptr(pr.S[0][t]), ptr(pr.S[1][t]), ptr(pr.S[2][t]), ptr(pr.E[t]), nrows, width, rows,
                 rows_only, pre, decay_on, ema_on);
    };
    if (v.dtype == DType::Float32) go(float(0), rf);
    else go(double(0), rd);
  }
  pr.held.clear();
  if (o.ema && o.ema_overwrite) overwrite_with_ema(vars, *o.ema);
}

}  // namespace

bool sparse_step_supported(Rule rule) { return rule != Rule::Lamb && rule != Rule::Adafactor; }

bool sparse_step_rows_only(Rule rule) { return rows_only_rule(rule); }

void sparse_step(Rule rule, const VarList& vars, const std::vector<SparseRows>& grads,
                 const std::vector<VarList>& slots, const Hyper& h, const StepOptions& o) {
  if (slots.size() != rule_slots(rule))
    throw InvalidArgument(std::string("optimizer_sparse_step: '") + rule_name(rule) + "' takes " +
                          std::to_string(rule_slots(rule)) + " slot lists, got " + std::to_string(slots.size()));
  switch (rule) {
    case Rule::Sgd: return run_sparse<SgdPlain>(rule, vars, grads, slots, h, o);
    case Rule::SgdMomentum: return run_sparse<SgdMomentum>(rule, vars, grads, slots, h, o);
    case Rule::SgdNesterov: return run_sparse<SgdNesterov>(rule, vars, grads, slots, h, o);
    case Rule::Rmsprop: return run_sparse<RmspropPlain>(rule, vars, grads, slots, h, o);
    case Rule::RmspropCentered: return run_sparse<RmspropCentered>(rule, vars, grads, slots, h, o);
    case Rule::RmspropMomentum: return run_sparse<RmspropMomentum>(rule, vars, grads, slots, h, o);
    case Rule::RmspropCenteredMomentum: return run_sparse<RmspropCenteredMomentum>(rule, vars, grads, slots, h, o);
    case Rule::Adam: return run_sparse<AdamPlain>(rule, vars, grads, slots, h, o);
    case Rule::AdamAmsgrad: return run_sparse<AdamAmsgrad>(rule, vars, grads, slots, h, o);
    case Rule::Adagrad: return run_sparse<Adagrad>(rule, vars, grads, slots, h, o);
    case Rule::Adadelta: return run_sparse<Adadelta>(rule, vars, grads, slots, h, o);
    case Rule::Adamax: return run_sparse<Adamax>(rule, vars, grads, slots, h, o);
    case Rule::Nadam: return run_sparse<Nadam>(rule, vars, grads, slots, h, o);
    case Rule::Ftrl:
      if (h.learning_rate_power == -0.5) return run_sparse<FtrlSqrt>(rule, vars, grads, slots, h, o);
      return run_sparse<FtrlPow>(rule, vars, grads, slots, h, o);
    case Rule::Lion: return run_sparse<Lion>(rule, vars, grads, slots, h, o);
    default:
      throw InvalidArgument(std::string("optimizer_sparse_step: no sparse kernel for rule '") + rule_name(rule) +
                            "' (densify the gradient)");
  }
}

}  // namespace optim
}  // namespace tg
