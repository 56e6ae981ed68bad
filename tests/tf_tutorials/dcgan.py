"""After TensorFlow's "Deep Convolutional Generative Adversarial Network" (DCGAN) tutorial: a
generator (Dense, BatchNormalization, LeakyReLU, Reshape, Conv2DTranspose) and a discriminator
(Conv2D, LeakyReLU, Flatten, Dense) trained a few steps in a custom GradientTape loop with two
Adam optimizers, on fixed noise and fixed "real" images."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(7)
NOISE_DIM = 8


def make_generator_model():
    model = tf.keras.Sequential()
    model.add(tf.keras.Input(shape=(NOISE_DIM,)))
    model.add(tf.keras.layers.Dense(4 * 4 * 8, use_bias=False))
    model.add(tf.keras.layers.BatchNormalization())
    model.add(tf.keras.layers.LeakyReLU())
    model.add(tf.keras.layers.Reshape((4, 4, 8)))
    model.add(tf.keras.layers.Conv2DTranspose(4, (3, 3), strides=(1, 1), padding="same", use_bias=False))
    model.add(tf.keras.layers.BatchNormalization())
    model.add(tf.keras.layers.LeakyReLU())
    model.add(tf.keras.layers.Conv2DTranspose(1, (3, 3), strides=(2, 2), padding="same", use_bias=False,
                                              activation="tanh"))
    return model


def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(tf.keras.Input(shape=(8, 8, 1)))
    model.add(tf.keras.layers.Conv2D(4, (3, 3), strides=(2, 2), padding="same"))
    model.add(tf.keras.layers.LeakyReLU(negative_slope=0.2))
    model.add(tf.keras.layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"))
    model.add(tf.keras.layers.LeakyReLU(negative_slope=0.2))
    model.add(tf.keras.layers.Flatten())
    model.add(tf.keras.layers.Dense(1))
    return model


generator = make_generator_model()
discriminator = make_discriminator_model()
for model in (generator, discriminator):
    # kernels from numpy; biases stay zero and BatchNormalization keeps its initial statistics
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") if w.ndim > 1 else w
                       for w in model.get_weights()])
    print(model.name.split("_")[0], "output shape:", model.output_shape, "params:", model.count_params())

print("generator layers:", [type(layer).__name__ for layer in generator.layers])
generator.summary()
noise = tf.constant(rng.normal(size=(1, NOISE_DIM)).astype("float32"))
generated_image = generator(noise, training=False)
print("generated image shape:", generated_image.shape)
decision = discriminator(generated_image)
print("decision:", np.round(decision.numpy(), 5).tolist())

cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    real_loss = cross_entropy(tf.ones_like(real_output), real_output)
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss


def generator_loss(fake_output):
    return cross_entropy(tf.ones_like(fake_output), fake_output)


generator_optimizer = tf.keras.optimizers.Adam(1e-3)
discriminator_optimizer = tf.keras.optimizers.Adam(1e-3)
BATCH = 6
real_images = rng.uniform(-1, 1, (3 * BATCH, 8, 8, 1)).astype("float32")
noises = rng.normal(size=(3, BATCH, NOISE_DIM)).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices(real_images).batch(BATCH)


@tf.function
def train_step(images, noise):
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        generated_images = generator(noise, training=True)
        real_output = discriminator(images, training=True)
        fake_output = discriminator(generated_images, training=True)
        gen_loss = generator_loss(fake_output)
        disc_loss = discriminator_loss(real_output, fake_output)
    gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
    gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
    generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
    discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))
    return gen_loss, disc_loss


for epoch in range(2):
    for step, image_batch in enumerate(dataset):
        gen_loss, disc_loss = train_step(image_batch, noises[step])
        print(f"epoch {epoch} step {step} gen_loss {float(gen_loss):.5f} disc_loss {float(disc_loss):.5f}")

bn = generator.layers[1]
print("bn moving_mean[:4]:", np.round(bn.moving_mean.numpy()[:4], 5).tolist())
print("bn moving_variance[:4]:", np.round(bn.moving_variance.numpy()[:4], 5).tolist())
print("iterations:", int(generator_optimizer.iterations.numpy()), int(discriminator_optimizer.iterations.numpy()))
final = generator(noise, training=False)
print("final image sum:", round(float(tf.reduce_sum(final)), 4))
