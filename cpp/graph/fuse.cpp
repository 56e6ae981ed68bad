// Fused elementwise nodes (See Note [Fused elementwise]).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "autodiff/tape.h"
#include "graph/trace.h"
#include "ops/ops.h"

namespace tg {
namespace trace {

// Note [Fused elementwise]
// A replay of a small elementwise program (the 100-op chain, a scientific code's formula and its
// gradient) spends almost all its time around the arithmetic: a node call, a kernel dispatch, a
// fresh tensor and its buffer per op. Graph::plan replaces every run of two or more consecutive
// top-level nodes that describe themselves as float arithmetic on tensors of one size (EwProgram:
// recorded ops::binary / ops::unary calls, and the unrolled gradient's seed, steps and result, whose
// rules are captured as the primitives they run: unroll.cpp) by one fused node. It runs the same
// ops with the kernels' own loops (kernels::float_loops), each over the whole tensor as the kernels
// do at these sizes (kFuseMaxElements), so its results have the kernels' bits; intermediates live in
// a per-thread arena, and only the slots a later node or the function's result reads become tensors.
// The fused node keeps the nodes it replaced and runs them instead when a tape or a forward
// accumulator is active (they must see every op), or when a value it reads is missing or not of
// the recorded dtype and size (a rule that gave no gradient: the walk's own handling then applies).

namespace {
std::shared_ptr<EwProgram> one_op(EwOp op, DType dtype, int64_t n) {
  auto p = std::make_shared<EwProgram>();
  p->dtype = dtype;
  p->n = n;
  p->ops.push_back(std::move(op));
  return p;
}
}  // namespace

std::shared_ptr<EwProgram> ew_binary(Op op, const TensorRef& a, const Tensor& av, const TensorRef& b, const Tensor& bv,
                                     const Tensor& out, int out_slot) {
  const int64_t n = out.numel();
  if (out_slot < 0 || !fusable(out.dtype, n) || av.dtype != out.dtype || bv.dtype != out.dtype ||
      !kernels::float_loops(op, out.dtype).vv)
    return nullptr;
  uint8_t mode;  // as run_binary chooses its loop
  if (av.shape == bv.shape) mode = 0;
  else if (bv.numel() == 1 && av.numel() == n) mode = 1;
  else if (av.numel() == 1 && bv.numel() == n) mode = 2;
  else return nullptr;
  return one_op(EwOp{EwOp::kBinary, op, mode, a, b, out_slot, out.shape, 0.0}, out.dtype, n);
}

std::shared_ptr<EwProgram> ew_unary(Op op, const TensorRef& a, const Tensor& av, const Tensor& out, int out_slot) {
  const int64_t n = out.numel();
  if (out_slot < 0 || !fusable(out.dtype, n) || av.dtype != out.dtype || av.numel() != n ||
      !kernels::float_loops(op, out.dtype).un)
    return nullptr;
  return one_op(EwOp{EwOp::kUnary, op, 0, a, TensorRef{}, out_slot, out.shape, 0.0}, out.dtype, n);
}

namespace {

struct Fused {
  DType dtype;
  int64_t n;
  size_t isz;
  struct Op_ {
    EwOp::Kind kind;
    uint8_t mode;
    kernels::EwLoops loops;
    int a = -1, b = -1;        // local index, or -1 for a constant (ca, cb)
    const void* ca = nullptr;  // a constant operand's data
    const void* cb = nullptr;
    int out;  // local index
    double value;
  };
  std::vector<Op_> ops;
  std::vector<Tensor> consts;  // kept alive for ca/cb
  struct Local {
    int slot;
    bool written = false;  // by the group
    bool output = false;   // written, and read after the group: becomes a tensor in the env
    bool ext = false;      // read (or accumulated into) before the group writes it: from the env
    Shape shape;
    size_t arena = 0;  // byte offset of an internal local's buffer
  };
  std::vector<Local> locals;
  size_t arena_bytes = 0;
  Block original;
};

// Buffers of the fused node running now on this thread, reached through a call that is not
// inlined (See run_step in unroll.cpp: each thread-local use is a call in a shared library).
struct Arena {
  std::vector<char> bytes, tmp;
  std::vector<const char*> cur;
  std::vector<char*> own;
  std::vector<char> full;  // per local: holds n elements (else a scalar operand, or undefined)
  std::vector<Tensor> out;
};
char* align64(char* p) { return reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63)); }

__attribute__((noinline)) Arena* arena() {
  thread_local Arena a;
  return &a;
}

// Runs the group; false when it must fall back to the original nodes (nothing written to env then).
bool run_fused_fast(const Fused& f, Env& env) {
  Arena& ar = *arena();
  const size_t nl = f.locals.size(), bytes = size_t(f.n) * f.isz;
  ar.cur.assign(nl, nullptr);
  ar.own.assign(nl, nullptr);
  ar.full.assign(nl, 0);
  ar.out.resize(nl);
  // 64-byte aligned, as every tensor buffer: gcc's vectorised loops peel by alignment, and a
  // peeled element goes through the scalar function (libmvec's vector variants may differ by ulps)
  if (ar.bytes.size() < f.arena_bytes + 64) ar.bytes.resize(f.arena_bytes + 64);
  if (ar.tmp.size() < bytes + 64) ar.tmp.resize(bytes + 64);
  char* base = align64(ar.bytes.data());
  char* tmp = align64(ar.tmp.data());
  struct Clear {
    Arena& ar;
    ~Clear() {
      for (Tensor& t : ar.out) t = Tensor();
    }
  } clear{ar};
  for (size_t i = 0; i < nl; ++i) {
    const Fused::Local& l = f.locals[i];
    if (l.ext) {
      const Tensor& t = env.t[size_t(l.slot)];
      if (t.defined()) {
        if (t.dtype != f.dtype || !t.has_data()) return false;
        ar.cur[i] = static_cast<const char*>(t.raw());
        ar.full[i] = t.numel() == f.n;
      }
    }
    if (!l.written) continue;
    if (l.output) {
      ar.out[i] = Tensor::empty(l.shape, f.dtype);
      ar.own[i] = static_cast<char*>(ar.out[i].raw());
    } else {
      ar.own[i] = base + l.arena;
    }
  }
  // an operand's size is checked where it is read: a full operand has n elements, a scalar one
  auto full = [&](int l) { return l < 0 || ar.full[size_t(l)]; };
  for (const Fused::Op_& op : f.ops) {
    const void* a = op.a >= 0 ? static_cast<const void*>(ar.cur[size_t(op.a)]) : op.ca;
    const void* b = op.b >= 0 ? static_cast<const void*>(ar.cur[size_t(op.b)]) : op.cb;
    char* out = ar.own[size_t(op.out)];
    switch (op.kind) {
      case EwOp::kBinary: {
        if (!a || !b) return false;
        if ((op.mode != 2 && !full(op.a)) || (op.mode != 1 && !full(op.b))) return false;
        (op.mode == 0 ? op.loops.vv : op.mode == 1 ? op.loops.vs : op.loops.sv)(a, b, out, f.n);
        break;
      }
      case EwOp::kUnary:
        if (!a || !full(op.a)) return false;
        op.loops.un(a, out, f.n);
        break;
      case EwOp::kCopy:
        if (!a || !full(op.a)) return false;
        if (a != out) std::memcpy(out, a, bytes);
        break;
      case EwOp::kFill:
        if (f.dtype == DType::Float32) std::fill_n(reinterpret_cast<float*>(out), f.n, float(op.value));
        else std::fill_n(reinterpret_cast<double*>(out), f.n, op.value);
        break;
      case EwOp::kAccumulate: {
        if (!a || !full(op.a)) return false;
        const char* acc = ar.cur[size_t(op.out)];
        if (!acc) {
          if (a != out) std::memcpy(out, a, bytes);
        } else if (acc == out) {  // the loops' pointers are __restrict: add into a temporary
          op.loops.vv(acc, a, tmp, f.n);
          std::memcpy(out, tmp, bytes);
        } else {
          if (!full(op.out)) return false;
          op.loops.vv(acc, a, out, f.n);
        }
        break;
      }
      case EwOp::kResult:
        if (a) {
          if (!full(op.a)) return false;
          std::memcpy(out, a, bytes);
        } else if (op.value != 0.0) {
          std::memset(out, 0, bytes);
        } else {
          return false;  // the walk's result node raises its error
        }
        break;
    }
    ar.cur[size_t(op.out)] = out;
    ar.full[size_t(op.out)] = 1;
  }
  for (size_t i = 0; i < nl; ++i)
    if (f.locals[i].output && ar.cur[i] == ar.own[i]) env.t[size_t(f.locals[i].slot)] = std::move(ar.out[i]);
  return true;
}

void run_fused(const Fused& f, Env& env) {
  if (tape::any_active() || !run_fused_fast(f, env)) run_block(f.original, env);
}

// Node i's program joins a group of (dtype, n).
bool joins(const Node& node, DType dtype, int64_t n) { return node.ew && node.ew->dtype == dtype && node.ew->n == n; }

}  // namespace

