"""After TensorFlow's "Save and load models" tutorial: checkpoints written during training by a
ModelCheckpoint callback (save_weights_only, per-epoch file names), EarlyStopping on a validation
loss, restoring weights into a fresh model (load_weights), and saving/loading a whole model in the
`.keras` format."""
import os
import tempfile

import numpy as np
import tensorflow as tf

rng = np.random.default_rng(4)
train_x = rng.random((64, 12)).astype("float32")
train_y = rng.integers(0, 3, 64)
test_x = rng.random((16, 12)).astype("float32")
test_y = rng.integers(0, 3, 16)
init = None


def create_model():
    global init
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(12,)),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dropout(0.0),
        tf.keras.layers.Dense(3),
    ])
    if init is None:
        init = [rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(init)
    model.compile(optimizer=tf.keras.optimizers.SGD(0.2),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
    return model


workdir = tempfile.mkdtemp()
model = create_model()
print("untrained:", [round(v, 5) for v in model.evaluate(test_x, test_y, verbose=0)])

checkpoint_path = os.path.join(workdir, "training_1", "cp.weights.h5")
cp_callback = tf.keras.callbacks.ModelCheckpoint(filepath=checkpoint_path, save_weights_only=True, verbose=0)
model.fit(train_x, train_y, epochs=3, batch_size=16, shuffle=False, validation_data=(test_x, test_y),
          callbacks=[cp_callback], verbose=0)
print("checkpoint files:", sorted(os.listdir(os.path.dirname(checkpoint_path))))
trained = [round(v, 5) for v in model.evaluate(test_x, test_y, verbose=0)]
print("trained:", trained)

fresh = create_model()
print("fresh:", [round(v, 5) for v in fresh.evaluate(test_x, test_y, verbose=0)])
fresh.load_weights(checkpoint_path)
print("restored:", [round(v, 5) for v in fresh.evaluate(test_x, test_y, verbose=0)])

# one checkpoint per epoch, with the epoch in the file name
checkpoint_path = os.path.join(workdir, "training_2", "cp-{epoch:04d}.weights.h5")
cp_callback = tf.keras.callbacks.ModelCheckpoint(filepath=checkpoint_path, save_weights_only=True,
                                                 save_freq="epoch", verbose=0)
os.makedirs(os.path.dirname(checkpoint_path))
model = create_model()
model.save_weights(checkpoint_path.format(epoch=0))
model.fit(train_x, train_y, epochs=4, batch_size=16, callbacks=[cp_callback], shuffle=False,
          validation_data=(test_x, test_y), verbose=0)
print("epoch checkpoints:", sorted(os.listdir(os.path.dirname(checkpoint_path))))
model = create_model()
model.load_weights(checkpoint_path.format(epoch=2))
print("epoch 2 restored:", [round(v, 5) for v in model.evaluate(test_x, test_y, verbose=0)])

# best-only checkpoint plus early stopping on val_loss
best_path = os.path.join(workdir, "best.weights.h5")
model = create_model()
callbacks = [tf.keras.callbacks.ModelCheckpoint(best_path, monitor="val_loss", save_best_only=True,
                                                save_weights_only=True),
             tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=0.02,
                                              restore_best_weights=True)]
history = model.fit(train_x, train_y, epochs=20, batch_size=16, shuffle=False, validation_data=(test_x, test_y),
                    callbacks=callbacks, verbose=0)
print("epochs run:", len(history.history["loss"]), "stopped_epoch:", callbacks[1].stopped_epoch)
print("val_loss:", [round(v, 5) for v in history.history["val_loss"]])
print("after early stop:", [round(v, 5) for v in model.evaluate(test_x, test_y, verbose=0)])
best = create_model()
best.load_weights(best_path)
print("best checkpoint:", [round(v, 5) for v in best.evaluate(test_x, test_y, verbose=0)])

# the whole model: architecture, weights and optimizer state
model_path = os.path.join(workdir, "my_model.keras")
model.save(model_path)
new_model = tf.keras.models.load_model(model_path)
print("loaded layers:", [type(layer).__name__ for layer in new_model.layers])
print("loaded params:", new_model.count_params())
print("loaded optimizer:", type(new_model.optimizer).__name__,
      round(float(new_model.optimizer.learning_rate.numpy()), 5))
print("loaded:", [round(v, 5) for v in new_model.evaluate(test_x, test_y, verbose=0)])
print("same predictions:", bool(np.allclose(new_model.predict(test_x, verbose=0), model.predict(test_x, verbose=0))))
print("# workdir", workdir)
