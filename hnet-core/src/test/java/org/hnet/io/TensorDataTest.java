package org.hnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;

class TensorDataTest {
  /** Little-endian bytes of 16-bit patterns. */
  private static byte[] halves(int... bits) {
    byte[] b = new byte[2 * bits.length];
    for (int i = 0; i < bits.length; i++) {
      b[2 * i] = (byte) bits[i];
      b[2 * i + 1] = (byte) (bits[i] >> 8);
    }
    return b;
  }

  private static void assertBits(float expected, float actual, String what) {
    assertEquals(
        Float.floatToRawIntBits(expected),
        Float.floatToRawIntBits(actual),
        what + ": expected " + expected + ", got " + actual);
  }

  @Test
  void f16WidensExactlyIncludingSubnormalsInfAndNan() {
    int[] bits = {
      0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x8001, 0x3555, 0x7C00,
      0xFC00, 0x7E00
    };
    // Hand-computed: sign * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024.
    float[] expected = {
      0f,
      -0f,
      1f,
      -2f,
      65504f,
      Math.scalb(1f, -24),
      Math.scalb(1023f, -24),
      Math.scalb(1f, -14),
      -Math.scalb(1f, -24),
      Math.scalb(1365f, -12),
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY
    };
    float[] got = TensorData.ofBytes(DType.F16, new int[] {bits.length}, halves(bits)).toFloats();
    for (int i = 0; i < expected.length; i++) {
      assertBits(expected[i], got[i], String.format("f16 0x%04x", bits[i]));
    }
    assertTrue(Float.isNaN(got[12]));
  }

  @Test
  void bf16BitsAreReadAsStoredFromAnyElement() {
    int[] bits = {0x3F80, 0xC000, 0x7FC1, 0x0001, 0x8000};
    TensorData t = TensorData.ofBytes(DType.BF16, new int[] {5}, halves(bits));
    short[] out = new short[4];
    t.bf16Bits(1, out, 1, 3);
    assertArrayEquals(new short[] {0, (short) 0xC000, 0x7FC1, 0x0001}, out);
    HNetException e =
        assertThrows(
            HNetException.class,
            () -> TensorData.ofFloats(new int[] {2}, new float[2]).bf16Bits(0, out, 0, 2));
    assertTrue(e.getMessage().contains("F32") && e.getMessage().contains("BF16"), e.getMessage());
  }

  @Test
  void aViewOfFloatsIsWrittenAsACopyWouldBe(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    float[] v = {1.5f, -2f, Float.NaN, 1e-40f, Float.NEGATIVE_INFINITY, 3f};
    TensorData view = TensorData.viewOfFloats(new int[] {2, 3}, v);
    java.nio.file.Path f = dir.resolve("v.safetensors");
    SafeTensors.write(f, java.util.Map.of("w", view), java.util.Map.of());
    TensorData back = SafeTensors.read(f).get("w");
    assertEquals(DType.F32, back.dtype());
    assertArrayEquals(new int[] {2, 3}, back.shape());
    assertEquals(-1, TensorData.ofFloats(new int[] {2, 3}, v).segment().mismatch(back.segment()));
    // a view, not a copy (on a little-endian machine, as every JVM here is)
    v[0] = 7f;
    assertEquals(7f, view.toFloats()[0]);
    assertThrows(IllegalArgumentException.class, () -> TensorData.viewOfFloats(new int[] {4}, v));
  }

  @Test
  void aRangeOfFloatsIsConvertedAsTheWholeTensorIs() {
    int[] bits = {0x3F80, 0xC000, 0x0001, 0x7F80, 0x8000, 0x4049};
    for (DType d : new DType[] {DType.BF16, DType.F16}) {
      TensorData t = TensorData.ofBytes(d, new int[] {2, 3}, halves(bits));
      float[] all = t.toFloats(), row = new float[4];
      t.floats(3, row, 1, 3);
      assertArrayEquals(new float[] {0, all[3], all[4], all[5]}, row, 0f, d.toString());
    }
    float[] f = {1.5f, -2f, 3.25f, 1e-30f};
    float[] out = new float[2];
    TensorData.ofFloats(new int[] {4}, f).floats(2, out, 0, 2);
    assertArrayEquals(new float[] {3.25f, 1e-30f}, out, 0f);
    HNetException e =
        assertThrows(
            HNetException.class,
            () -> TensorData.ofBytes(DType.I8, new int[] {2}, new byte[2]).floats(0, out, 0, 2));
    assertTrue(e.getMessage().contains("I8"), e.getMessage());
  }

