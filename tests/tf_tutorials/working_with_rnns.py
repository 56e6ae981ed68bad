"""After Keras's "Working with RNNs" guide: Embedding + LSTM/GRU/SimpleRNN layers, return_sequences
and return_state, passing states as initial_state, Bidirectional wrappers, masking with
Embedding(mask_zero=True) on padded sequences, and a small sequence classifier trained by fit."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.default_rng(5)


def fix_weights(model, scale=0.3):
    model.set_weights([rng.normal(0, scale, w.shape).astype("float32") for w in model.get_weights()])


model = keras.Sequential()
model.add(keras.Input(shape=(None,), dtype="int32"))
model.add(layers.Embedding(input_dim=20, output_dim=4))
model.add(layers.LSTM(6))
model.add(layers.Dense(3))
print("lstm model params:", model.count_params(), "output:", model.output_shape)
fix_weights(model)
tokens = rng.integers(1, 20, size=(2, 7)).astype("int32")
print("lstm model out:", np.round(model(tokens).numpy(), 5).tolist())

# return_sequences: GRU stacked on SimpleRNN
model = keras.Sequential([keras.Input(shape=(None,), dtype="int32"), layers.Embedding(20, 4),
                          layers.GRU(5, return_sequences=True), layers.SimpleRNN(3), layers.Dense(2)])
print("gru/simple_rnn params:", model.count_params(), [layer.output.shape for layer in model.layers])
fix_weights(model)
print("gru model out:", np.round(model(tokens).numpy(), 5).tolist())

# return_state and initial_state: an encoder-decoder
encoder_vocab, decoder_vocab = 12, 9
encoder_input = layers.Input(shape=(None,))
encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=4)(encoder_input)
output, state_h, state_c = layers.LSTM(5, return_state=True, name="encoder")(encoder_embedded)
encoder_state = [state_h, state_c]
decoder_input = layers.Input(shape=(None,))
decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=4)(decoder_input)
decoder_output = layers.LSTM(5, name="decoder")(decoder_embedded, initial_state=encoder_state)
output = layers.Dense(3)(decoder_output)
seq2seq = keras.Model([encoder_input, decoder_input], output)
print("seq2seq params:", seq2seq.count_params())
fix_weights(seq2seq)
enc = rng.integers(0, encoder_vocab, (2, 6))
dec = rng.integers(0, decoder_vocab, (2, 4))
print("seq2seq out:", np.round(seq2seq([enc, dec]).numpy(), 5).tolist())

lstm = layers.LSTM(4, return_sequences=True, return_state=True)
seq, h, c = lstm(tf.constant(rng.normal(size=(2, 3, 2)).astype("float32")))
print("return_state shapes:", seq.shape, h.shape, c.shape)
print("last step equals h:", bool(np.allclose(seq.numpy()[:, -1], h.numpy())))

# Bidirectional
model = keras.Sequential([keras.Input(shape=(5, 3)), layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
                          layers.Bidirectional(layers.GRU(2)), layers.Dense(1)])
print("bidirectional params:", model.count_params(), "output shapes:",
      [layer.output.shape for layer in model.layers])
fix_weights(model)
seqs = rng.normal(size=(3, 5, 3)).astype("float32")
print("bidirectional out:", np.round(model(seqs).numpy(), 5).tolist())

# masking: padded sequences with mask_zero
raw_inputs = [[7, 3, 9], [4, 5, 8, 11, 2], [6, 1, 10, 14, 3, 5]]
padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")
print("padded:", padded_inputs.tolist())
embedding = layers.Embedding(input_dim=15, output_dim=3, mask_zero=True)
masked_output = embedding(padded_inputs)
print("mask:", embedding.compute_mask(padded_inputs).numpy().tolist())

model = keras.Sequential([keras.Input(shape=(None,), dtype="int32"),
                          layers.Embedding(input_dim=15, output_dim=3, mask_zero=True),
                          layers.LSTM(4), layers.Dense(1)])
fix_weights(model)
out_padded = model(padded_inputs).numpy()
out_first = model(np.array([raw_inputs[0]])).numpy()
print("masked out:", np.round(out_padded, 5).tolist())
print("padding ignored:", bool(np.allclose(out_padded[0], out_first[0], atol=1e-5)))

# a small classifier trained by fit
x = rng.integers(1, 15, size=(32, 6))
x[::3, 4:] = 0
y = (x.sum(axis=1) % 2).astype("float32")
model = keras.Sequential([keras.Input(shape=(None,), dtype="int32"),
                          layers.Embedding(15, 4, mask_zero=True),
                          layers.Bidirectional(layers.GRU(3)), layers.Dense(1, activation="sigmoid")])
fix_weights(model)
model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
print("loss:", [round(v, 5) for v in history.history["loss"]])
print("accuracy:", [round(v, 5) for v in history.history["accuracy"]])