void fuse_elementwise(Graph& g) {
  static const bool on = [] {  // TAPEGRAD_TRACE_FUSE=0 turns fusion off (A/B)
    const char* v = std::getenv("TAPEGRAD_TRACE_FUSE");
    return !(v && v[0] == '0' && v[1] == '\0');
  }();
  if (!on) return;
  const size_t nn = g.nodes.size();
  std::vector<size_t> last(size_t(g.n_slots), 0);  // 1 + the last node that reads a slot
  for (size_t i = 0; i < nn; ++i)
    for (int s : g.nodes[i].uses) last[size_t(s)] = i + 1;
  for (const TensorRef& o : g.outputs)
    if (o.slot >= 0) last[size_t(o.slot)] = nn + 1;
  Block out;
  out.reserve(nn);
  for (size_t i = 0; i < nn;) {
    size_t j = i;
    if (g.nodes[i].ew)
      while (j < nn && joins(g.nodes[j], g.nodes[i].ew->dtype, g.nodes[i].ew->n)) ++j;
    if (j - i < 2) {
      out.push_back(std::move(g.nodes[i]));
      ++i;
      continue;
    }
    auto f = std::make_shared<Fused>();
    f->dtype = g.nodes[i].ew->dtype;
    f->n = g.nodes[i].ew->n;
    f->isz = itemsize(f->dtype);
    std::vector<int> local_of(size_t(g.n_slots), -1);
    auto local = [&](int slot) {
      int& l = local_of[size_t(slot)];
      if (l < 0) {
        l = int(f->locals.size());
        f->locals.push_back(Fused::Local{slot, false, false, false, Shape(), 0});
      }
      return l;
    };
    auto operand = [&](const TensorRef& r, int& idx, const void*& c) {
      if (r.slot >= 0) {
        idx = local(r.slot);
      } else if (r.value.defined() && r.value.has_data()) {
        f->consts.push_back(r.value);
        c = r.value.raw();
      }
    };
    for (size_t k = i; k < j; ++k)
      for (const EwOp& e : g.nodes[k].ew->ops) {
        Fused::Op_ op{
            e.kind,  e.mode,       kernels::float_loops(e.kind == EwOp::kAccumulate ? Op::Add : e.op, f->dtype),
            -1,      -1,           nullptr,
            nullptr, local(e.out), e.value};
        operand(e.a, op.a, op.ca);
        operand(e.b, op.b, op.cb);
        Fused::Local& l = f->locals[size_t(op.out)];
        l.written = true;
        l.shape = e.shape;
        f->ops.push_back(op);
      }
    std::vector<int> uses, defs;
    {  // the slots it reads from the env: read (or accumulated into) before the group writes them
      std::vector<char> written(f->locals.size(), 0);
      auto read = [&](int l) {
        if (l >= 0 && !written[size_t(l)]) {
          f->locals[size_t(l)].ext = true;
          const int s = f->locals[size_t(l)].slot;
          if (std::find(uses.begin(), uses.end(), s) == uses.end()) uses.push_back(s);
        }
      };
      for (const Fused::Op_& op : f->ops) {
        read(op.a);
        read(op.b);
        if (op.kind == EwOp::kAccumulate) read(op.out);
        written[size_t(op.out)] = 1;
      }
      // what the replaced nodes read that the group does not write (they run when it falls back)
      for (size_t k = i; k < j; ++k)
        for (int s : g.nodes[k].uses)
          if (local_of[size_t(s)] < 0 || !f->locals[size_t(local_of[size_t(s)])].written)
            if (std::find(uses.begin(), uses.end(), s) == uses.end()) uses.push_back(s);
    }
    for (Fused::Local& l : f->locals) {
      if (l.written && last[size_t(l.slot)] > j) {
        l.output = true;
        defs.push_back(l.slot);
      } else if (l.written) {
        l.arena = f->arena_bytes;
        f->arena_bytes += (size_t(f->n) * f->isz + 63) & ~size_t(63);
      }
    }
    for (size_t k = i; k < j; ++k) f->original.push_back(std::move(g.nodes[k]));
    const size_t count = j - i;
    out.push_back(Node{[f](Env& env) { run_fused(*f, env); },
                       "fused_elementwise(" + std::to_string(count) + ")",
                       std::move(uses),
                       {},
                       true,
                       std::move(defs),
                       -1,
                       nullptr});
    i = j;
  }
  g.nodes = std::move(out);
}

}  // namespace trace
}  // namespace tg
