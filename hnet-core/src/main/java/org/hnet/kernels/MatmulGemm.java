package org.hnet.kernels;

// Dimension legend (the generic product every Matmul entry point reduces to):
//   C[rows × cols] (row stride ldc)  =  init  +  A[rows × red] · B[red × cols]
//   rows: output rows (M for the forward pass), cols: output columns (N), red: reduction (K).
//   A(i, r) = a[aOff + i*ars + r*aks]          (any two strides: x, dy, or dyᵀ)
//   B(r, j) = b[bOff + j*ldb + r] when bTrans  (w[N×K] read as wᵀ in the forward pass)
//           = b[bOff + r*ldb + j] otherwise    (w in backward-input, x in backward-weight)
//   init: the bias row (or zero) when not accumulating, the current C when accumulating.
//
// Blocking (GotoBLAS style): B is packed once per call into panels of NR columns, K-major, cut into
// blocks of KC reduction steps; A is packed per thread, MC rows × KC at a time, into micro-panels
// of
// MR rows (k-major: MR consecutive floats per reduction step). The micro-kernel keeps an MR × NR
// tile
// of C in MR*NV vector registers, broadcasts one A value per row and loads NV vectors of the B
// panel
// per reduction step.
//
// Determinism: every element of C is computed by the same sequence of fused multiply-adds (in
// increasing reduction order, starting from init) whatever the thread count, the split (rows or
// panels) or the blocking of rows, so results are bit-identical for 1, 2, ... threads.

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.tensor.Arena;

final class MatmulGemm {
  private MatmulGemm() {}

  /**
   * Vector species: {@link VectorWidth#FLOAT}, or {@code -Dhnet.matmul.bits=128|256|512} for the
   * products alone (kernel experiments; mixing widths slows the other kernels).
   */
  static final VectorSpecies<Float> S = species();

  static final int VL = S.length();

  /**
   * 32 vector registers: AVX-512 (16 lanes) or ARM (NEON and SVE have 32 at any width); x86 below
   * AVX-512 has 16.
   */
  static final boolean REGS32 = VL >= 16 || "aarch64".equals(System.getProperty("os.arch"));

  /**
   * Register tile MR rows × NV vectors: 6 × 3 with 32 vector registers (18 accumulators + 3 B
   * vectors + a broadcast), else 4 × 2 (AVX2, 16 registers: 8 accumulators + 2 + 4 broadcasts). On
   * ARM the 4 × 2 tile's 8 accumulators could not keep 4 FMA pipes of latency 4 busy (Apple
   * M-series; unmeasured here: this machine is x86). {@code -Dhnet.matmul.mr / .nv} override
   * (tests, tuning).
   */
  static final int MR = Integer.getInteger("hnet.matmul.mr", REGS32 ? 6 : 4);

  static final int NV = Integer.getInteger("hnet.matmul.nv", REGS32 ? 3 : 2);

  /** Columns of a packed B panel and of the register tile. */
  static final int NR = NV * VL;

  /**
   * Reduction steps per cache block: a packed B panel (KC × NR floats, 32 KB at 512 × 16) fills L1.
   * 512 against 256: +15% on 4096×384·384×2048 and 4096×1024·1024×384, 1 thread, two alternating
   * JMH rounds (48.1/44.1 → 54.7/50.8 and 44.1/46.0 → 56.9/53.3 GFLOP/s); 1024 was no better. The
   * blocking never changes a result (C is stored and reloaded exactly between blocks).
   */
  static final int KC = Integer.getInteger("hnet.matmul.kc", 512);

  /** Row tiles per A cache block (MC = MCT * MR rows, about 96). */
  static final int MCT = Integer.getInteger("hnet.matmul.mc", 96) / MR;

  /**
   * Below this many flops a product runs on one thread (a pool hand-off costs ~10 µs, 1 MFLOP is
   * ~15 µs on one core). Not final only so that tests can force small products through the parallel
   * paths.
   */
  static long serialFlops = 1L << 20;

  private static final float[] ZEROS = new float[3 * 64];

