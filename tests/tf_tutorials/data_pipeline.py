"""After TF's "tf.data: Build TensorFlow input pipelines" guide (the deterministic parts)."""
import numpy as np
import tensorflow as tf

dataset = tf.data.Dataset.from_tensor_slices([8, 3, 0, 8, 2, 1])
for elem in dataset:
    print(elem.numpy())
print(dataset.reduce(0, lambda state, value: state + value).numpy())
print(dataset.element_spec)

features = np.arange(20, dtype="float32").reshape(10, 2)
labels = np.arange(10, dtype="int64") % 3
ds = tf.data.Dataset.from_tensor_slices((features, labels))
print(ds.element_spec)
for x, y in ds.map(lambda x, y: (x * 2.0, y)).filter(lambda x, y: y > 0).batch(3).take(2):
    print(x.numpy().tolist(), y.numpy().tolist())
print(ds.cardinality().numpy(), ds.batch(3).cardinality().numpy(), ds.batch(3, drop_remainder=True).cardinality().numpy())
print(list(ds.batch(4).unbatch().skip(7).as_numpy_iterator())[0][1])

inc = tf.data.Dataset.range(100)
dec = tf.data.Dataset.range(0, -100, -1)
zipped = tf.data.Dataset.zip((inc, dec))
batched = zipped.batch(4)
for batch in batched.take(2):
    print([arr.numpy().tolist() for arr in batch])

ds = tf.data.Dataset.range(100)
padded = ds.map(lambda x: tf.fill([tf.cast(x, tf.int32)], x)).padded_batch(4, padded_shapes=(None,))
for batch in padded.take(2):
    print(batch.numpy().tolist())

for i, x in tf.data.Dataset.range(3).repeat(2).enumerate(start=5):
    print(i.numpy(), x.numpy())
print(list(tf.data.Dataset.range(10).shard(num_shards=3, index=1).as_numpy_iterator()))


def gen():
    for i in range(4):
        yield i, [1.0] * i


g = tf.data.Dataset.from_generator(gen, output_signature=(tf.TensorSpec(shape=(), dtype=tf.int32),
                                                          tf.TensorSpec(shape=(None,), dtype=tf.float32)))
for a, b in g:
    print(a.numpy(), b.numpy().tolist())
d = tf.data.Dataset.from_tensor_slices({"a": [1, 2], "b": [[1.0, 2.0], [3.0, 4.0]]})
for e in d.batch(2):
    print(sorted(e), e["a"].numpy().tolist(), e["b"].numpy().tolist())
