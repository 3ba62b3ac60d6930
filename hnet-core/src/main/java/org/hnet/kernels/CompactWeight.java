package org.hnet.kernels;

// A weight w[N×K] (nn.Linear layout: N outputs, K inputs, row-major) stored in fewer bytes than
// float32, for inference. The products in Matmul that take one convert its values to float32 in
// registers and accumulate in float32.
//
// Formats:
//   BF16  the upper 16 bits of each float32 (rounded to nearest, ties to even): 2 bytes per weight,
//         8 bits of mantissa, the float32 exponent range.
//   INT8  symmetric groups of GROUP consecutive weights of a row: q = round(w / s) in [-127, 127]
//         with s = max|w| / 127 over the group (s = 0 for an all-zero group), w ≈ q · s. The last
//         group of a row is shorter when GROUP does not divide K. 1 + 4/GROUP bytes per weight.
//
// Why GROUP = 32: the error of a weight is at most s/2 = max|w|/254 of its group, so smaller groups
// follow the weights' scale more closely (an outlier spoils only its own 32 weights); the scales
// cost 4/GROUP bytes per weight, 12.5% at 32, the trade that llama.cpp's Q8_0 format makes for the
// same reason. In memory the kernels hold a row's groups in superblocks of VL groups (below), one
// lane per group, so that one vector of scales serves VL groups; files keep the row-major order.

/** A weight matrix in bfloat16 or in 8-bit groups with a float32 scale per group. */
public final class CompactWeight {
  /** The storage of a compact weight. */
  public enum Format {
    BF16,
    INT8
  }

  /** Weights per int8 group (consecutive along K within a row). */
  public static final int GROUP = 32;

  public final Format format;

  /** Rows (outputs). */
  public final int n;

  /** Columns (inputs, the reduction). */
  public final int k;

  // BF16 storage, in the layout the decode kernels read: per row, the first kv weights (kv = k
  // rounded down to a multiple of 2·VL) as ints in blocks of VL, int j of block b holding weight
  // b·2VL + j in its low half and weight b·2VL + VL + j in its high half, so that one int vector
  // gives two float vectors by a shift and by a mask, with no conversion across vector shapes (a
  // short→int widening per vector cost half of the decode throughput); the last k - kv weights of
  // each row as plain bit patterns in bf16Tail [n × (k - kv)].
  final int[] bf16Pairs; // [n × kv/2], BF16 only
  final short[] bf16Tail;
  final int kv;
  // INT8 storage, in the layout the decode kernels read. The first kq = k - k % GROUP weights of a
  // row (whole groups) go through the kernels' vectors, in superblocks of SB = VL groups: within a
  // superblock, byte i · SB + j holds weight i of its group j (i < GROUP, j < SB), so that vector
  // i holds weight i of SB groups and one vector of SB scales applies them all (a scale broadcast
  // per group and row, a shuffle and an fma, took a fifth of the batch-1 pass's time in cache,
  // 20.6 against 26.2 G weights/s on one Zen 4 core). The last
  // superblock of a row may be short, R = (kq / GROUP) % SB groups with byte i · R + j holding
  // weight i of group j (a vector load there reads SB - R bytes past it, multiplied by zeros).
  // The weights past kq (a partial group) stay in place, read one by one. The bytes are followed
  // by PAD unused ones, so that the last vector load of the last row stays in the array.
  //
  // The scales follow the order in which a batch-1 decode reads the rows: in slabs of SLAB rows
  // (the last slab may be shorter), each slab read as RUNS runs of q = (rows of the slab) / RUNS
  // consecutive rows, one pass reading row i of every run (rows i, i + q, i + 2q, i + 3q of the
  // slab). The scales of a pass lie together, superblock by superblock: SB scales (one vector,
  // zeros past a short superblock's groups) for each of its RUNS rows in run order, so that a pass
  // reads its 4 rows' scales as one stream. A slab's rows past RUNS · q (at most RUNS - 1, in the
  // last slab) keep their scale vectors row-major after the passes'. The scale vector of row r's
  // superblock b lies at scaleIndex(r, 0) + b · scaleStep(r). A partial group's scale is in
  // tailScales.
  final byte[] q8; // [n × k + PAD], INT8 only
  final int kq;
  final float[] scales; // [n × sbs · SB], in the decode order above, INT8 only
  final float[] tailScales; // [n], the scale of a row's partial group (k % GROUP > 0), INT8 only

  /** Groups per int8 superblock: the float lanes, one group per lane. */
  static final int SB = MatmulGemm.VL;

