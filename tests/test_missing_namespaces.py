"""TF's namespaces that tapegrad does not implement raise NotImplementedError naming them (and are
AttributeErrors, so hasattr and getattr with a default behave as for any missing name); tf.dtypes
is TF's namespace over the top-level dtype objects."""

import numpy as np
import pytest

import tapegrad as tg

TF_MISSING = ["audio", "compat", "image", "io", "ragged", "sparse", "strings", "summary", "test", "xla"]
KERAS_MISSING = ["applications", "preprocessing", "wrappers"]


@pytest.mark.parametrize("name", TF_MISSING)
def test_missing_tf_namespace_says_so(name):
    with pytest.raises(NotImplementedError, match=rf"^tf\.{name} is not implemented in tapegrad\."):
        getattr(tg, name)
    assert not hasattr(tg, name)
    assert getattr(tg, name, None) is None
    with pytest.raises(AttributeError) as info:
        getattr(tg, name)
    assert info.value.name == name


@pytest.mark.parametrize("name", KERAS_MISSING)
def test_missing_keras_module_says_so(name):
    with pytest.raises(NotImplementedError, match=rf"^tf\.keras\.{name} is not implemented in tapegrad\."):
        getattr(tg.keras, name)
    assert not hasattr(tg.keras, name)


def test_every_keras_dataset_is_there():
    expected = [
        "boston_housing",
        "california_housing",
        "cifar10",
        "cifar100",
        "fashion_mnist",
        "imdb",
        "mnist",
        "reuters",
    ]
    assert sorted(tg.keras.datasets.__all__) == expected
    for name in expected:
        assert callable(getattr(tg.keras.datasets, name).load_data)


def test_keras_datasets_namespace_matches_keras():
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    theirs = {n for n in dir(keras.datasets) if not n.startswith("_")}
    assert theirs == set(tg.keras.datasets.__all__)
    for name in theirs:
        mod = getattr(keras.datasets, name)
        for fn in (n for n in dir(mod) if not n.startswith("_")):
            assert hasattr(getattr(tg.keras.datasets, name), fn), f"{name}.{fn}"


def test_other_missing_names_stay_plain_attribute_errors():
    for mod, name in ((tg, "imagee"), (tg.keras, "layer"), (tg.dtypes, "float31")):
        with pytest.raises(AttributeError, match=f"has no attribute '{name}'") as info:
            getattr(mod, name)
        assert not isinstance(info.value, NotImplementedError)


def test_from_import_of_a_missing_namespace_is_an_import_error():
    with pytest.raises(ImportError):
        exec("from tapegrad import image", {})


def test_dtypes_namespace_is_the_top_level_objects():
    for name in tg.dtypes.__all__:
        assert getattr(tg.dtypes, name) is getattr(tg, name), name
    assert tg.dtypes.as_dtype("float64") is tg.float64 is tg.dtypes.double
    y = tg.dtypes.cast(tg.constant([1.7, -2.2]), tg.dtypes.int32)
    assert y.dtype == tg.int32 and y.numpy().tolist() == [1, -2]
    z = tg.dtypes.complex(tg.constant([1.0]), tg.constant([2.0]))
    assert z.dtype == tg.dtypes.complex64 and z.numpy()[0] == np.complex64(1 + 2j)
    with pytest.raises(NotImplementedError, match=r"tf\.dtypes\.string .*numbers only"):
        tg.dtypes.string


def test_dtypes_namespace_matches_tf():
    tf = pytest.importorskip("tensorflow")
    for name in tg.dtypes.__all__:
        assert hasattr(tf.dtypes, name), name
        if isinstance(getattr(tf.dtypes, name), tf.dtypes.DType):
            assert getattr(tg.dtypes, name).name == getattr(tf.dtypes, name).name, name


@pytest.mark.parametrize(
    "ns, name",
    [
        ("layers", "RandomFlip"),
        ("layers", "TextVectorization"),
        ("layers", "IntegerLookup"),
        ("layers", "AdaptiveAveragePooling2D"),
        ("utils", "image_dataset_from_directory"),
        ("utils", "plot_model"),
    ],
)
def test_missing_keras_layers_and_utils_say_so(ns, name):
    mod = getattr(tg.keras, ns)
    with pytest.raises(NotImplementedError, match=rf"^tf\.keras\.{ns}\.{name} is not implemented in tapegrad\."):
        getattr(mod, name)
    assert not hasattr(mod, name)
    assert hasattr(mod, "Dense" if ns == "layers" else "to_categorical")
