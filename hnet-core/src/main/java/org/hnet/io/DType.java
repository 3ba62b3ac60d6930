package org.hnet.io;

/**
 * Element types of stored tensors. {@link #name()} is the safetensors dtype string; torch storage
 * classes map onto the same set (FloatStorage = F32, LongStorage = I64, ...). All are little-endian
 * on disk; BOOL is one byte per element (0 or 1).
 */
public enum DType {
  F64(8, true),
  F32(4, true),
  F16(2, true),
  BF16(2, true),
  I64(8, false),
  I32(4, false),
  I16(2, false),
  I8(1, false),
  U8(1, false),
  BOOL(1, false);

  private final int bytes;
  private final boolean floating;

  DType(int bytes, boolean floating) {
    this.bytes = bytes;
    this.floating = floating;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  public boolean isFloatingPoint() {
    return floating;
  }

  /** The dtype named {@code name} in a safetensors header, or null if this reader has none. */
  static DType fromSafetensorsName(String name) {
    for (DType t : values()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }
}