  private static VectorSpecies<Float> species() {
    int bits = Integer.getInteger("hnet.matmul.bits", 0);
    return bits == 0 ? VectorWidth.FLOAT : VectorWidth.species(bits, "hnet.matmul.bits");
  }

  static int panels(int cols) {
    return (cols + NR - 1) / NR;
  }

  /** Floats of a packed B of {@code red × cols}: every panel padded to NR columns. */
  static long packedSize(int red, int cols) {
    return (long) panels(cols) * NR * red;
  }

  /**
   * Packs B into {@code bp}: the block of reduction steps [k0, k0+kc) starts at {@code P*NR*k0}; in
   * it panel p occupies {@code kc*NR} floats, row k of the panel holds B(k0+k, p*NR .. p*NR+NR-1),
   * zero-padded past {@code cols}.
   */
  static void packB(float[] bp, float[] b, int bOff, int ldb, boolean bTrans, int red, int cols) {
    int P = panels(cols), grain = (int) Math.max(1, (1L << 16) / ((long) red * NR));
    if (Parallel.serial(P, grain)) packPanels(bp, b, bOff, ldb, bTrans, red, cols, P, 0, P);
    else
      Parallel.forRange(
          P, grain, (p0, p1) -> packPanels(bp, b, bOff, ldb, bTrans, red, cols, P, p0, p1));
  }

  /** Panels [p0, p1) of {@link #packB}. */
  private static void packPanels(
      float[] bp,
      float[] b,
      int bOff,
      int ldb,
      boolean bTrans,
      int red,
      int cols,
      int P,
      int p0,
      int p1) {
    for (int p = p0; p < p1; p++) {
      for (int k0 = 0; k0 < red; k0 += KC) {
        int kc = Math.min(KC, red - k0);
        packPanel(bp, P * NR * k0 + p * kc * NR, b, bOff, ldb, bTrans, k0, kc, p * NR, cols);
      }
    }
  }

  private static void packPanel(
      float[] bp,
      int dst,
      float[] b,
      int bOff,
      int ldb,
      boolean bTrans,
      int k0,
      int kc,
      int n0,
      int cols) {
    int nc = Math.min(NR, cols - n0);
    if (bTrans) {
      for (int j = 0; j < NR; j++) {
        if (j < nc) {
          int src = bOff + (n0 + j) * ldb + k0;
          for (int k = 0; k < kc; k++) bp[dst + k * NR + j] = b[src + k];
        } else {
          for (int k = 0; k < kc; k++) bp[dst + k * NR + j] = 0f;
        }
      }
    } else if (nc
        == NR) { // NR floats per step: vector copies (an arraycopy call per 64 bytes cost more)
      for (int k = 0; k < kc; k++) {
        int src = bOff + (k0 + k) * ldb + n0, d = dst + k * NR;
        for (int v = 0; v < NR; v += VL) FloatVector.fromArray(S, b, src + v).intoArray(bp, d + v);
      }
    } else {
      for (int k = 0; k < kc; k++) {
        int src = bOff + (k0 + k) * ldb + n0;
        System.arraycopy(b, src, bp, dst + k * NR, nc);
        for (int j = nc; j < NR; j++) bp[dst + k * NR + j] = 0f;
      }
    }
  }

  /** Packs row tiles [t0, t1) × reduction [k0, k0+kc) of A; tile t at {@code (t-t0)*MR*kc}. */
  private static void packA(
      float[] ap, float[] a, int aOff, int ars, int aks, int rows, int t0, int t1, int k0, int kc) {
    if (ars == 1 && aks != 1) {
      packATransposed(ap, a, aOff, aks, rows, t0, t1, k0, kc);
      return;
    }
    for (int t = t0; t < t1; t++) {
      int dst = (t - t0) * MR * kc;
      int m0 = t * MR;
      int mr = Math.min(MR, rows - m0);
      if (aks == 1) {
        for (int r = 0; r < MR; r++) {
          if (r < mr) {
            int src = aOff + (m0 + r) * ars + k0;
            for (int k = 0; k < kc; k++) ap[dst + k * MR + r] = a[src + k];
          } else {
            for (int k = 0; k < kc; k++) ap[dst + k * MR + r] = 0f;
          }
        }
      } else {
        for (int k = 0; k < kc; k++) {
          int src = aOff + m0 * ars + (k0 + k) * aks;
          int d = dst + k * MR;
          for (int r = 0; r < mr; r++) ap[d + r] = a[src + r * ars];
          for (int r = mr; r < MR; r++) ap[d + r] = 0f;
        }
      }
    }
  }

