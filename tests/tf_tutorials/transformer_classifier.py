"""After Keras's "Text classification with Transformer" example: a TransformerBlock layer
(MultiHeadAttention, feed-forward Sequential, LayerNormalization, residual adds, Dropout) and a
TokenAndPositionEmbedding layer, in a functional classifier trained by fit; plus the attention
scores that MultiHeadAttention returns and a causal mask."""
import numpy as np
import tensorflow as tf
import keras
from keras import layers

rng = np.random.default_rng(31)


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=False):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = tf.shape(x)[-1]
        positions = tf.range(start=0, limit=maxlen, delta=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


vocab_size, maxlen, embed_dim, num_heads, ff_dim = 30, 8, 8, 2, 16
inputs = layers.Input(shape=(maxlen,))
embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
x = embedding_layer(inputs)
transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim, rate=0.0)
x = transformer_block(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.0)(x)
x = layers.Dense(8, activation="relu")(x)
outputs = layers.Dense(2, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
print("params:", model.count_params(), "weights:", len(model.weights))
print("attention weights:", [tuple(w.shape) for w in transformer_block.att.weights])
model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") if "gamma" not in w.path and "beta" not in w.path
                   else w.numpy() for w in model.weights])

x_train = rng.integers(0, vocab_size, size=(40, maxlen))
y_train = (x_train[:, 0] < vocab_size // 2).astype("int64")
x_val = rng.integers(0, vocab_size, size=(16, maxlen))
y_val = (x_val[:, 0] < vocab_size // 2).astype("int64")
print("predictions before:", np.round(model.predict(x_val[:2], verbose=0), 5).tolist())
# SGD: Keras's Adam would treat the Embedding's IndexedSlices gradients slice by slice
model.compile(optimizer=keras.optimizers.SGD(0.2, momentum=0.5), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=8, epochs=3, shuffle=False, validation_data=(x_val, y_val),
                    verbose=0)
for key in sorted(history.history):
    print(key, [round(v, 4) for v in history.history[key]])

mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
query = rng.normal(size=(1, 4, 5)).astype("float32")
value = rng.normal(size=(1, 6, 5)).astype("float32")
out, scores = mha(query, value, return_attention_scores=True)
print("mha output:", out.shape, "scores:", scores.shape)
mha.set_weights([rng.normal(0, 0.4, w.shape).astype("float32") for w in mha.get_weights()])
out, scores = mha(query, value, return_attention_scores=True)
print("scores row sums:", np.round(scores.numpy().sum(axis=-1), 5).tolist())
print("mha out[0, 0]:", np.round(out.numpy()[0, 0], 5).tolist())
self_out, self_scores = mha(query, query, use_causal_mask=True, return_attention_scores=True)
print("causal scores head 0:", np.round(self_scores.numpy()[0, 0], 4).tolist())
ln = layers.LayerNormalization(axis=-1)
print("layer norm:", np.round(ln(tf.constant([[1.0, 2.0, 4.0]])).numpy(), 5).tolist())
