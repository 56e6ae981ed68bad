// The optimizer step for sparse gradients (tf.IndexedSlices): Keras 3's update_step on the TF
// backend, fused, over the rows the slices touch where Keras updates only those.
// See Note [Sparse optimizer step].
#include <algorithm>
#include <iterator>
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
// scatters, so the step visits the touched rows alone: O(rows touched), never O(table). The other
// rules decay their slots on every row in Keras (Adam's m and v, RMSprop's velocity ...), but a
// row whose slots are all zero is a fixed point of their zero-gradient step, bit for bit (m stays
// 0, the update is 0 / (sqrt(0) + eps) = 0): SGD with momentum, RMSprop, Adam, Adadelta, Adamax,
// Nadam, Lion. Their step keeps per variable the sorted rows whose slots may be nonzero
// (SparseRowState) and visits those and the touched ones: O(rows touched so far), the same numbers
// as Keras's pass over the whole table. The state is rebuilt by one scan of the slots whenever a
// slot's Variable::version says someone else wrote it (a dense step, set_weights, a restore).
// Ftrl (its zero-gradient step moves the variable), weight decay and EMA keep the pass over the
// whole table, in which only the touched rows read gradient data. Clipping happens on the slice values as Keras does it
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

// Rules for which a row with all-zero slots and a zero gradient stays exactly as it is.
bool zero_fixed_rule(Rule r) {
  switch (r) {
    case Rule::SgdMomentum:
    case Rule::SgdNesterov:
    case Rule::Rmsprop:
    case Rule::RmspropCentered:
    case Rule::RmspropMomentum:
    case Rule::RmspropCenteredMomentum:
    case Rule::Adam:
    case Rule::AdamAmsgrad:
    case Rule::Adadelta:
    case Rule::Adamax:
    case Rule::Nadam:
    case Rule::Lion: return true;
    default: return false;
  }
}

// The rows of the slots that hold any nonzero bit (-0.0 counts: a step would rewrite it as +0.0).
std::vector<int64_t> nonzero_rows(const std::vector<const Tensor*>& slots, int64_t nrows, int64_t width) {
  std::vector<char> any(size_t(nrows), 0);
  for (const Tensor* st : slots) {
    const size_t rb = size_t(width) * itemsize(st->dtype);
    const unsigned char* base = static_cast<const unsigned char*>(st->raw());
    parallel_for(nrows, std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(int64_t(rb), 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t r = lo; r < hi; ++r) {
                     if (any[size_t(r)]) continue;
                     const unsigned char* q = base + size_t(r) * rb;
                     unsigned char acc = 0;
                     for (size_t j = 0; j < rb; ++j) acc |= q[j];
                     any[size_t(r)] = acc != 0;
                   }
                 });
  }
  std::vector<int64_t> out;
  for (int64_t r = 0; r < nrows; ++r)
    if (any[size_t(r)]) out.push_back(r);
  return out;
}

std::vector<uint64_t> slot_versions(const std::vector<VarList>& slots, size_t t) {
  std::vector<uint64_t> v;
  for (const VarList& s : slots) v.push_back(s[t]->version);
  return v;
}

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

// One row of the rule: with the gradient sums (g non-null) or a zero gradient.
template <class T, class R, bool kDecay, bool kEma>
inline void run_row(const R& r, T* __restrict P, T* S0, T* S1, T* S2, T* __restrict E, int64_t base, int64_t width,
                    const T* g, const T* g2, const T* ga, const Pre<T>& pre) {
  auto elem = [&](int64_t i, T gi, T g2i, T gai) __attribute__((always_inline)) {
    T pi = P[i];
    if constexpr (kDecay) pi = pi - pi * pre.decay;
    r(i, pi, gi, g2i, gai, S0, S1, S2);
    P[i] = pi;
    if constexpr (kEma) E[i] = pre.ema_mom * E[i] + pre.ema_1m * pi;
  };
  if (g) {
    for (int64_t j = 0; j < width; ++j) elem(base + j, g[j], g2[j], ga[j]);
  } else {
    for (int64_t j = 0; j < width; ++j) elem(base + j, T(0), T(0), T(0));
  }
}

