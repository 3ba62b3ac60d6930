package org.hnet.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.hnet.HNetException;

/**
 * One named tensor as stored: a dtype, a row-major shape and exactly {@code numel * dtype.bytes()}
 * little-endian bytes. The bytes live either on the heap or in a memory-mapped file (then they stay
 * valid for as long as this object is reachable), or are made on demand by a {@link ByteSource} (a
 * weight held in another layout, written to a file without a copy of it); conversions to Java
 * arrays happen on demand. Instances are immutable and may be converted from several threads at
 * once.
 */
public final class TensorData {
  static final ValueLayout.OfFloat F32_LE =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfDouble F64_LE =
      ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfShort I16_LE =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfInt I32_LE =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfLong I64_LE =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** Largest array length every JVM accepts. */
  static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  private final DType dtype;
  private final int[] shape;
  private final long numel;
  private volatile MemorySegment bytes; // null until made, for a tensor with a source
  private final ByteSource source;
  // Prefix of error messages, e.g. "model.safetensors: tensor 'lm_head.weight'".
  private final String label;

  TensorData(DType dtype, int[] shape, MemorySegment bytes, String label) {
    this.dtype = dtype;
    this.shape = shape.clone();
    this.numel = numel(this.shape);
    this.label = label;
    if (bytes.byteSize() != numel * dtype.bytes()) {
      throw new IllegalArgumentException(
          label + ": " + bytes.byteSize() + " bytes for " + numel + " elements of " + dtype);
    }
    this.bytes = bytes;
    this.source = null;
  }

  private TensorData(DType dtype, int[] shape, ByteSource source, String label) {
    this.dtype = dtype;
    this.shape = shape.clone();
    this.numel = numel(this.shape);
    this.label = label;
    this.bytes = null;
    this.source = source;
  }

  /** Writes bytes [from, from + n) of a tensor's little-endian bytes into dst[0, n). */
  @FunctionalInterface
  public interface ByteSource {
    void copy(long from, MemorySegment dst, long n);
  }

  /**
   * A tensor whose bytes {@code source} makes when they are read: a file writer takes them a chunk
   * at a time, so that no copy of the whole tensor is made; the readers of this class make one.
   */
  public static TensorData ofSource(DType dtype, int[] shape, ByteSource source) {
    return new TensorData(dtype, shape, source, "tensor");
  }

  /** The number of bytes: numel · dtype.bytes(). */
  long byteSize() {
    return numel * dtype.bytes();
  }

  /** Bytes [from, from + n) into dst[0, n), from the held bytes or from the source. */
  void copyTo(long from, MemorySegment dst, long n) {
    MemorySegment b = bytes;
    if (b != null) MemorySegment.copy(b, from, dst, 0, n);
    else source.copy(from, dst, n);
  }

  public DType dtype() {
    return dtype;
  }

  public int[] shape() {
    return shape.clone();
  }

  public long numel() {
    return numel;
  }

  /** The raw little-endian bytes (a view, never copied; made once for a tensor with a source). */
  MemorySegment segment() {
    return bytes();
  }

  private synchronized MemorySegment made() {
    if (bytes == null) {
      MemorySegment b = heap(dtype, shape, Math.toIntExact(numel));
      source.copy(0, b, b.byteSize());
      bytes = b;
    }
    return bytes;
  }

  private MemorySegment bytes() {
    MemorySegment b = bytes;
    return b != null ? b : made();
  }

  String label() {
    return label;
  }

  /** The same bytes under another name in error messages. */
  TensorData relabel(String newLabel) {
    return source != null
        ? new TensorData(dtype, shape, source, newLabel)
        : new TensorData(dtype, shape, bytes, newLabel);
  }

  /**
   * Drops the memory pages of a memory-mapped tensor's bytes from this process (they are read again
   * from the file if touched); nothing for bytes that are not mapped. A loader that has copied a
   * tensor calls it, so that loading holds one copy of the weights, not two.
   */
  public void release() {
    MemorySegment b = bytes;
    if (b != null && b.isMapped()) b.unload();
  }

