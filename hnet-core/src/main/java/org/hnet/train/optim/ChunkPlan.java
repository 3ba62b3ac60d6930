package org.hnet.train.optim;

import java.util.List;
import org.hnet.nn.Param;

/**
 * A fixed split of a parameter list into element chunks of at most {@link #CHUNK} values, each
 * inside one parameter. The split depends only on the parameter sizes, never on the thread count,
 * so a reduction that sums per-chunk partials in chunk order gives the same bits with 1 or N
 * threads, and element-wise updates can be spread over threads without two threads touching one
 * tensor range.
 */
final class ChunkPlan {
  /** Elements per chunk: large enough to amortise a task, small enough to balance big tensors. */
  static final int CHUNK = 1 << 15;

  /** Below this many elements in total, threads cost more than they save. */
  private static final long PARALLEL_MIN = 1L << 16;

  final Param[] params;

  /** For chunk c: index into {@link #params}, and the element range [start, end). */
  final int[] param;

  final int[] start;
  final int[] end;
  private final long total;

  private ChunkPlan(Param[] params, int[] param, int[] start, int[] end, long total) {
    this.params = params;
    this.param = param;
    this.start = start;
    this.end = end;
    this.total = total;
  }

  static ChunkPlan of(List<Param> list) {
    Param[] ps = list.toArray(new Param[0]);
    int n = 0;
    long total = 0;
    for (Param p : ps) {
      n += (p.size() + CHUNK - 1) / CHUNK;
      total += p.size();
    }
    int[] param = new int[n];
    int[] start = new int[n];
    int[] end = new int[n];
    int c = 0;
    for (int i = 0; i < ps.length; i++) {
      int size = ps[i].size();
      for (int s = 0; s < size; s += CHUNK) {
        param[c] = i;
        start[c] = s;
        end[c] = Math.min(size, s + CHUNK);
        c++;
      }
    }
    return new ChunkPlan(ps, param, start, end, total);
  }

  int chunks() {
    return param.length;
  }

  /** The minGrain to pass to Parallel.forRange: everything on one thread for small models. */
  int grain() {
    return total < PARALLEL_MIN ? Math.max(1, chunks()) : 1;
  }
}
