package org.hnet.train.data;

import java.io.Closeable;
import java.io.IOException;

/**
 * Random access to the documents of a source: every document's length is known up front and any
 * byte of it can be read without reading what comes before. What i.i.d. sampling needs; a source
 * that can only be streamed (a gzip file) has none.
 */
interface DocIndex extends Closeable {
  /** Number of documents. */
  int documents();

  /** Content bytes of document d (its BOS not counted). */
  long length(int d);

  /**
   * Reads content bytes [offset, offset + len) of document d into b[off, off + len); the range lies
   * inside the document. A file that changed since the index was built is an error naming it.
   */
  void read(int d, long offset, byte[] b, int off, int len) throws IOException;

  /** Where document d comes from (a file, a file and line), for messages. */
  String where(int d);
}