  /** Full superblocks per row, the groups of the short one (0 if none), superblocks per row. */
  final int sbFull, sbShort, sbs;

  /**
   * Floats per row of x permuted to the superblock layout ({@link #permuteX}): sbs · SB · GROUP.
   */
  final int kp;

  /**
   * Rows per slab of the int8 scale order, and runs per slab (the rows of one decode pass). 4 runs
   * of 16 rows: on 1,536-wide rows, 2 threads, 35.5 GB/s against 31.7 for 8 runs of 16 (medians of
   * 16 alternations in one process). Likely why: the 8-row loop spent a third of its instructions
   * on address arithmetic and checks, recomputing each row's second load address from the stack
   * (docs/performance-log.md, 2026-12-07, third session); 4 rows hold half the offsets.
   */
  static final int SLAB = 64, RUNS = 4;

  private static final int PAD = Math.max(8, SB);

  /** Reads row r's k bfloat16 bit patterns into out[0, k). */
  @FunctionalInterface
  public interface Bf16Rows {
    void read(int r, short[] out);
  }

  /** Writes the n×k int8 values, row-major, into out[0, n·k) (out may be longer). */
  @FunctionalInterface
  public interface Int8Values {
    void read(byte[] out);
  }

  /**
   * The weight from its bf16 rows, or from its int8 values in an array of {@link #padded} length
   * (kept, not copied) and its scales [n × groups(k)] row-major (copied into the decode order).
   */
  private CompactWeight(Format format, int n, int k, Bf16Rows bf16, byte[] q, float[] scales) {
    this.format = format;
    this.n = n;
    this.k = k;
    if (q == null) {
      this.kq = 0;
      this.q8 = null;
      this.scales = null;
      this.tailScales = null;
      this.sbFull = this.sbShort = this.sbs = this.kp = 0;
    } else {
      int g = groups(k);
      this.kq = k - k % GROUP;
      int gq = kq / GROUP;
      this.sbFull = gq / SB;
      this.sbShort = gq % SB;
      this.sbs = sbFull + (sbShort > 0 ? 1 : 0);
      this.kp = sbs * SB * GROUP;
      this.q8 = q;
      this.scales = new float[size(n, sbs * SB)];
      this.tailScales = new float[kq < k ? n : 0];
      byte[] row = new byte[kq];
      for (int r = 0; r < n; r++) {
        for (int j = 0; j < gq; j++) this.scales[scaleIndex(r, j)] = scales[r * g + j];
        if (kq < k) tailScales[r] = scales[r * g + gq];
        // the row's whole groups into the superblock layout, in place
        System.arraycopy(q, r * k, row, 0, kq);
        for (int b = 0; b < sbs; b++) {
          int qs = b < sbFull ? SB : sbShort, o = r * k + b * SB * GROUP;
          for (int j = 0; j < qs; j++)
            for (int i = 0, c = (b * SB + j) * GROUP; i < GROUP; i++)
              q[o + i * qs + j] = row[c + i];
        }
      }
    }
    if (bf16 == null) {
      this.kv = 0;
      this.bf16Pairs = null;
      this.bf16Tail = null;
    } else {
      int vl = MatmulGemm.VL, kv = k - k % (2 * vl), t = k - kv;
      this.kv = kv;
      this.bf16Pairs = new int[size(n, kv / 2)];
      this.bf16Tail = new short[size(n, t)];
      short[] row = new short[k];
      for (int r = 0; r < n; r++) {
        bf16.read(r, row);
        int dst = r * (kv / 2);
        for (int b = 0; b < kv; b += 2 * vl) {
          for (int j = 0; j < vl; j++)
            bf16Pairs[dst + b / 2 + j] = (row[b + j] & 0xFFFF) | (row[b + vl + j] << 16);
        }
        System.arraycopy(row, kv, bf16Tail, r * t, t);
      }
    }
  }

  /** Where the scale of row r's whole group g lies in {@link #scales}. */
  int scaleIndex(int r, int g) {
    int base = r / SLAB * SLAB, runRows = slabRows(base) / RUNS, i = r - base, P = sbs * SB;
    int b = g / SB, j = g % SB;
    if (i >= RUNS * runRows) return r * P + b * SB + j; // past the last pass of a short slab
    return base * P + ((i % runRows) * sbs + b) * SB * RUNS + i / runRows * SB + j;
  }

  /** How far apart the scale vectors of row r's consecutive superblocks lie. */
  int scaleStep(int r) {
    int base = r / SLAB * SLAB;
    return r - base < RUNS * (slabRows(base) / RUNS) ? SB * RUNS : SB;
  }

