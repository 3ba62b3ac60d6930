package org.hnet.train.data;

import java.util.Locale;
import org.hnet.HNetException;

/** How training rows are drawn from the train part of a corpus. */
public enum Sampling {
  /**
   * Every row is a window of L bytes at a uniformly random position of the whole train part,
   * independently of the others (the official recipe's i.i.d. windows).
   */
  RANDOM,
  /**
   * Rows are consecutive L-byte pieces read in order, shuffled only within blocks of rows: the rows
   * of a batch come from one stretch of the corpus.
   */
  SEQUENTIAL;

  /** The lower-case name used in options and state files. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Sampling parse(String s) {
    for (Sampling m : values()) {
      if (m.id().equals(s)) return m;
    }
    throw new HNetException("sampling must be 'random' or 'sequential', got '" + s + "'");
  }
}
