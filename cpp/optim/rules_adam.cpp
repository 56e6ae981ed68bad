// The Adam family: Adam, AdamW (Adam + decoupled decay), Adamax, Nadam: element-wise rules run by the
// shared driver (rules.h). Lamb (lamb.cpp) and Adafactor (adafactor.cpp) have their own passes.
#include "optim/pipeline.h"
#include "optim/rules.h"

namespace tg {
namespace optim {

bool step_adam_family(Rule rule, const VarList& vars, const std::vector<Tensor>& grads,
                      const std::vector<VarList>& slots, const Hyper& h, const StepOptions& o) {
  switch (rule) {
    case Rule::Adam: run_rule<AdamPlain>("Adam", vars, grads, slots, h, o); return true;
    case Rule::AdamAmsgrad: run_rule<AdamAmsgrad>("Adam", vars, grads, slots, h, o); return true;
    case Rule::Adamax: run_rule<Adamax>("Adamax", vars, grads, slots, h, o); return true;
    case Rule::Nadam: run_rule<Nadam>("Nadam", vars, grads, slots, h, o); return true;
    default: return false;
  }
}

}  // namespace optim
}  // namespace tg