  /** Where weight (r, c) lies in {@link #q8}. */
  int qIndex(int r, int c) {
    if (c >= kq) return r * k + c;
    int g = c / GROUP, i = c % GROUP, b = g / SB, j = g % SB;
    return r * k + b * SB * GROUP + i * (b < sbFull ? SB : sbShort) + j;
  }

  /**
   * Rows m of x[M × k] from xOff into xp[M × kp] from 0, in the superblock layout of the weights:
   * xp[m · kp + b · SB · GROUP + i · SB + j] = x(m, (b · SB + j) · GROUP + i), zero past the whole
   * groups. The int8 decode kernels read this, so that one float vector of it meets one converted
   * vector of each weight row.
   */
  void permuteX(float[] x, int xOff, int M, float[] xp) {
    int gq = kq / GROUP;
    for (int m = 0; m < M; m++) {
      int src = xOff + m * k, dst = m * kp;
      for (int g = 0; g < sbs * SB; g++) {
        int at = dst + g / SB * SB * GROUP + g % SB;
        if (g < gq) for (int i = 0; i < GROUP; i++) xp[at + i * SB] = x[src + g * GROUP + i];
        else for (int i = 0; i < GROUP; i++) xp[at + i * SB] = 0f;
      }
    }
  }

  /** The scale of (r, c): its whole group's, or the partial group's. */
  private float scaleOf(int r, int c) {
    return c >= kq ? tailScales[r] : scales[scaleIndex(r, c / GROUP)];
  }

  /** Rows in the slab that starts at row base. */
  int slabRows(int base) {
    return Math.min(SLAB, n - base);
  }

  /** The bf16 bit pattern of element (r, c). */
  private short bf16At(int r, int c) {
    if (c >= kv) return bf16Tail[r * (k - kv) + c - kv];
    int vl = MatmulGemm.VL, b = c / (2 * vl), i = c % (2 * vl);
    int v = bf16Pairs[r * (kv / 2) + b * vl + i % vl];
    return (short) (i < vl ? v : v >>> 16);
  }

  /** Groups per row of an int8 weight with k columns. */
  public static int groups(int k) {
    return (k + GROUP - 1) / GROUP;
  }

  /** Reads row r's k float32 values into out[0, k). */
  @FunctionalInterface
  public interface FloatRows {
    void read(int r, float[] out);
  }

  /** w[n×k] from {@code off}, rounded to bfloat16. */
  public static CompactWeight bf16(float[] w, int off, int n, int k) {
    return bf16((r, out) -> System.arraycopy(w, off + r * k, out, 0, k), n, k);
  }

  /**
   * A weight [n×k] read row by row from {@code rows} (e.g. converted from a memory-mapped file),
   * rounded to bfloat16: nothing larger than a row is held on the way.
   */
  public static CompactWeight bf16(FloatRows rows, int n, int k) {
    size(n, k); // checks the dimensions
    float[] row = new float[k];
    Bf16Rows bits =
        (r, out) -> {
          rows.read(r, row);
          for (int c = 0; c < k; c++) out[c] = toBf16(row[c]);
        };
    return new CompactWeight(Format.BF16, n, k, bits, null, null);
  }

  /** w[n×k] from {@code off}, quantised to symmetric 8-bit groups. */
  public static CompactWeight int8(float[] w, int off, int n, int k) {
    return int8((r, out) -> System.arraycopy(w, off + r * k, out, 0, k), n, k);
  }

  /**
   * A weight [n×k] read row by row from {@code rows}, quantised to symmetric 8-bit groups: no
   * float32 copy of the whole weight is held on the way.
   */
  public static CompactWeight int8(FloatRows rows, int n, int k) {
    int g = groups(k);
    byte[] q = padded(n, k);
    float[] s = new float[size(n, g)];
    float[] w = new float[k];
    for (int r = 0; r < n; r++) {
      rows.read(r, w);
      for (int j = 0; j < g; j++) {
        int k0 = j * GROUP, k1 = Math.min(k, k0 + GROUP);
        float max = 0;
        for (int c = k0; c < k1; c++) max = Math.max(max, Math.abs(w[c]));
        float scale = max / 127f;
        s[r * g + j] = scale;
        for (int c = k0; c < k1; c++) {
          int v = scale == 0 ? 0 : Math.round(w[c] / scale);
          q[r * k + c] = (byte) Math.max(-127, Math.min(127, v));
        }
      }
    }
    return new CompactWeight(Format.INT8, n, k, null, q, s);
  }