  /**
   * {@link #packA} of a transposed A (A(i, r) = a[aOff + i + r*aks]: dyᵀ in the weight gradient).
   * Tile-outer, each tile's MR floats per reduction step copied as scalars, so a tile's packed
   * panel is written front to back. Measured on the whole dyᵀ of the Mamba in_proj weight gradient
   * (1096 × 4096, one thread, a scratch harness): 5.7–10.4 ms with the former order (reduction step
   * outer, one System.arraycopy of MR floats per tile: a call per 16 bytes) against 3.2–4.5 ms. (A
   * 128-bit vector copy allocated a vector per copy until C2 compiled it: 3 MB per step of
   * ModelAllocationTest's tiny model.)
   */
  private static void packATransposed(
      float[] ap, float[] a, int aOff, int aks, int rows, int t0, int t1, int k0, int kc) {
    for (int t = t0; t < t1; t++) {
      int m0 = t * MR,
          mr = Math.min(MR, rows - m0),
          o = (t - t0) * MR * kc,
          src = aOff + k0 * aks + m0;
      if (mr == 4 && MR == 4) {
        for (int k = 0; k < kc; k++, src += aks, o += 4) {
          ap[o] = a[src];
          ap[o + 1] = a[src + 1];
          ap[o + 2] = a[src + 2];
          ap[o + 3] = a[src + 3];
        }
      } else {
        for (int k = 0; k < kc; k++, src += aks, o += MR) {
          for (int r = 0; r < mr; r++) ap[o + r] = a[src + r];
          for (int r = mr; r < MR; r++) ap[o + r] = 0f;
        }
      }
    }
  }

