package org.hnet.kernels;

import org.hnet.tensor.Rows;

/**
 * The per-token operands of the SSD scan over T packed tokens, or their gradients: x [T × H·P],
 * dtRaw [T × H] (before the bias and the softplus), B and C [T × N] (one group). Views into the
 * caller's buffers; a caller keeps one per computation and re-points it per call.
 */
public final class SsdRows {
  /** x [T × H·P]. */
  public final Rows x = new Rows();

  /** dtRaw [T × H]. */
  public final Rows dt = new Rows();

  /** B [T × N]. */
  public final Rows b = new Rows();

  /** C [T × N]. */
  public final Rows c = new Rows();

  /** Checks that every view covers T tokens of its width ({@code what} names this group). */
  void check(String what, int T, SsdHeads p) {
    need(what, ".x", x, T, p.heads() * p.headDim());
    need(what, ".dt", dt, T, p.heads());
    need(what, ".b", b, T, p.state());
    need(what, ".c", c, T, p.state());
  }

  /** The name is joined only for the message: a check that passes allocates nothing. */
  private static void need(String what, String field, Rows v, int rows, int cols) {
    if (!v.covers(rows, cols)) v.require(what + field, rows, cols);
  }
}