  /** A bfloat16 weight from its bit patterns [n×k] (copied into the kernels' layout). */
  public static CompactWeight ofBf16(short[] bits, int n, int k) {
    if (bits.length != (long) n * k)
      throw new IllegalArgumentException(bits.length + " bf16 values for " + n + "×" + k);
    return new CompactWeight(
        Format.BF16, n, k, (r, out) -> System.arraycopy(bits, r * k, out, 0, k), null, null);
  }

  /**
   * A bfloat16 weight [n×k] read row by row from {@code rows} (e.g. from a memory-mapped file):
   * nothing larger than a row is held on the way to the kernels' layout.
   */
  public static CompactWeight ofBf16(Bf16Rows rows, int n, int k) {
    size(n, k); // checks the dimensions
    return new CompactWeight(Format.BF16, n, k, rows, null, null);
  }

  /**
   * An int8 weight from its values [n×k] (copied into the kernels' layout) and scales [n ×
   * groups(k)] (kept).
   *
   * @throws IllegalArgumentException when the sizes disagree, a value is -128 (outside the
   *     symmetric range), or a scale is negative, infinite or NaN
   */
  public static CompactWeight ofInt8(byte[] q, float[] scales, int n, int k) {
    if (q.length != (long) n * k)
      throw new IllegalArgumentException(q.length + " int8 values for " + n + "×" + k);
    return ofInt8(out -> System.arraycopy(q, 0, out, 0, q.length), scales, n, k);
  }

  /**
   * As {@link #ofInt8(byte[], float[], int, int)}, the values written by {@code values} straight
   * into the kernels' array (e.g. from a memory-mapped file): no other copy of them is held.
   */
  public static CompactWeight ofInt8(Int8Values values, float[] scales, int n, int k) {
    size(n, k); // checks the dimensions
    if (scales.length != (long) n * groups(k))
      throw new IllegalArgumentException(
          scales.length + " scales for " + n + " rows of " + groups(k) + " groups");
    for (float s : scales)
      if (!(s >= 0) || Float.isInfinite(s))
        throw new IllegalArgumentException("int8 scale " + s + " (must be finite and >= 0)");
    byte[] q = padded(n, k);
    values.read(q);
    for (int i = 0, e = n * k; i < e; i++)
      if (q[i] == Byte.MIN_VALUE) throw new IllegalArgumentException("int8 value -128");
    return new CompactWeight(Format.INT8, n, k, null, q, scales);
  }

  /** Element (r, c) as float32. */
  public float get(int r, int c) {
    return format == Format.BF16
        ? Float.intBitsToFloat(bf16At(r, c) << 16)
        : q8[qIndex(r, c)] * scaleOf(r, c);
  }

  /** All elements as float32 [n×k] into out from off. */
  public void toFloats(float[] out, int off) {
    for (int r = 0; r < n; r++) rowToFloats(r, 0, k, out, off + r * k, 1);
  }

  /** All elements as a new float32 array [n×k]. */
  public float[] toFloats() {
    float[] out = new float[size(n, k)];
    toFloats(out, 0);
    return out;
  }

  /** Elements (r, c0 .. c1-1) as float32 into out[off], out[off + stride], ... */
  void rowToFloats(int r, int c0, int c1, float[] out, int off, int stride) {
    if (format == Format.BF16) {
      for (int c = c0; c < c1; c++, off += stride)
        out[off] = Float.intBitsToFloat(bf16At(r, c) << 16);
    } else {
      for (int c = c0; c < c1; c++, off += stride) out[off] = q8[qIndex(r, c)] * scaleOf(r, c);
    }
  }

  /** The bfloat16 bit patterns [n×k] in row-major order (a new array); BF16 only. */
  public short[] bf16Bits() {
    if (bf16Pairs == null) throw new IllegalStateException("not a bf16 weight");
    short[] out = new short[size(n, k)], row = new short[k];
    for (int r = 0; r < n; r++) {
      bf16Row(r, row);
      System.arraycopy(row, 0, out, r * k, k);
    }
    return out;
  }

  /** Row r's bfloat16 bit patterns into out[0, k); BF16 only. */
  public void bf16Row(int r, short[] out) {
    if (bf16Pairs == null) throw new IllegalStateException("not a bf16 weight");
    java.util.Objects.checkIndex(r, n);
    for (int c = 0; c < k; c++) out[c] = bf16At(r, c);
  }