  /**
   * C = init + A·B (see the legend). {@code packedB} is B already packed by {@link #packB} (or null
   * to pack it here). {@code bias} (nullable) is the init row when {@code accumulate} is false.
   */
  static void gemm(
      float[] c,
      int cOff,
      int ldc,
      int rows,
      int cols,
      int red,
      float[] a,
      int aOff,
      int ars,
      int aks,
      float[] b,
      int bOff,
      int ldb,
      boolean bTrans,
      float[] packedB,
      float[] bias,
      int biasOff,
      boolean accumulate) {
    if (rows == 0 || cols == 0) return;
    if (red == 0) {
      if (!accumulate) {
        for (int i = 0; i < rows; i++) {
          for (int j = 0; j < cols; j++)
            c[cOff + i * ldc + j] = bias == null ? 0f : bias[biasOff + j];
        }
      }
      return;
    }
    // packed B and the bias row in this thread's arena, for the workers to read during the call
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      int P = panels(cols);
      float[] bp = packedB;
      if (bp == null) {
        bp = arena.floats(Math.toIntExact(packedSize(red, cols)));
        packB(bp, b, bOff, ldb, bTrans, red, cols);
      }
      float[] init = null;
      int initStride = 0;
      if (!accumulate) {
        if (bias == null) {
          init = ZEROS;
        } else {
          init = arena.floats(P * NR);
          System.arraycopy(bias, biasOff, init, 0, cols);
          java.util.Arrays.fill(init, cols, P * NR, 0f);
          initStride = NR;
        }
      }
      int tiles = (rows + MR - 1) / MR;
      long flops = 2L * rows * cols * red;
      int threads = flops < serialFlops ? 1 : Parallel.threads();
      final float[] fbp = bp;
      final float[] finit = init;
      final int fis = initStride;
      boolean byTiles = tiles >= 4 * threads || tiles >= P;
      int tileGrain = Math.max(1, tiles / (4 * threads));
      if (threads <= 1 || byTiles && Parallel.serial(tiles, tileGrain)) { // one part: no lambda
        block(c, cOff, ldc, rows, cols, red, a, aOff, ars, aks, fbp, finit, fis, 0, tiles, 0, P);
      } else if (byTiles) {
        Parallel.forRange(
            tiles,
            tileGrain,
            (t0, t1) ->
                block(
                    c, cOff, ldc, rows, cols, red, a, aOff, ars, aks, fbp, finit, fis, t0, t1, 0,
                    P));
      } else {
        Parallel.forRange(
            P,
            1,
            (p0, p1) ->
                block(
                    c, cOff, ldc, rows, cols, red, a, aOff, ars, aks, fbp, finit, fis, 0, tiles, p0,
                    p1));
      }
    } finally {
      arena.release(mark);
    }
  }

  /** Computes row tiles [t0, t1) × panels [p0, p1) of C. */
  private static void block(
      float[] c,
      int cOff,
      int ldc,
      int rows,
      int cols,
      int red,
      float[] a,
      int aOff,
      int ars,
      int aks,
      float[] bp,
      float[] init,
      int initStride,
      int t0,
      int t1,
      int p0,
      int p1) {
    // this thread's packed A block and edge tile
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      float[] ap = arena.floats(MCT * MR * Math.min(KC, red));
      float[] tile = arena.floats(MR * NR);
      int P = panels(cols);
      for (int mt = t0; mt < t1; mt += MCT) {
        int mtEnd = Math.min(t1, mt + MCT);
        for (int k0 = 0; k0 < red; k0 += KC) {
          int kc = Math.min(KC, red - k0);
          packA(ap, a, aOff, ars, aks, rows, mt, mtEnd, k0, kc);
          float[] in = k0 == 0 ? init : null;
          for (int p = p0; p < p1; p++) {
            int bo = P * NR * k0 + p * kc * NR;
            int n0 = p * NR;
            int nc = Math.min(NR, cols - n0);
            int io = p * initStride;
            for (int t = mt; t < mtEnd; t++) {
              int m0 = t * MR;
              int mr = Math.min(MR, rows - m0);
              int ao = (t - mt) * MR * kc;
              int co = cOff + m0 * ldc + n0;
              if (nc == NR) {
                if (mr == MR) {
                  MatmulKernels.tile(ap, ao, bp, bo, kc, c, co, ldc, in, io);
                } else {
                  for (int r = 0; r < mr; r++) {
                    MatmulKernels.row(ap, ao + r, bp, bo, kc, c, co + r * ldc, in, io);
                  }
                }
              } else {
                edgeTile(ap, ao, bp, bo, kc, c, co, ldc, mr, nc, in, io, tile);
              }
            }
          }
        }
      }
    } finally {
      arena.release(mark);
    }
  }

  /** A tile cut by the right edge of C: computed in a full-width scratch tile, then copied. */
  private static void edgeTile(
      float[] ap,
      int ao,
      float[] bp,
      int bo,
      int kc,
      float[] c,
      int co,
      int ldc,
      int mr,
      int nc,
      float[] in,
      int io,
      float[] tile) {
    if (in == null) {
      for (int r = 0; r < mr; r++) {
        System.arraycopy(c, co + r * ldc, tile, r * NR, nc);
        java.util.Arrays.fill(tile, r * NR + nc, (r + 1) * NR, 0f);
      }
    }
    if (mr == MR) {
      MatmulKernels.tile(ap, ao, bp, bo, kc, tile, 0, NR, in, io);
    } else {
      for (int r = 0; r < mr; r++) MatmulKernels.row(ap, ao + r, bp, bo, kc, tile, r * NR, in, io);
    }
    for (int r = 0; r < mr; r++) System.arraycopy(tile, r * NR, c, co + r * ldc, nc);
  }
}
