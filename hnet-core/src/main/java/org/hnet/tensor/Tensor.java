package org.hnet.tensor;

import java.util.Arrays;

/**
 * A thin float32 tensor: a {@code float[]}, an offset into it and a row-major shape. No strides, no
 * broadcasting: kernels index {@link #data} directly with explicit arithmetic.
 */
public final class Tensor {
  public final float[] data;
  public final int offset;
  private final int[] shape;

  public Tensor(float[] data, int offset, int... shape) {
    long n = numel(shape);
    if (offset < 0 || offset + n > data.length) {
      throw new IllegalArgumentException(
          "tensor of shape "
              + Arrays.toString(shape)
              + " at offset "
              + offset
              + " does not fit an array of "
              + data.length);
    }
    this.data = data;
    this.offset = offset;
    this.shape = shape.clone();
  }

  public static Tensor zeros(int... shape) {
    return new Tensor(new float[Math.toIntExact(numel(shape))], 0, shape);
  }

  public static Tensor of(float[] data, int... shape) {
    if (numel(shape) != data.length) {
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " needs "
              + numel(shape)
              + " values, got "
              + data.length);
    }
    return new Tensor(data, 0, shape);
  }

  public int[] shape() {
    return shape.clone();
  }

  public int dim(int i) {
    return shape[i < 0 ? shape.length + i : i];
  }

  public int rank() {
    return shape.length;
  }

  public int size() {
    return (int) numel(shape);
  }

  /** Copies the elements into a new array of exactly {@link #size()} values. */
  public float[] toArray() {
    return Arrays.copyOfRange(data, offset, offset + size());
  }

  public static long numel(int... shape) {
    long n = 1;
    for (int s : shape) {
      if (s < 0)
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      n *= s;
    }
    return n;
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape);
  }
}
