// SGD, RMSprop, Adagrad, Adadelta, Ftrl, Lion: element-wise rules run by the shared driver (rules.h).
#include "optim/pipeline.h"
#include "optim/rules.h"

namespace tg {
namespace optim {

bool step_sgd_adaptive(const std::string& kind, const VarList& vars, const std::vector<Tensor>& grads,
                   const std::vector<VarList>& slots, const std::vector<double>& h, const StepOptions& o) {
  if (kind == "sgd") run_rule<SgdPlain>("SGD", vars, grads, slots, h, o);
  else if (kind == "sgd_momentum") run_rule<SgdMomentum>("SGD", vars, grads, slots, h, o);
  else if (kind == "sgd_nesterov") run_rule<SgdNesterov>("SGD", vars, grads, slots, h, o);
  else if (kind == "rmsprop") run_rule<RmspropPlain>("RMSprop", vars, grads, slots, h, o);
  else if (kind == "rmsprop_centered") run_rule<RmspropCentered>("RMSprop", vars, grads, slots, h, o);
  else if (kind == "rmsprop_momentum") run_rule<RmspropMomentum>("RMSprop", vars, grads, slots, h, o);
  else if (kind == "rmsprop_centered_momentum") run_rule<RmspropCenteredMomentum>("RMSprop", vars, grads, slots, h, o);
  else if (kind == "adagrad") run_rule<Adagrad>("Adagrad", vars, grads, slots, h, o);
  else if (kind == "adadelta") run_rule<Adadelta>("Adadelta", vars, grads, slots, h, o);
  else if (kind == "ftrl") {
    if (h[1] == -0.5) run_rule<FtrlSqrt>("Ftrl", vars, grads, slots, h, o);
    else run_rule<FtrlPow>("Ftrl", vars, grads, slots, h, o);
  } else if (kind == "lion") run_rule<Lion>("Lion", vars, grads, slots, h, o);
  else return false;
  return true;
}

}  // namespace optim
}  // namespace tg