  @Test
  void bf16IsTheUpperHalfOfFloat32() {
    int[] bits = {
      0x3F80, 0xC040, 0x4049, 0x8000, 0x0001, 0x007F, 0x0080, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0
    };
    float[] expected = {
      1f,
      -3f,
      3.140625f,
      -0f,
      Math.scalb(1f, -133),
      Math.scalb(127f, -133),
      Math.scalb(1f, -126),
      Math.scalb(255f, 120),
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY
    };
    float[] got = TensorData.ofBytes(DType.BF16, new int[] {bits.length}, halves(bits)).toFloats();
    for (int i = 0; i < expected.length; i++) {
      assertBits(expected[i], got[i], String.format("bf16 0x%04x", bits[i]));
    }
    assertTrue(Float.isNaN(got[10]));
  }

  @Test
  void f64RoundsToNearestFloat() {
    double[] v = {1.0 / 3, 1e300, -1e-50, Double.NaN, 16777217.0, Double.MIN_NORMAL};
    byte[] b = new byte[8 * v.length];
    MemorySegment.copy(v, 0, MemorySegment.ofArray(b), TensorData.F64_LE, 0, v.length);
    float[] got = TensorData.ofBytes(DType.F64, new int[] {2, 3}, b).toFloats();
    assertBits(0.33333334f, got[0], "1/3");
    assertBits(Float.POSITIVE_INFINITY, got[1], "1e300");
    assertBits(-0f, got[2], "-1e-50");
    assertTrue(Float.isNaN(got[3]));
    assertBits(16777216f, got[4], "2^24+1 (ties to even)");
    assertBits(0f, got[5], "double min normal");
  }

  @Test
  void integerDtypesConvertToLongsAndFloats() {
    TensorData i8 = TensorData.ofBytes(DType.I8, new int[] {3}, new byte[] {-128, -1, 127});
    assertArrayEquals(new long[] {-128, -1, 127}, i8.toLongs());
    assertArrayEquals(new float[] {-128, -1, 127}, i8.toFloats());
    TensorData u8 = TensorData.ofU8(new int[] {3}, new byte[] {0, (byte) 200, (byte) 255});
    assertArrayEquals(new long[] {0, 200, 255}, u8.toLongs());
    assertArrayEquals(new float[] {0, 200, 255}, u8.toFloats());
    assertArrayEquals(new byte[] {0, (byte) 200, (byte) 255}, u8.toU8());
    TensorData i16 = TensorData.ofBytes(DType.I16, new int[] {2}, halves(0x8000, 0x7FFF));
    assertArrayEquals(new long[] {-32768, 32767}, i16.toLongs());
    TensorData i32 = TensorData.ofInts(new int[] {2}, new int[] {Integer.MIN_VALUE, 5});
    assertArrayEquals(new long[] {Integer.MIN_VALUE, 5}, i32.toLongs());
    assertArrayEquals(new float[] {-2147483648f, 5}, i32.toFloats());
    TensorData i64 = TensorData.ofLongs(new int[] {2}, new long[] {(1L << 53) + 1, -9});
    assertArrayEquals(new long[] {(1L << 53) + 1, -9}, i64.toLongs());
    assertArrayEquals(new float[] {9.007199e15f, -9}, i64.toFloats());
    TensorData bool = TensorData.ofBytes(DType.BOOL, new int[] {3}, new byte[] {0, 1, 1});
    assertArrayEquals(new long[] {0, 1, 1}, bool.toLongs());
    assertArrayEquals(new float[] {0, 1, 1}, bool.toFloats());
    assertArrayEquals(new byte[] {0, 1, 1}, bool.toU8());
  }

  @Test
  void factoriesKeepShapeAndCopyTheirInput() {
    float[] data = {1, 2, 3, 4, 5, 6};
    TensorData t = TensorData.ofFloats(new int[] {2, 3}, data);
    data[0] = 99;
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloats());
    assertArrayEquals(new int[] {2, 3}, t.shape());
    assertEquals(6, t.numel());
    t.shape()[0] = 7;
    assertArrayEquals(new int[] {2, 3}, t.shape());
    assertEquals("F32[2, 3]", t.toString());
    assertEquals(DType.F32, t.dtype());
    assertEquals(4, DType.F32.bytes());
    assertEquals(2, DType.BF16.bytes());
    assertThrows(
        IllegalArgumentException.class, () -> TensorData.ofFloats(new int[] {2, 2}, new float[3]));
    assertThrows(
        IllegalArgumentException.class,
        () -> TensorData.ofBytes(DType.I32, new int[] {2}, new byte[7]));
  }

  @Test
  void wrongConversionsAreUserErrors() {
    TensorData f = TensorData.ofFloats(new int[] {1}, new float[] {1});
    assertTrue(assertThrows(HNetException.class, f::toLongs).getMessage().contains("F32"));
    assertThrows(HNetException.class, f::toU8);
    assertThrows(HNetException.class, TensorData.ofInts(new int[] {1}, new int[] {1})::toU8);
  }
}
