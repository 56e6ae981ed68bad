"""``keras.utils.timeseries_dataset_from_array`` and ``keras.utils.split_dataset``, returning
``tf.data.Dataset`` objects (tapegrad's ``tg.data``), as Keras 3 does with TensorFlow."""

import numpy as np

__all__ = ["timeseries_dataset_from_array", "split_dataset"]


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
    format="tf",
):
    """Batches of sliding windows over ``data`` (with ``targets[i]`` for the window starting at ``i``).

    >>> import numpy as np, tapegrad as tg
    >>> ds = tg.keras.utils.timeseries_dataset_from_array(np.arange(6), None, sequence_length=3, batch_size=2)
    >>> [b.numpy().tolist() for b in ds]
    [[[0, 1, 2], [1, 2, 3]], [[2, 3, 4], [3, 4, 5]]]
    """
    if format != "tf":
        raise NotImplementedError(
            f"timeseries_dataset_from_array(format={format!r}): tapegrad returns tf.data datasets only."
        )
    data = np.asarray(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= len(data):
            raise ValueError(
                f"`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {len(data)}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= len(data):
            raise ValueError(
                f"`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {len(data)}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: sampling_rate={sampling_rate}")
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: sequence_stride={sequence_stride}")
    if sequence_length <= 0:
        raise ValueError(f"`sequence_length` must be higher than 0. Received: sequence_length={sequence_length}")
    start_index = start_index or 0
    end_index = len(data) if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride) + start_index
    if shuffle:
        rng = np.random.default_rng(seed if seed is not None else np.random.randint(1_000_000))
        rng.shuffle(starts)
    idx = starts[:, None] + np.arange(sequence_length)[None, :] * sampling_rate
    windows = data[idx] if len(starts) else np.zeros((0, sequence_length) + data.shape[1:], data.dtype)
    from ... import data as tg_data

    if targets is not None:
        ds = tg_data.Dataset.from_tensor_slices((windows, np.asarray(targets)[starts]))
    else:
        ds = tg_data.Dataset.from_tensor_slices(windows)
    return ds.batch(batch_size) if batch_size is not None else ds


def _num_samples(dataset):
    if isinstance(dataset, (list, tuple)):
        return len(np.asarray(dataset[0]))
    if isinstance(dataset, dict):
        return len(np.asarray(next(iter(dataset.values()))))
    return len(np.asarray(dataset))


def _sizes(total, left_size, right_size):
    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. "
            "Received: left_size=None and right_size=None"
        )
    for name, v in (("left_size", left_size), ("right_size", right_size)):
        if v is not None and (v < 0 or (isinstance(v, float) and v > 1) or (isinstance(v, int) and v > total)):
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than {total}, or a float within "
                f"the range `[0, 1]`. Received: {name}={v}"
            )
    left = None if left_size is None else (round(left_size * total) if isinstance(left_size, float) else left_size)
    right = None if right_size is None else (round(right_size * total) if isinstance(right_size, float) else right_size)
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
            f"Received: left_size + right_size = {left + right} and total_size = {total}"
        )
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None, preferred_backend=None):
    """Splits arrays (or a tuple/dict of arrays, or an unbatched dataset) into two datasets: the first
    ``left_size`` samples and the last ``right_size`` (ints, or fractions of the total).

    >>> import numpy as np, tapegrad as tg
    >>> left, right = tg.keras.utils.split_dataset(np.arange(10), right_size=3)
    >>> [int(v) for v in right]
    [7, 8, 9]
    """
    from ... import data as tg_data

    if isinstance(dataset, tg_data.Dataset):
        items = list(dataset.as_numpy_iterator())
        total = len(items)
        order = np.arange(total)
        if shuffle:
            np.random.default_rng(seed).shuffle(order)
        left, right = _sizes(total, left_size, right_size)
        pick = [items[i] for i in order]

        def make(part):
            if not part:
                raise ValueError("A split of the dataset is empty.")
            first = part[0]
            if isinstance(first, tuple):
                return tg_data.Dataset.from_tensor_slices(
                    tuple(np.stack([p[j] for p in part]) for j in range(len(first)))
                )
            if isinstance(first, dict):
                return tg_data.Dataset.from_tensor_slices({k: np.stack([p[k] for p in part]) for k in first})
            return tg_data.Dataset.from_tensor_slices(np.stack(part))

        return make(pick[:left]), make(pick[total - right :])
    if isinstance(dataset, list):
        dataset = tuple(dataset)
    total = _num_samples(dataset)
    left, right = _sizes(total, left_size, right_size)
    order = np.arange(total)
    if shuffle:
        np.random.default_rng(seed).shuffle(order)

    def take(idx):
        if isinstance(dataset, tuple):
            return tuple(np.asarray(a)[idx] for a in dataset)
        if isinstance(dataset, dict):
            return {k: np.asarray(v)[idx] for k, v in dataset.items()}
        return np.asarray(dataset)[idx]

    return (
        tg_data.Dataset.from_tensor_slices(take(order[:left])),
        tg_data.Dataset.from_tensor_slices(take(order[total - right :])),
    )