// Runs the rule on `visit` (sorted rows; all rows when null): touched rows (rows.rows, a sorted
// subset) with their sums, the others with a zero gradient.
template <class T, class R, bool kDecay, bool kEma>
void run_rows(const R& r, T* P, T* S0, T* S1, T* S2, T* E, int64_t nrows, int64_t width, const Rows<T>& rows,
              const std::vector<int64_t>* visit, const Pre<T>& pre) {
  const int64_t n = visit ? int64_t(visit->size()) : nrows;
  const int64_t grain_rows = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(width, 1));
  parallel_for(n, grain_rows, [&](int64_t lo, int64_t hi) {
    const int64_t first = visit ? (*visit)[size_t(lo)] : lo;
    size_t k = size_t(std::lower_bound(rows.rows.begin(), rows.rows.end(), first) - rows.rows.begin());
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t row = visit ? (*visit)[size_t(q)] : q;
      const int64_t base = row * width;
      if (k < rows.rows.size() && rows.rows[k] == row) {
        const size_t off = k * size_t(width);
        run_row<T, R, kDecay, kEma>(r, P, S0, S1, S2, E, base, width, rows.g.data() + off, rows.g2.data() + off,
                                    rows.ga.data() + off, pre);
        ++k;
      } else {
        run_row<T, R, kDecay, kEma>(r, P, S0, S1, S2, E, base, width, nullptr, nullptr, nullptr, pre);
      }
    }
  });
}

template <class T, class R> void run_var(const R& r, T* P, T* S0, T* S1, T* S2, T* E, int64_t nrows, int64_t width,
                                         const Rows<T>& rows, const std::vector<int64_t>* visit, const Pre<T>& pre,
                                         bool decay_on, bool ema_on) {
  if (!decay_on && !ema_on) run_rows<T, R, false, false>(r, P, S0, S1, S2, E, nrows, width, rows, visit, pre);
  else if (!ema_on) run_rows<T, R, true, false>(r, P, S0, S1, S2, E, nrows, width, rows, visit, pre);
  else if (!decay_on) run_rows<T, R, false, true>(r, P, S0, S1, S2, E, nrows, width, rows, visit, pre);
  else run_rows<T, R, true, true>(r, P, S0, S1, S2, E, nrows, width, rows, visit, pre);
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
                              std::to_string(n) +
                              ") [Op:" + (rule == Rule::Sgd ? "ResourceScatterSub" : "ResourceScatterAdd") + "]");
      if (!scatter && iv[i] >= n)  // unsorted_segment_sum drops negative ids
        throw InvalidArgument("segment_ids[" + std::to_string(i) + "] = " + std::to_string(iv[i]) +
                              " is out of range [0, " + std::to_string(n) + ") [Op:UnsortedSegmentSum]");
    }
  }
}

template <template <class> class RuleT>
void run_sparse(Rule rule, const VarList& vars, const std::vector<SparseRows>& grads, const std::vector<VarList>& slots,
                const Hyper& hyper, const StepOptions& o, const std::vector<std::shared_ptr<SparseRowState>>& states) {
  std::vector<std::vector<int64_t>> idx;
  check_sparse_args(rule, vars, grads, slots, idx);
  check_options("optimizer_sparse_step", vars, o);
  if (o.accumulators)
    throw InvalidArgument("optimizer_sparse_step: gradient accumulation densifies (pass the dense gradient)");
  if (o.clip == Clip::GlobalNorm)
    throw InvalidArgument("optimizer_sparse_step: global_clipnorm densifies (pass the dense gradient)");
  if (!states.empty() && states.size() != vars.size())
    throw InvalidArgument("optimizer_sparse_step: got " + std::to_string(states.size()) + " row states for " +
                          std::to_string(vars.size()) + " variables");
  for (const auto& st : states)
    if (!st) throw InvalidArgument("optimizer_sparse_step: a row state is None");
  std::vector<double> scales(vars.size(), 1.0);
  if (o.clip == Clip::Norm) {  // tf.clip_by_norm of the values: v * c / max(||v||, c)
    std::vector<Tensor> values;
    for (const SparseRows& g : grads) values.push_back(g.values);
    std::vector<double> ss = sum_squares(values, nullptr);
    for (size_t t = 0; t < ss.size(); ++t) scales[t] = o.clip_norm / std::max(std::sqrt(ss[t]), o.clip_norm);
  }
  const RuleT<float> rf(hyper);
  const RuleT<double> rd(hyper);
  std::vector<std::vector<uint64_t>> versions_before;  // prepare() below bumps them
  for (size_t t = 0; t < states.size(); ++t) versions_before.push_back(slot_versions(slots, t));
  Prepared pr = prepare(vars, slots, o);
  for (size_t t = 0; t < vars.size(); ++t) {
    const Tensor& v = vars[t]->value;
    const int64_t nrows = v.shape[0], width = nrows ? v.numel() / nrows : 0;
    const bool decay_on = !o.decay_mask.empty() && o.decay_mask[t] && o.decay != 0;
    const bool ema_on = o.ema != nullptr;
    const bool rows_only = rows_only_rule(rule) && !decay_on && !ema_on;
    SparseRowState* state = states.empty() ? nullptr : states[t].get();
    const bool live_mode = state && zero_fixed_rule(rule) && !decay_on && !ema_on;
    if (state && !live_mode) state->valid = false;
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
      std::vector<int64_t> visit;
      const std::vector<int64_t>* vp = nullptr;
      if (rows_only) {
        vp = &rows.rows;
      } else if (live_mode) {
        if (!state->valid || state->versions != versions_before[t]) {
          std::vector<const Tensor*> st;
          for (const VarList& s : slots) st.push_back(&s[t]->value);
          state->live = nonzero_rows(st, nrows, width);
          ++state->scans;
        }
        visit.reserve(state->live.size() + rows.rows.size());
        std::set_union(state->live.begin(), state->live.end(), rows.rows.begin(), rows.rows.end(),
                       std::back_inserter(visit));
        vp = &visit;
      }
      run_var<T>(r, ptr(pr.P[t]), ptr(pr.S[0][t]), ptr(pr.S[1][t]), ptr(pr.S[2][t]), ptr(pr.E[t]), nrows, width, rows,
                 vp, pre, decay_on, ema_on);
      if (state) state->rows_visited = vp ? int64_t(vp->size()) : nrows;
      if (live_mode) state->live = std::move(visit);
    };
    if (v.dtype == DType::Float32) go(float(0), rf);
    else go(double(0), rd);
  }
  pr.held.clear();
  for (size_t t = 0; t < states.size(); ++t) {  // after this step's writes: the versions it left
    const bool decay_on = !o.decay_mask.empty() && o.decay_mask[t] && o.decay != 0;
    if (zero_fixed_rule(rule) && !decay_on && !o.ema) {
      states[t]->valid = true;
      states[t]->versions = slot_versions(slots, t);
    }
  }
  if (o.ema && o.ema_overwrite) overwrite_with_ema(vars, *o.ema);
}

}  // namespace

