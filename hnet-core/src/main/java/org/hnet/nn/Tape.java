package org.hnet.nn;

import java.util.function.Supplier;

/**
 * What a training forward keeps for its backward: one small record per operation, pushed as the
 * forward runs (each module pushes its own after its children's, at the end of its forward) and
 * popped in reverse by the backward (each module pops its own first, then runs its children's
 * backwards in the reverse of their forward order). A module holds only its parameters; what a
 * backward consumes is the record's fields, nothing else.
 *
 * <p>A forward without a tape (null) records nothing: the inference path. The records are reused
 * from one step to the next (a step pushes the same kinds of records in the same order), so a
 * training step allocates none once it has run once. One tape serves one training computation at a
 * time.
 */
public final class Tape {
  private Object[] records = new Object[64];
  private int top;

  /**
   * The record for the next operation, of class {@code type}: the one left at this position by the
   * previous step if it is of that class, otherwise a new one from {@code make}. The caller fills
   * every field it will read in its backward.
   */
  <T> T push(Class<T> type, Supplier<T> make) {
    if (top == records.length) records = java.util.Arrays.copyOf(records, 2 * top);
    Object r = records[top];
    if (!type.isInstance(r)) {
      r = make.get();
      records[top] = r;
    }
    top++;
    return type.cast(r);
  }

  /** The last record pushed and not yet popped, which must be of class {@code type}. */
  <T> T pop(Class<T> type) {
    if (top == 0)
      throw new IllegalStateException(
          "backward without a recorded forward (" + type.getName() + ")");
    Object r = records[--top];
    if (!type.isInstance(r)) {
      throw new IllegalStateException(
          "backward out of order: expected a "
              + type.getName()
              + " record, found "
              + r.getClass().getName());
    }
    return type.cast(r);
  }

  /** Whether every record pushed has been popped. */
  public boolean isEmpty() {
    return top == 0;
  }

  /** Drops the records not consumed (after a failed step), keeping them for reuse. */
  public void clear() {
    top = 0;
  }
}