  /**
   * All elements as float32: F64 rounds to nearest, F16 and BF16 widen exactly (BF16 is the upper
   * half of a float32), integers and BOOL convert like a Java cast.
   */
  public float[] toFloats() {
    int n = arrayLength("float[]");
    float[] out = new float[n];
    switch (dtype) {
      case F32, F16, BF16, F64 -> floats(0, out, 0, n);
      default -> {
        // integer and BOOL tensors: through toLongs (rare on this path: an extra copy is fine)
        long[] l = toLongs();
        for (int i = 0; i < n; i++) out[i] = l[i];
      }
    }
    return out;
  }

  /**
   * Elements [from, from + len) of a floating-point tensor as float32 into out[off, off + len),
   * converted as {@link #toFloats} converts them: a weight can be read row by row, without a copy
   * of the whole tensor.
   */
  public void floats(long from, float[] out, int off, int len) {
    MemorySegment s = bytes();
    switch (dtype) {
      case F32 -> MemorySegment.copy(s, F32_LE, 4 * from, out, off, len);
      case F16 -> {
        for (int i = 0; i < len; i++) {
          out[off + i] = Float.float16ToFloat(s.get(I16_LE, 2 * (from + i)));
        }
      }
      case BF16 -> {
        for (int i = 0; i < len; i++) {
          out[off + i] = Float.intBitsToFloat(s.get(I16_LE, 2 * (from + i)) << 16);
        }
      }
      case F64 -> {
        for (int i = 0; i < len; i++) {
          out[off + i] = (float) s.get(F64_LE, 8 * (from + i));
        }
      }
      default ->
          throw new HNetException(
              label + " is " + dtype + ", but a floating-point tensor was expected");
    }
  }

