"""TF 2.21's public names in the namespaces users reach first, checked against tapegrad's.

tests/tf_public_names.json was recorded once from a real TensorFlow 2.21 (see its "_how"). Each
name must exist in tapegrad or be listed in NOT_YET below with the reason it is missing; a listed
name that appears fails too, so the list only shrinks. The README's coverage figure is
`coverage()` below (run this file as a script to print it).
"""

import json
import pathlib

import pytest

import tapegrad as tg
import tapegrad.distribute  # noqa: F401  (bound on tg by its import; see CLASHES)

DATA = json.loads((pathlib.Path(__file__).parent / "tf_public_names.json").read_text())
NAMESPACES = DATA["namespaces"]

# One entry per TF 2.21 public name that tapegrad does not have yet, grouped by why.
# The test fails when a listed name appears (take it off the list) and when a TF name is
# neither here nor in tapegrad.
NOT_YET = {
    "tf": {
        # submodules not provided yet
        "audio",
        "bitwise",
        "compat",
        "distribute",
        "dtensor",
        "feature_column",
        "graph_util",
        "image",
        "io",
        "lite",
        "lookup",
        "mlir",
        "profiler",
        "quantization",
        "queue",
        "ragged",
        "raw_ops",
        "security",
        "sets",
        "sparse",
        "strings",
        "summary",
        "sysconfig",
        "test",
        "tools",
        "tpu",
        "types",
        "xla",
        # TF-1 graph machinery: tapegrad's tf.function traces are recordings of engine calls, not
        # tf.Graph objects with Operations, so graph objects, op-type gradient registries and
        # symbolic tf.gradients have nothing to act on (no_gradient: no op types to mark)
        "AggregationMethod",
        "CriticalSection",
        "DeviceSpec",
        "Graph",
        "Operation",
        "RegisterGradient",
        "TypeSpec",
        "check_pinned",
        "gradients",
        "guarantee_const",
        "hessians",
        "import_graph_def",
        "load_library",
        "load_op_library",
        "make_ndarray",
        "make_tensor_proto",
        "no_gradient",
        "nondifferentiable_batch_function",
        "register_tensor_conversion_function",
        "type_spec_from_value",
        "variable_creator_scope",
        # tensor kinds not supported yet: sparse, ragged, TensorArray, optional
        "NoneTensorSpec",
        "OptionalSpec",
        "RaggedTensor",
        "RaggedTensorSpec",
        "SparseTensor",
        "SparseTensorSpec",
        "TensorArraySpec",
        "ragged_fill_empty_rows",
        "ragged_fill_empty_rows_grad",
        # dtypes not supported: quantized, string, resource, variant
        "as_string",
        "bitcast",
        "fingerprint",
        "qint16",
        "qint32",
        "qint8",
        "quint16",
        "quint8",
        "resource",
        "string",
        "variant",
        # ops and helpers still to add (issue 11 part 4)
        "VariableAggregation",
        "VariableSynchronization",
        "approx_top_k",
        "batch_to_space",
        "conv",
        "conv2d_backprop_filter_v2",
        "conv2d_backprop_input_v2",
        "dynamic_partition",
        "dynamic_stitch",
        "edit_distance",
        "extract_volume_patches",
        "histogram_fixed_width",
        "histogram_fixed_width_bins",
        "matrix_square_root",
        "parallel_stack",
        "random_index_shuffle",
        "required_space_to_batch_paddings",
        "reverse_sequence",
        "saturate_cast",
        "space_to_batch",
        "space_to_batch_nd",
        "tensor_scatter_nd_max",
        "tensor_scatter_nd_min",
        "timestamp",
        "unique_with_counts",
    },
    "tf.keras.losses": {
        # still to add (issue 11)
        "Reduction",
    },
    "tf.keras.optimizers": {
        # still to add (issue 11)
        "MultiOptimizer",
        "Muon",
        "OptimizerMap",
        "ScheduleFreeAdamW",
        "legacy",
    },
    "tf.linalg": {
        # still to add (issue 11)
        "LinearOperator",
        "LinearOperatorAdjoint",
        "LinearOperatorBlockDiag",
        "LinearOperatorBlockLowerTriangular",
        "LinearOperatorCirculant",
        "LinearOperatorCirculant2D",
        "LinearOperatorCirculant3D",
        "LinearOperatorComposition",
        "LinearOperatorDiag",
        "LinearOperatorFullMatrix",
        "LinearOperatorHouseholder",
        "LinearOperatorIdentity",
        "LinearOperatorInversion",
        "LinearOperatorKronecker",
        "LinearOperatorLowRankUpdate",
        "LinearOperatorLowerTriangular",
        "LinearOperatorPermutation",
        "LinearOperatorScaledIdentity",
        "LinearOperatorToeplitz",
        "LinearOperatorTridiag",
        "LinearOperatorZeros",
        "eigh_tridiagonal",
        "experimental",
        "sqrtm",
    },
    "tf.math": {
        # still to add (issue 11)
        "accumulate_n",
        "approx_max_k",
        "approx_min_k",
        "sobol_sample",
    },
    "tf.nn": {
        # still to add (issue 11)
        "RNNCellDeviceWrapper",
        "RNNCellDropoutWrapper",
        "RNNCellResidualWrapper",
        "all_candidate_sampler",
        "approx_max_k",
        "approx_min_k",
        "atrous_conv2d_transpose",
        "batch_norm_with_global_normalization",
        "collapse_repeated",
        "compute_accidental_hits",
        "ctc_beam_search_decoder",
        "ctc_greedy_decoder",
        "ctc_unique_labels",
        "depthwise_conv2d_backprop_filter",
        "depthwise_conv2d_backprop_input",
        "dilation2d",
        "embedding_lookup_sparse",
        "erosion2d",
        "experimental",
        "fixed_unigram_candidate_sampler",
        "fractional_avg_pool",
        "fractional_max_pool",
        "isotonic_regression",
        "learned_unigram_candidate_sampler",
        "max_pool_with_argmax",
        "nce_loss",
        "safe_embedding_lookup_sparse",
        "sampled_softmax_loss",
        "space_to_batch",
        "with_space_to_batch",
    },
    "tf.random": {
        # still to add (issue 11)
        "Algorithm",
        "all_candidate_sampler",
        "create_rng_state",
        "experimental",
        "fixed_unigram_candidate_sampler",
        "fold_in",
        "gamma",
        "learned_unigram_candidate_sampler",
        "log_uniform_candidate_sampler",
        "poisson",
        "split",
        "stateless_binomial",
        "stateless_categorical",
        "stateless_gamma",
        "stateless_parameterized_truncated_normal",
        "stateless_poisson",
        "uniform_candidate_sampler",
    },
}


