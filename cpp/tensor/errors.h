// The engine's exceptions. bindings/ maps each to the Python exception TF raises for the same fault.
#pragma once
#include <stdexcept>
#include <string>

namespace tg {

// tf.errors.InvalidArgumentError: bad shapes, mismatched dtypes, bad axes.
struct InvalidArgument : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// TypeError: a value of the wrong kind.
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// ValueError.
struct ValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// RuntimeError: misuse of a tape.
struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// tf.errors.ResourceExhaustedError: an allocation that cannot be served (TF's "OOM when allocating").
struct ResourceExhausted : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// LookupError: a float op without a registered gradient.
struct LookupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace tg