bool sparse_step_supported(Rule rule) { return rule != Rule::Lamb && rule != Rule::Adafactor; }

bool sparse_step_rows_only(Rule rule) { return rows_only_rule(rule); }

void sparse_step(Rule rule, const VarList& vars, const std::vector<SparseRows>& grads,
                 const std::vector<VarList>& slots, const Hyper& h, const StepOptions& o,
                 const std::vector<std::shared_ptr<SparseRowState>>& states) {
  if (slots.size() != rule_slots(rule))
    throw InvalidArgument(std::string("optimizer_sparse_step: '") + rule_name(rule) + "' takes " +
                          std::to_string(rule_slots(rule)) + " slot lists, got " + std::to_string(slots.size()));
  switch (rule) {
    case Rule::Sgd: return run_sparse<SgdPlain>(rule, vars, grads, slots, h, o, states);
    case Rule::SgdMomentum: return run_sparse<SgdMomentum>(rule, vars, grads, slots, h, o, states);
    case Rule::SgdNesterov: return run_sparse<SgdNesterov>(rule, vars, grads, slots, h, o, states);
    case Rule::Rmsprop: return run_sparse<RmspropPlain>(rule, vars, grads, slots, h, o, states);
    case Rule::RmspropCentered: return run_sparse<RmspropCentered>(rule, vars, grads, slots, h, o, states);
    case Rule::RmspropMomentum: return run_sparse<RmspropMomentum>(rule, vars, grads, slots, h, o, states);
    case Rule::RmspropCenteredMomentum:
      return run_sparse<RmspropCenteredMomentum>(rule, vars, grads, slots, h, o, states);
    case Rule::Adam: return run_sparse<AdamPlain>(rule, vars, grads, slots, h, o, states);
    case Rule::AdamAmsgrad: return run_sparse<AdamAmsgrad>(rule, vars, grads, slots, h, o, states);
    case Rule::Adagrad: return run_sparse<Adagrad>(rule, vars, grads, slots, h, o, states);
    case Rule::Adadelta: return run_sparse<Adadelta>(rule, vars, grads, slots, h, o, states);
    case Rule::Adamax: return run_sparse<Adamax>(rule, vars, grads, slots, h, o, states);
    case Rule::Nadam: return run_sparse<Nadam>(rule, vars, grads, slots, h, o, states);
    case Rule::Ftrl:
      if (h.learning_rate_power == -0.5) return run_sparse<FtrlSqrt>(rule, vars, grads, slots, h, o, states);
      return run_sparse<FtrlPow>(rule, vars, grads, slots, h, o, states);
    case Rule::Lion: return run_sparse<Lion>(rule, vars, grads, slots, h, o, states);
    default:
      throw InvalidArgument(std::string("optimizer_sparse_step: no sparse kernel for rule '") + rule_name(rule) +
                            "' (densify the gradient)");
  }
}

}  // namespace optim
}  // namespace tg