  /** All elements of an integer or BOOL tensor as long (U8 unsigned, BOOL 0/1). */
  public long[] toLongs() {
    if (dtype.isFloatingPoint()) {
      throw new HNetException(
          label + " is " + dtype + ", but an integer or BOOL tensor was expected");
    }
    int n = arrayLength("long[]");
    long[] out = new long[n];
    MemorySegment s = bytes();
    switch (dtype) {
      case I64 -> MemorySegment.copy(s, I64_LE, 0, out, 0, n);
      case I32 -> {
        for (int i = 0; i < n; i++) {
          out[i] = s.get(I32_LE, 4L * i);
        }
      }
      case I16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = s.get(I16_LE, 2L * i);
        }
      }
      case I8 -> {
        for (int i = 0; i < n; i++) {
          out[i] = s.get(ValueLayout.JAVA_BYTE, i);
        }
      }
      case U8 -> {
        for (int i = 0; i < n; i++) {
          out[i] = s.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
        }
      }
      case BOOL -> {
        for (int i = 0; i < n; i++) {
          out[i] = s.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
        }
      }
      default -> throw new AssertionError(dtype);
    }
    return out;
  }

  /** The values of an I8 tensor. */
  public byte[] toI8() {
    if (dtype != DType.I8) {
      throw new HNetException(label + " is " + dtype + ", but an I8 tensor was expected");
    }
    arrayLength("byte[]");
    return bytes().toArray(ValueLayout.JAVA_BYTE);
  }

  /**
   * Elements [from, from + len) of a BF16 tensor as their bit patterns (no widening) into out[off,
   * off + len): a bf16 model's weights reach the kernels' layout without a float32 copy.
   */
  public void bf16Bits(long from, short[] out, int off, int len) {
    if (dtype != DType.BF16) {
      throw new HNetException(label + " is " + dtype + ", but a BF16 tensor was expected");
    }
    MemorySegment.copy(bytes(), I16_LE, 2 * from, out, off, len);
  }

  /** Elements [from, from + len) of an I8 tensor into out[off, off + len). */
  public void i8Values(long from, byte[] out, int off, int len) {
    if (dtype != DType.I8) {
      throw new HNetException(label + " is " + dtype + ", but an I8 tensor was expected");
    }
    MemorySegment.copy(bytes(), ValueLayout.JAVA_BYTE, from, out, off, len);
  }

  /** The raw bytes of a U8 or BOOL tensor. */
  public byte[] toU8() {
    if (dtype != DType.U8 && dtype != DType.BOOL) {
      throw new HNetException(label + " is " + dtype + ", but a U8 or BOOL tensor was expected");
    }
    arrayLength("byte[]");
    return bytes().toArray(ValueLayout.JAVA_BYTE);
  }

  /**
   * float32 values as a tensor without a copy of them (one on a big-endian machine): the array must
   * not change while the tensor is in use, e.g. until {@link SafeTensors#write} returns. For
   * writing weights that would not fit in memory twice.
   */
  public static TensorData viewOfFloats(int[] shape, float[] data) {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) return ofFloats(shape, data);
    bytes(DType.F32, shape, data.length); // checks the shape against the length
    return new TensorData(DType.F32, shape, MemorySegment.ofArray(data), "tensor");
  }

  public static TensorData ofFloats(int[] shape, float[] data) {
    MemorySegment s = heap(DType.F32, shape, data.length);
    MemorySegment.copy(data, 0, s, F32_LE, 0, data.length);
    return new TensorData(DType.F32, shape, s, "tensor");
  }

  public static TensorData ofLongs(int[] shape, long[] data) {
    MemorySegment s = heap(DType.I64, shape, data.length);
    MemorySegment.copy(data, 0, s, I64_LE, 0, data.length);
    return new TensorData(DType.I64, shape, s, "tensor");
  }

  public static TensorData ofInts(int[] shape, int[] data) {
    MemorySegment s = heap(DType.I32, shape, data.length);
    MemorySegment.copy(data, 0, s, I32_LE, 0, data.length);
    return new TensorData(DType.I32, shape, s, "tensor");
  }

  public static TensorData ofU8(int[] shape, byte[] data) {
    MemorySegment s = heap(DType.U8, shape, data.length);
    MemorySegment.copy(data, 0, s, ValueLayout.JAVA_BYTE, 0, data.length);
    return new TensorData(DType.U8, shape, s, "tensor");
  }

  /** Any dtype from its little-endian bytes (copied), e.g. F16/BF16 data prepared elsewhere. */
  public static TensorData ofBytes(DType dtype, int[] shape, byte[] littleEndian) {
    long n = numel(shape);
    if (littleEndian.length != n * dtype.bytes()) {
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " of "
              + dtype
              + " needs "
              + n * dtype.bytes()
              + " bytes, got "
              + littleEndian.length);
    }
    return new TensorData(dtype, shape, MemorySegment.ofArray(littleEndian.clone()), "tensor");
  }

  /** A zeroed heap segment for {@code length} elements, which must match the shape. */
  static MemorySegment heap(DType dtype, int[] shape, int length) {
    return MemorySegment.ofArray(new byte[bytes(dtype, shape, length)]);
  }

  /** The bytes of {@code length} elements of the shape, checked to match it and fit an array. */
  private static int bytes(DType dtype, int[] shape, int length) {
    long n = numel(shape);
    if (n != length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + n + " values, got " + length);
    }
    long size = n * dtype.bytes();
    if (size > MAX_ARRAY) {
      throw new IllegalArgumentException(
          "tensor of shape " + Arrays.toString(shape) + " exceeds 2 GiB of " + dtype);
    }
    return (int) size;
  }

  private int arrayLength(String what) {
    if (numel > MAX_ARRAY) {
      throw new HNetException(
          label + " has " + numel + " elements, more than a Java " + what + " can hold");
    }
    return (int) numel;
  }

  static long numel(int[] shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public String toString() {
    return dtype + Arrays.toString(shape);
  }
}
