package org.hnet.tensor;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The memory of one computation context (a training step, a decode step of one cache, a prefill): a
 * bump arena of arrays. Requests are served in the order they are made: the k-th float request
 * since the last {@link #reset} gets the arena's k-th float buffer, grown if it is too small, so a
 * computation that repeats (every training step, every decode step) finds its buffers where the
 * previous one left them and allocates nothing. {@link #mark}/{@link #release} return the buffers
 * handed out since the mark, so that the next requests reuse them: an inference forward releases a
 * block's activations once the next block has its input, and a backward releases a block's
 * temporaries once its input gradient is out; buffers are shared by order of use, not by owner.
 *
 * <p>Three kinds of memory, each with its own order (so that a request of one kind never moves the
 * others):
 *
 * <ul>
 *   <li>work arrays ({@link #floats}, {@link #zeros}, {@link #ints}, {@link #doubles}): at least n
 *       long, values left by the last user; released by {@link #release} and {@link #reset}.
 *   <li>outputs ({@link #exactFloats}, {@link #exactBools}): exactly n long, for the arrays that
 *       leave the model (logits, routing decisions) and are read by their length; released only by
 *       {@link #reset}, so a release inside a step never hands them out again.
 *   <li>objects ({@link #object}, {@link #views}): kernel views and small records, one order per
 *       class (a branch that asks for views of one class does not shift another's), re-pointed by
 *       their user per call; released only by {@link #reset}.
 * </ul>
 *
 * <p>Owners: in {@code org.hnet.nn}, a decode cache owns the arena of its steps; the model owns the
 * one of its training forward and backward (one training computation at a time per model) and a
 * prefill arena (one prefill at a time; a prefill that finds it taken, and every evaluation
 * forward, use an arena of their own ({@link #freshOutputs}), so that a model serves several
 * threads at once). The kernels take their scratch from the arena of the thread they run on ({@link
 * #local}). Not thread-safe: one computation on one thread at a time.
 */
public final class Arena {
  /** Whether the arrays that leave the model (exact*) and the objects are kept too. */
  private final boolean retainOutputs;

  private float[][] floats = new float[16][];
  private int[][] ints = new int[4][];
  private double[][] doubles = new double[2][];
  private float[][] exactFloats = new float[8][];
  private boolean[][] exactBools = new boolean[8][];
  private int nFloats, nInts, nDoubles, nExactFloats, nExactBools;

  /** Objects by class (index {@link #CLASS_INDEX}), each class in its order of requests. */
  private Object[][] objects = new Object[0][];

  private int[] nObjects = new int[0];

  /** The marks not yet released: triples (floats, ints, doubles) of request counts. */
  private int[] marks = new int[16];

  private int nMarks;

  /** A retaining arena: every kind of memory is kept and reused after {@link #reset}. */
  public Arena() {
    this(true);
  }

  private Arena(boolean retainOutputs) {
    this.retainOutputs = retainOutputs;
  }

  /**
   * An arena that keeps the work arrays but hands out fresh arrays for what leaves the model and
   * keeps no objects, so that a call's results stay valid after the next call: for prefills and
   * evaluation forwards, which return their logits and routing decisions to the caller.
   */
  public static Arena freshOutputs() {
    return new Arena(false);
  }

  /** Starts a computation: every buffer and object may be handed out again. */
  public void reset() {
    nFloats = nInts = nDoubles = nExactFloats = nExactBools = nMarks = 0;
    Arrays.fill(nObjects, 0);
  }

  /** Marks the work arrays handed out so far; {@link #release} with the result returns the rest. */
  public int mark() {
    if (3 * nMarks + 3 > marks.length) marks = Arrays.copyOf(marks, 2 * marks.length);
    marks[3 * nMarks] = nFloats;
    marks[3 * nMarks + 1] = nInts;
    marks[3 * nMarks + 2] = nDoubles;
    return nMarks++;
  }

  /**
   * Returns the work arrays handed out since {@link #mark} gave {@code mark} (and any later mark):
   * the next requests get them again. Their values are left as they are; nothing handed out before
   * the mark is touched.
   */
  public void release(int mark) {
    if (mark < 0 || mark >= nMarks) throw new IllegalStateException("mark " + mark + " not held");
    nFloats = marks[3 * mark];
    nInts = marks[3 * mark + 1];
    nDoubles = marks[3 * mark + 2];
    nMarks = mark;
  }

  /**
   * Whether nothing is handed out: no work array since the last reset or full release, no mark held
   * (what a thread's {@link #local} arena is between two kernels).
   */
  public boolean idle() {
    return nFloats == 0 && nInts == 0 && nDoubles == 0 && nMarks == 0;
  }

  /** At least n floats; their values are whatever the buffer's last user left. */
  public float[] floats(int n) {
    if (nFloats == floats.length) floats = Arrays.copyOf(floats, 2 * floats.length);
    float[] a = floats[nFloats];
    if (a == null || a.length < n) floats[nFloats] = a = new float[grown(a, n)];
    nFloats++;
    return a;
  }

  /** As {@link #floats}, with the first n zeroed. */
  public float[] zeros(int n) {
    float[] a = floats(n);
    Arrays.fill(a, 0, n, 0f);
    return a;
  }

  /** At least n ints (values left by the buffer's last user). */
  public int[] ints(int n) {
    if (nInts == ints.length) ints = Arrays.copyOf(ints, 2 * ints.length);
    int[] a = ints[nInts];
    if (a == null || a.length < n) ints[nInts] = a = new int[grown(a, n)];
    nInts++;
    return a;
  }

  /** At least n doubles (values left by the buffer's last user). */
  public double[] doubles(int n) {
    if (nDoubles == doubles.length) doubles = Arrays.copyOf(doubles, 2 * doubles.length);
    double[] a = doubles[nDoubles];
    if (a == null || a.length < n) doubles[nDoubles] = a = new double[grown(a, n)];
    nDoubles++;
    return a;
  }

  /** Exactly n floats (reallocated when n changes), for arrays read by their length. */
  public float[] exactFloats(int n) {
    if (!retainOutputs) return new float[n];
    if (nExactFloats == exactFloats.length)
      exactFloats = Arrays.copyOf(exactFloats, 2 * exactFloats.length);
    float[] a = exactFloats[nExactFloats];
    if (a == null || a.length != n) exactFloats[nExactFloats] = a = new float[n];
    nExactFloats++;
    return a;
  }

  /** Exactly n flags, as {@link #exactFloats}; values left by the last user. */
  public boolean[] exactBools(int n) {
    if (!retainOutputs) return new boolean[n];
    if (nExactBools == exactBools.length)
      exactBools = Arrays.copyOf(exactBools, 2 * exactBools.length);
    boolean[] a = exactBools[nExactBools];
    if (a == null || a.length != n) exactBools[nExactBools] = a = new boolean[n];
    nExactBools++;
    return a;
  }

  /**
   * The next object of this class: the one the previous computation got at the same point of the
   * class's order, or a new one from {@code make} (always new on an arena that keeps no objects).
   * Callers re-point or refill it; nothing of a previous call's values may be relied on.
   */
  public <T> T object(Class<T> type, Supplier<T> make) {
    if (!retainOutputs) return make.get();
    int c = CLASS_INDEX.get(type);
    if (c >= objects.length) {
      int n = Math.max(c + 1, 2 * objects.length);
      objects = Arrays.copyOf(objects, n);
      nObjects = Arrays.copyOf(nObjects, n);
    }
    Object[] of = objects[c];
    if (of == null) objects[c] = of = new Object[4];
    int k = nObjects[c]++;
    if (k == of.length) objects[c] = of = Arrays.copyOf(of, 2 * of.length);
    Object o = of[k];
    if (o == null) of[k] = o = make.get();
    return type.cast(o);
  }

  /**
   * This arena's one object of the class (made on first use): for a kernel's per-thread record of
   * state within a call (its arrays are taken with {@link #floats} between a mark and a release).
   */
  public <T> T holder(Class<T> type, Supplier<T> make) {
    int c = CLASS_INDEX.get(type);
    if (c >= holders.length) holders = Arrays.copyOf(holders, Math.max(c + 1, 2 * holders.length));
    Object o = holders[c];
    if (o == null) holders[c] = o = make.get();
    return type.cast(o);
  }

  private Object[] holders = new Object[0];

  /** At least n kernel views (made on first use), re-pointed by the caller. */
  public Rows[] views(int n) {
    Views v = object(Views.class, Views::new);
    if (v.rows.length < n) {
      Rows[] r = Arrays.copyOf(v.rows, n);
      for (int i = v.rows.length; i < n; i++) r[i] = new Rows();
      v.rows = r;
    }
    return v.rows;
  }

  /** A holder of views that grows to the longest request made at its place in the order. */
  private static final class Views {
    Rows[] rows = new Rows[0];
  }

  /** The bytes held by the arrays (for tests and reports). */
  public long bytes() {
    long b = 0;
    for (float[] a : floats) b += a == null ? 0 : 4L * a.length;
    for (int[] a : ints) b += a == null ? 0 : 4L * a.length;
    for (double[] a : doubles) b += a == null ? 0 : 8L * a.length;
    for (float[] a : exactFloats) b += a == null ? 0 : 4L * a.length;
    for (boolean[] a : exactBools) b += a == null ? 0 : a.length;
    return b;
  }

  private static final ThreadLocal<Arena> LOCAL = ThreadLocal.withInitial(Arena::new);

  /**
   * This thread's arena for a kernel's scratch (tiles, packed panels, row buffers): a kernel, or
   * one part of a parallel kernel on a worker thread, takes its work arrays between a {@link #mark}
   * and a {@link #release} (in a {@code finally}), so the kernels that run one after the other on a
   * thread share its buffers. Never reset; objects are not handed out from it.
   */
  public static Arena local() {
    return LOCAL.get();
  }

  /** A small index per class, the same in every arena. */
  private static final ClassValue<Integer> CLASS_INDEX =
      new ClassValue<>() {
        private final java.util.concurrent.atomic.AtomicInteger next =
            new java.util.concurrent.atomic.AtomicInteger();

        @Override
        protected Integer computeValue(Class<?> type) {
          return next.getAndIncrement();
        }
      };

  /**
   * First allocation exact; a buffer that has to grow (lengths that vary step to step, or a place
   * in the order that different branches use) gets 1/8 headroom.
   */
  private static int grown(Object have, int n) {
    return have == null ? n : (int) Math.min(Integer.MAX_VALUE - 8, Math.max(n, n + (long) n / 8));
  }
}
