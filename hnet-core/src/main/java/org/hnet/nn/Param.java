package org.hnet.nn;

import java.util.Arrays;

/**
 * One trainable tensor under its official state-dict name. Carries what the optimizer needs
 * explicitly: its gradient buffer, whether weight decay applies, and the learning-rate multiplier
 * of the stage it belongs to.
 */
public final class Param {
  public final String name;
  private final int[] shape;

  /** The float32 values; null when the weight is held compact (inference only). */
  public final float[] data;

  /** The weight in bf16 or int8 (see {@link WeightFormat}); null when {@link #data} holds it. */
  public final org.hnet.kernels.CompactWeight compact;

  /** d loss / d data; allocated on first use by the trainer. */
  public float[] grad;

  /** False for biases, norm weights and pad vectors (the reference's group_params). */
  public final boolean weightDecay;

  /** The stage this parameter belongs to (-1: embeddings and LM head). */
  public final int stage;

  public Param(String name, int[] shape, float[] data, boolean weightDecay, int stage) {
    if (data.length != numel(shape)) {
      throw new IllegalArgumentException(
          name + ": " + data.length + " values for shape " + Arrays.toString(shape));
    }
    this.name = name;
    this.shape = shape.clone();
    this.data = data;
    this.compact = null;
    this.weightDecay = weightDecay;
    this.stage = stage;
  }

  /** A weight (out, in) held compact, for inference only. */
  Param(String name, org.hnet.kernels.CompactWeight compact, int stage) {
    this.name = name;
    this.shape = new int[] {compact.n, compact.k};
    this.data = null;
    this.compact = compact;
    this.weightDecay = true;
    this.stage = stage;
  }

  /** The values as float32: {@link #data}, or a new array converted from the compact form. */
  public float[] floats() {
    return data != null ? data : compact.toFloats();
  }

  /** Bytes that reading this parameter once streams (4 per value in float32). */
  public long bytes() {
    return compact != null ? compact.bytes() : 4L * data.length;
  }

  /** The gradient buffer, allocated (zeroed) on first use. */
  public float[] gradBuffer() {
    if (data == null)
      throw new org.hnet.HNetException(
          name
              + " is held in "
              + compact.format.name().toLowerCase(java.util.Locale.ROOT)
              + " for inference; training needs the model loaded with float32 weights");
    if (grad == null) grad = new float[data.length];
    return grad;
  }

  public int[] shape() {
    return shape.clone();
  }

  public int size() {
    return (int) numel(shape);
  }

  static long numel(int[] shape) {
    long n = 1;
    for (int s : shape) n *= s;
    return n;
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape);
  }
}
