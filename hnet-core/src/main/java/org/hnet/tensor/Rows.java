package org.hnet.tensor;

/**
 * A 2-D row-strided view of a float array, the kernels' operand type: element (r, j) of a rows ×
 * cols matrix is {@code a()[at(r) + j]}, {@code at(r) = off + r·stride}. No broadcasting and no
 * checked element access: a kernel reads the fields into locals once and indexes the array itself.
 * The bounds are checked once, when the view is set.
 *
 * <p>Mutable so that a caller re-points one view per call instead of allocating one (a training
 * step and a decode step allocate nothing): a view belongs to one computation at a time, like the
 * arena that holds it.
 */
public final class Rows {
  private float[] a;
  private int off;
  private int rows;
  private int cols;
  private int stride;

  /** An empty view (0 × 0) to be {@link #set} later. */
  public Rows() {
    a = new float[0];
  }

  public Rows(float[] a, int off, int rows, int cols, int stride) {
    set(a, off, rows, cols, stride);
  }

  /** A dense rows × cols matrix at the start of {@code a}. */
  public static Rows of(float[] a, int rows, int cols) {
    return new Rows(a, 0, rows, cols, cols);
  }

  /**
   * Points this view at rows × cols of {@code a} from {@code off}, rows {@code stride} apart.
   *
   * @throws IllegalArgumentException when a dimension is negative, the stride is shorter than a row
   *     of several, or the last row ends past the array
   */
  public Rows set(float[] a, int off, int rows, int cols, int stride) {
    if (off < 0 || rows < 0 || cols < 0 || (rows > 1 && stride < cols)) {
      throw new IllegalArgumentException(
          "bad view: offset " + off + ", " + rows + " × " + cols + ", stride " + stride);
    }
    if (rows > 0 && off + (long) (rows - 1) * stride + cols > a.length) {
      throw new IllegalArgumentException(
          rows
              + " × "
              + cols
              + " rows "
              + stride
              + " apart from offset "
              + off
              + " do not fit an array of "
              + a.length);
    }
    this.a = a;
    this.off = off;
    this.rows = rows;
    this.cols = cols;
    this.stride = stride;
    return this;
  }

  /** Points this view at columns [from, from + n) of {@code whole} (same rows and stride). */
  public Rows cols(Rows whole, int from, int n) {
    if (from < 0 || n < 0 || from + n > whole.cols) {
      throw new IllegalArgumentException(
          "columns [" + from + ", " + (from + n) + ") of a view " + whole.cols + " wide");
    }
    return set(whole.a, whole.off + from, whole.rows, n, whole.stride);
  }

  /** Whether this view has at least rows × cols. */
  public boolean covers(int rows, int cols) {
    return this.rows >= rows && this.cols >= cols;
  }

  /**
   * This view, if it has at least rows × cols.
   *
   * @throws IllegalArgumentException naming {@code what} and both shapes otherwise
   */
  public Rows require(String what, int rows, int cols) {
    if (!covers(rows, cols)) {
      throw new IllegalArgumentException(
          what + " is " + this.rows + " × " + this.cols + ", needs " + rows + " × " + cols);
    }
    return this;
  }

  public float[] a() {
    return a;
  }

  public int off() {
    return off;
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  public int stride() {
    return stride;
  }

  /** Index of row r's first element in {@link #a()}. */
  public int at(int r) {
    return off + r * stride;
  }

  @Override
  public String toString() {
    return rows + " × " + cols + " view (offset " + off + ", stride " + stride + ")";
  }
}