  /** Row r's int8 values into out[0, k); INT8 only. */
  public void int8Row(int r, byte[] out) {
    if (q8 == null) throw new IllegalStateException("not an int8 weight");
    java.util.Objects.checkIndex(r, n);
    int r0 = r * k;
    for (int b = 0; b < sbs; b++) {
      int qs = b < sbFull ? SB : sbShort, o = r0 + b * SB * GROUP;
      for (int j = 0; j < qs; j++)
        for (int i = 0, c = (b * SB + j) * GROUP; i < GROUP; i++) out[c + i] = q8[o + i * qs + j];
    }
    System.arraycopy(q8, r0 + kq, out, kq, k - kq);
  }

  /**
   * Bytes [from, from + len) of the int8 values in row-major order into dst[0, len), a row at a
   * time (a file writer's chunks); INT8 only.
   */
  public void int8RowMajor(long from, java.lang.foreign.MemorySegment dst, long len) {
    if (q8 == null) throw new IllegalStateException("not an int8 weight");
    rowMajorBytes(from, dst, len, k, this::int8Row);
  }

  /**
   * Bytes [from, from + len) of the bf16 bit patterns in row-major order, little-endian as
   * safetensors stores them, into dst[0, len), a row at a time; BF16 only.
   */
  public void bf16RowMajor(long from, java.lang.foreign.MemorySegment dst, long len) {
    if (bf16Pairs == null) throw new IllegalStateException("not a bf16 weight");
    short[] bits = new short[k];
    rowMajorBytes(
        from,
        dst,
        len,
        2 * k,
        (r, row) -> {
          bf16Row(r, bits);
          for (int c = 0; c < k; c++) {
            row[2 * c] = (byte) bits[c];
            row[2 * c + 1] = (byte) (bits[c] >> 8);
          }
        });
  }

  /** Writes row r's bytes into out. */
  @FunctionalInterface
  private interface RowBytes {
    void write(int r, byte[] out);
  }

  /** Bytes [from, from + len) of the n rows of rowBytes bytes that rows writes, into dst. */
  private void rowMajorBytes(
      long from, java.lang.foreign.MemorySegment dst, long len, int rowBytes, RowBytes rows) {
    java.util.Objects.checkFromIndexSize(from, len, (long) n * rowBytes);
    byte[] row = new byte[rowBytes];
    for (long p = from, end = from + len; p < end; ) {
      int r = (int) (p / rowBytes), c = (int) (p % rowBytes);
      int m = (int) Math.min(rowBytes - c, end - p);
      rows.write(r, row);
      java.lang.foreign.MemorySegment.copy(
          row, c, dst, java.lang.foreign.ValueLayout.JAVA_BYTE, p - from, m);
      p += m;
    }
  }

  /** The int8 values [n×k] in row-major order (a new array); INT8 only. */
  public byte[] int8Values() {
    if (q8 == null) throw new IllegalStateException("not an int8 weight");
    byte[] out = new byte[size(n, k)], row = new byte[k];
    for (int r = 0; r < n; r++) {
      int8Row(r, row);
      System.arraycopy(row, 0, out, r * k, k);
    }
    return out;
  }

  /** The int8 scales [n × groups(k)] in row-major order (a new array); INT8 only. */
  public float[] int8Scales() {
    if (scales == null) throw new IllegalStateException("not an int8 weight");
    int g = groups(k);
    float[] out = new float[size(n, g)];
    for (int r = 0; r < n; r++) for (int j = 0; j < g; j++) out[r * g + j] = scaleOf(r, j * GROUP);
    return out;
  }

  /**
   * Bytes a product streams to read this weight once: the values and one scale per group (int8
   * decode also reads the zero scales that pad a short superblock, none when VL divides the whole
   * groups of a row, as on every official size).
   */
  public long bytes() {
    return bytes(format, n, k);
  }

  /** Bytes an n × k weight in {@code format} streams when read once ({@link #bytes()}). */
  public static long bytes(Format format, int n, int k) {
    return format == Format.BF16 ? 2L * n * k : (long) n * k + 4L * n * groups(k);
  }

  /** float32 → bfloat16 bits, rounded to nearest, ties to even (NaN stays a quiet NaN). */
  public static short toBf16(float f) {
    int b = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) return (short) ((b >>> 16) | 0x40);
    return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
  }

  /** An array for n×k int8 values followed by PAD unused bytes. */
  private static byte[] padded(int n, int k) {
    return new byte[Math.addExact(size(n, k), PAD)];
  }

  private static int size(int n, int k) {
    if (n < 0 || k < 0) throw new IllegalArgumentException("negative dimension " + n + "×" + k);
    return Math.toIntExact((long) n * k);
  }
}