# Names tapegrad binds to something other than TF's: not counted as provided.
CLASHES = {
    "tf": {"distribute": "tapegrad.distribute is Horovod's API over MPI, not tf.distribute's strategies"},
}


def _has(module, namespace, name):
    return hasattr(module, name) and name not in CLASHES.get(namespace, {})


def _module(namespace):
    """tapegrad's module for a TF namespace (every recorded namespace has one)."""
    obj = tg
    for part in namespace.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def coverage():
    """(names tapegrad has, names recorded) over every namespace in the data file."""
    have = sum(_has(_module(ns), ns, n) for ns, names in NAMESPACES.items() for n in names)
    return have, sum(len(names) for names in NAMESPACES.values())


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_every_tf_name_exists_or_is_listed_as_not_yet(namespace):
    module = _module(namespace)
    not_yet = NOT_YET.get(namespace, set())
    unlisted = [n for n in NAMESPACES[namespace] if not _has(module, namespace, n) and n not in not_yet]
    assert not unlisted, f"{namespace}: missing from tapegrad and not in NOT_YET: {unlisted}"
    landed = sorted(n for n in not_yet if _has(module, namespace, n))
    assert not landed, f"{namespace}: now provided, take them off NOT_YET: {landed}"
    stray = sorted(not_yet - set(NAMESPACES[namespace]))
    assert not stray, f"{namespace}: NOT_YET names that TF 2.21 does not have: {stray}"


def test_not_yet_only_names_recorded_namespaces():
    assert set(NOT_YET) <= set(NAMESPACES)


if __name__ == "__main__":
    have, total = coverage()
    print(f"{have} of {total} TF 2.21 public names ({100 * have / total:.0f}%)")
    for ns in sorted(NAMESPACES):
        n = len(NAMESPACES[ns])
        print(f"  {ns}: {n - len(NOT_YET.get(ns, ()))} of {n}")
