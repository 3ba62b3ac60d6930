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
  public final float[] data;

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
    this.weightDecay = weightDecay;
    this.stage = stage;
  }

  /** The gradient buffer, allocated (zeroed) on first use. */
  public float[] gradBuffer() {
    if (grad == null) grad = new float[data.length];
    return grad;
  }

  public int[] shape() {
    return shape.clone();
  }

  public int size() {
    return data.length;
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
