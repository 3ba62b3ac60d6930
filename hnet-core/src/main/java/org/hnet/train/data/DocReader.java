package org.hnet.train.data;

import java.io.Closeable;
import java.io.IOException;

/**
 * Sequential access to the documents of a source, one at a time, so that no more than one document
 * (and usually much less) is ever held in memory.
 */
interface DocReader extends Closeable {
  /** Moves to the next document; false when there are no more. */
  boolean next() throws IOException;

  /** Reads from the current document; -1 at its end. */
  int read(byte[] b, int off, int len) throws IOException;

  /**
   * Skips up to {@code n} bytes of the current document, without reading them where the source
   * allows; returns how many were skipped, 0 only at the document's end.
   */
  long skip(long n) throws IOException;

  /** The file the current document comes from, for error messages. */
  String where();
}
