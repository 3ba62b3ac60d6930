package org.hnet.nn;

import java.util.Arrays;

/**
 * The reusable buffers of one computation context, by slot: every module reserves its slots when
 * the model is built ({@link Params#slots}), and a workspace holds one buffer per slot. A training
 * step and a decode step then write their activations, gradients and temporaries into the same
 * arrays every time: nothing is allocated once the sizes have been seen.
 *
 * <p>Owners: a decode {@link HNetForCausalLM.Cache} owns the workspace of its steps; the model owns
 * the one of its training forward and backward (one training computation at a time per model) and
 * an {@link #internal} one for prefills (taken by one prefill at a time; a prefill that finds it
 * taken uses {@link #TRANSIENT}); eval forwards use {@link #TRANSIENT}, which keeps nothing and
 * allocates a fresh zeroed array for every request, so that a model can serve several threads at
 * once.
 *
 * <p>Buffers are capacity-based: {@link #floats} returns an array of <em>at least</em> n floats, so
 * users pass explicit lengths and never use {@code array.length}; the exceptions are {@link
 * #exactFloats}/{@link #exactBools}, for arrays that leave the model (logits, routing decisions)
 * and are read by their length. A buffer is reused by the next call that asks for the same slot, so
 * a module may keep its own slots' arrays for its backward, but no longer.
 *
 * <p>Public only as an opaque handle in the module signatures ({@link Mixer}); built and read
 * inside this package.
 */
public final class Workspace {
  /** Keeps nothing: every request gets a new zeroed array (the allocation of a plain forward). */
  static final Workspace TRANSIENT = new Workspace(0, false, false);

  private final boolean retain;

  /** Whether the arrays that leave the model (exact*) and the parked objects are kept too. */
  private final boolean retainOutputs;

  private float[][] floats;
  private boolean[][] bools;
  private int[][] ints;
  private Object[] objects;

  /** A retaining workspace with room for {@code slots} slots (it grows if a module asks beyond). */
  Workspace(int slots) {
    this(slots, true, true);
  }

  /**
   * A workspace that keeps the model's internal buffers (activations, temporaries) but hands out
   * fresh arrays for what leaves the model ({@link #exactFloats}, {@link #exactBools}) and parks no
   * objects, so that a call's results stay valid after the next call: for prefills, which return
   * their logits and routing decisions to the caller.
   */
  static Workspace internal(int slots) {
    return new Workspace(slots, true, false);
  }

  private Workspace(int slots, boolean retain, boolean retainOutputs) {
    this.retain = retain;
    this.retainOutputs = retainOutputs;
    floats = new float[slots][];
    bools = new boolean[slots][];
    ints = new int[slots][];
    objects = new Object[slots];
  }

  /** At least n floats for this slot; their values are whatever the slot's last user left. */
  float[] floats(int slot, int n) {
    if (!retain) return new float[n];
    ensure(slot);
    float[] a = floats[slot];
    if (a == null || a.length < n) floats[slot] = a = new float[grown(a == null ? 0 : a.length, n)];
    return a;
  }

  /** As {@link #floats}, with the first n zeroed. */
  float[] zeros(int slot, int n) {
    float[] a = floats(slot, n);
    if (retain) Arrays.fill(a, 0, n, 0f);
    return a;
  }

  /** Exactly n floats (the slot is reallocated when n changes): for arrays read by their length. */
  float[] exactFloats(int slot, int n) {
    if (!retainOutputs) return new float[n];
    ensure(slot);
    float[] a = floats[slot];
    if (a == null || a.length != n) floats[slot] = a = new float[n];
    return a;
  }

  /** Exactly n flags, as {@link #exactFloats}; values left by the slot's last user. */
  boolean[] exactBools(int slot, int n) {
    if (!retainOutputs) return new boolean[n];
    ensure(slot);
    boolean[] a = bools[slot];
    if (a == null || a.length != n) bools[slot] = a = new boolean[n];
    return a;
  }

  /** At least n ints for this slot (values left by its last user). */
  int[] ints(int slot, int n) {
    if (!retain) return new int[n];
    ensure(slot);
    int[] a = ints[slot];
    if (a == null || a.length < n) ints[slot] = a = new int[grown(a == null ? 0 : a.length, n)];
    return a;
  }

  /**
   * The object a module parked in this slot (null on a transient workspace or before the first).
   */
  Object object(int slot) {
    return retainOutputs && slot < objects.length ? objects[slot] : null;
  }

  void object(int slot, Object o) {
    if (!retainOutputs) return;
    ensure(slot);
    objects[slot] = o;
  }

  /**
   * The {@code type} object parked in this slot, or a new one from {@code make}, parked where this
   * workspace keeps objects (kernel views, re-pointed per call, so steady state allocates nothing).
   */
  <T> T object(int slot, Class<T> type, java.util.function.Supplier<T> make) {
    Object o = object(slot);
    if (type.isInstance(o)) return type.cast(o);
    T t = make.get();
    object(slot, t);
    return t;
  }

  /**
   * At least n kernel views parked in this slot (made on first use), which the caller re-points per
   * call: a view costs no allocation in steady state.
   */
  org.hnet.tensor.Rows[] views(int slot, int n) {
    if (object(slot) instanceof org.hnet.tensor.Rows[] v && v.length >= n) return v;
    org.hnet.tensor.Rows[] v = new org.hnet.tensor.Rows[n];
    for (int i = 0; i < n; i++) v[i] = new org.hnet.tensor.Rows();
    object(slot, v);
    return v;
  }

  /** The bytes held by the array slots (for tests and reports). */
  long bytes() {
    long b = 0;
    for (float[] a : floats) b += a == null ? 0 : 4L * a.length;
    for (boolean[] a : bools) b += a == null ? 0 : a.length;
    for (int[] a : ints) b += a == null ? 0 : 4L * a.length;
    return b;
  }

  /**
   * First allocation exact; a buffer that has to grow (lengths that vary batch to batch) gets 1/8
   * headroom.
   */
  private static int grown(int have, int n) {
    return have == 0 ? n : (int) Math.min(Integer.MAX_VALUE - 8, Math.max(n, n + (long) n / 8));
  }

  private void ensure(int slot) {
    if (slot < floats.length) return;
    int n = Math.max(slot + 1, floats.length * 2);
    floats = Arrays.copyOf(floats, n);
    bools = Arrays.copyOf(bools, n);
    ints = Arrays.copyOf(ints, n);
    objects = Arrays.copyOf(objects, n);
  }
}
