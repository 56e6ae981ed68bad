// The Adam family: Adam, AdamW (Adam + decoupled decay), Adamax, Nadam: element-wise rules run by the
// shared driver (rules.h). Lamb (lamb.cpp) and Adafactor (adafactor.cpp) have their own passes.
#include "optim/pipeline.h"
#include "optim/rules.h"

namespace tg {
namespace optim {

bool step_adam_family(const std::string& kind, const VarList& vars, const std::vector<Tensor>& grads,
                   const std::vector<VarList>& slots, const std::vector<double>& h, const StepOptions& o) {
  if (kind == "adam") run_rule<AdamPlain>("Adam", vars, grads, slots, h, o);
  else if (kind == "adam_amsgrad") run_rule<AdamAmsgrad>("Adam", vars, grads, slots, h, o);
  else if (kind == "adamax") run_rule<Adamax>("Adamax", vars, grads, slots, h, o);
  else if (kind == "nadam") run_rule<Nadam>("Nadam", vars, grads, slots, h, o);
  else return false;
  return true;
}

}  // namespace optim
}  // namespace tg
