"""After TensorFlow's "Introduction to Tensors" and "Introduction to Variables" guides: ranks and
shapes, dtypes and casts (uint8 included), broadcasting, indexing and reshaping, tf.linspace,
ragged-free string-free basics, TensorSpec, devices (tf.device, tf.config.list_physical_devices),
and variables: names, assign, trainable, and their reprs."""
import numpy as np
import tensorflow as tf

rank_0_tensor = tf.constant(4)
print(rank_0_tensor)
rank_1_tensor = tf.constant([2.0, 3.0, 4.0])
print(rank_1_tensor)
rank_2_tensor = tf.constant([[1, 2], [3, 4], [5, 6]], dtype=tf.float16)
print(rank_2_tensor)
rank_3_tensor = tf.constant([[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]], [[10, 11, 12, 13, 14], [15, 16, 17, 18, 19]],
                             [[20, 21, 22, 23, 24], [25, 26, 27, 28, 29]]])
print("rank 3:", rank_3_tensor.shape, rank_3_tensor.dtype, rank_3_tensor.ndim)
print("np.array:", np.array(rank_2_tensor).dtype, rank_2_tensor.numpy().tolist())
print("scalar numpy:", repr(rank_0_tensor.numpy()), repr(tf.constant(2.5).numpy()))

a = tf.constant([[1, 2], [3, 4]])
b = tf.ones([2, 2], dtype=tf.int32)
print(tf.add(a, b), "\n")
print(tf.multiply(a, b), "\n")
print(tf.matmul(a, b), "\n")
c = tf.constant([[4.0, 5.0], [10.0, 1.0]])
print("max:", tf.reduce_max(c).numpy(), "argmax:", tf.math.argmax(c).numpy().tolist())
print("softmax:", np.round(tf.nn.softmax(c).numpy(), 5).tolist())

print("Type of every element:", rank_3_tensor.dtype)
print("Number of axes:", rank_3_tensor.ndim)
print("Shape of tensor:", rank_3_tensor.shape)
print("Elements along axis 0 of tensor:", rank_3_tensor.shape[0])
print("Elements along the last axis of tensor:", rank_3_tensor.shape[-1])
print("Total number of elements (3*2*5): ", tf.size(rank_3_tensor).numpy())
print("rank:", tf.rank(rank_3_tensor).numpy(), "shape:", tf.shape(rank_3_tensor).numpy().tolist())

print("First:", rank_1_tensor[0].numpy(), "Last:", rank_1_tensor[-1].numpy())
print("Everything but the last:", rank_1_tensor[:-1].numpy().tolist())
print("Second row:", rank_2_tensor[1, :].numpy().tolist(), "Second column:", rank_2_tensor[:, 1].numpy().tolist())
print(rank_3_tensor[:, :, 4])

x = tf.constant([[1], [2], [3]])
print(x.shape, x.shape.as_list())
reshaped = tf.reshape(x, [1, 3])
print(x.shape, reshaped.shape)
print(tf.reshape(rank_3_tensor, [-1]).numpy()[:8].tolist())
print(tf.reshape(rank_3_tensor, [3 * 2, 5]).shape, tf.reshape(rank_3_tensor, [3, -1]).shape)

# dtypes and casts
the_f64_tensor = tf.constant([2.2, 3.3, 4.4], dtype=tf.float64)
the_f16_tensor = tf.cast(the_f64_tensor, dtype=tf.float16)
the_u8_tensor = tf.cast(the_f16_tensor, dtype=tf.uint8)
print(the_u8_tensor)
pixels = tf.constant([[0, 128, 255]], dtype=tf.uint8)
print("uint8 pixels:", pixels.dtype, tf.cast(pixels, tf.float32).numpy().tolist())
print("wrapped:", tf.cast(tf.constant([-1, 256, 300]), tf.uint8).numpy().tolist())
print("dtype names:", tf.float32.name, tf.int64.name, tf.uint8.name, tf.bool.name, tf.float16.name)
print("as_dtype:", tf.as_dtype("int8"), tf.as_dtype(np.float64), tf.uint8.is_integer, tf.float16.is_floating)

# broadcasting
x = tf.constant([1, 2, 3])
y = tf.constant(2)
z = tf.constant([2, 2, 2])
print(tf.multiply(x, 2), x * y, x * z)
x = tf.reshape(x, [3, 1])
y = tf.range(1, 5)
print(tf.multiply(x, y))
print(tf.broadcast_to(tf.constant([1, 2, 3]), [3, 3]))

# linspace, conversion
print(tf.linspace(0.0, 1.0, 5))
print(tf.linspace(-2.0, 2.0, 3).numpy().tolist(), tf.linspace(tf.constant(1.0), 10.0, 4).dtype)
print(tf.convert_to_tensor([1, 2, 3]), tf.convert_to_tensor(np.array([1.5]), dtype_hint=tf.float32).dtype)
spec = tf.TensorSpec(shape=[None, 3], dtype=tf.float32, name="inputs")
print(spec)
print("compatible:", spec.is_compatible_with(tf.zeros([2, 3])), spec.is_compatible_with(tf.zeros([2, 4])))
print("spec shape:", spec.shape, spec.dtype, spec.name)

# devices
cpus = tf.config.list_physical_devices("CPU")
print("CPUs:", len(cpus), cpus[0].device_type)
with tf.device("CPU:0"):
    on_cpu = tf.constant([1.0, 2.0]) * 3
print("on cpu:", on_cpu.numpy().tolist())
print("# device string", on_cpu.device)

# variables
my_tensor = tf.constant([[1.0, 2.0], [3.0, 4.0]])
my_variable = tf.Variable(my_tensor)
bool_variable = tf.Variable([False, False, False, True])
print("Shape:", my_variable.shape)
print("DType:", my_variable.dtype)
print("As NumPy:", my_variable.numpy().tolist())
print("bool:", bool_variable.dtype, bool_variable.numpy().tolist())
print("A variable:", my_variable)
print("Viewed as a tensor:", tf.convert_to_tensor(my_variable))
print("Index of highest value:", tf.math.argmax(my_variable).numpy().tolist())
print("Copying and reshaping:", tf.reshape(my_variable, [1, 4]))
a = tf.Variable([2.0, 3.0])
a.assign([1, 2])
try:
    a.assign([1.0, 2.0, 3.0])
except Exception as e:
    print(f"{type(e).__name__} on wrong-shape assign")
b = tf.Variable(a)
a.assign([5, 6])
print(a.numpy().tolist(), b.numpy().tolist())
print(a.assign_add([2, 3]).numpy().tolist(), a.assign_sub([7, 9]).numpy().tolist())
a = tf.Variable(my_tensor, name="Mark")
b = tf.Variable(my_tensor + 1, name="Mark")
print("names:", a.name, b.name, "equal:", (a == b).numpy().tolist())
step_counter = tf.Variable(1, trainable=False)
print("trainable:", step_counter.trainable, a.trainable, step_counter.dtype)
with tf.device("CPU:0"):
    k = tf.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(tf.matmul(k, tf.constant([[1.0], [2.0], [3.0]])))
