// SGD, RMSprop, Adagrad, Adadelta, Ftrl, Lion: element-wise rules run by the shared driver (rules.h).
#include "optim/pipeline.h"
#include "optim/rules.h"

namespace tg {
namespace optim {

bool step_sgd_adaptive(Rule rule, const VarList& vars, const std::vector<Tensor>& grads,
                       const std::vector<VarList>& slots, const Hyper& h, const StepOptions& o) {
  switch (rule) {
    case Rule::Sgd: run_rule<SgdPlain>("SGD", vars, grads, slots, h, o); return true;
    case Rule::SgdMomentum: run_rule<SgdMomentum>("SGD", vars, grads, slots, h, o); return true;
    case Rule::SgdNesterov: run_rule<SgdNesterov>("SGD", vars, grads, slots, h, o); return true;
    case Rule::Rmsprop: run_rule<RmspropPlain>("RMSprop", vars, grads, slots, h, o); return true;
    case Rule::RmspropCentered: run_rule<RmspropCentered>("RMSprop", vars, grads, slots, h, o); return true;
    case Rule::RmspropMomentum: run_rule<RmspropMomentum>("RMSprop", vars, grads, slots, h, o); return true;
    case Rule::RmspropCenteredMomentum:
      run_rule<RmspropCenteredMomentum>("RMSprop", vars, grads, slots, h, o);
      return true;
    case Rule::Adagrad: run_rule<Adagrad>("Adagrad", vars, grads, slots, h, o); return true;
    case Rule::Adadelta: run_rule<Adadelta>("Adadelta", vars, grads, slots, h, o); return true;
    case Rule::Ftrl:
      if (h.learning_rate_power == -0.5) run_rule<FtrlSqrt>("Ftrl", vars, grads, slots, h, o);
      else run_rule<FtrlPow>("Ftrl", vars, grads, slots, h, o);
      return true;
    case Rule::Lion: run_rule<Lion>("Lion", vars, grads, slots, h, o); return true;
    default: return false;
  }
}

}  // namespace optim
}  // namespace tg
