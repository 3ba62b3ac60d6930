package org.hnet.train.data;

/**
 * A reader that holds the current document whole in memory (JSONL lines, transformed documents).
 */
abstract class InMemoryDocReader implements DocReader {
  /** The current document (null before the first). */
  protected byte[] doc;

  protected int docPos;

  /** Makes {@code d} the current document, read from its start. */
  protected void setDocument(byte[] d) {
    doc = d;
    docPos = 0;
  }

  @Override
  public int read(byte[] b, int off, int len) {
    if (doc == null || docPos >= doc.length) return -1;
    int n = Math.min(len, doc.length - docPos);
    System.arraycopy(doc, docPos, b, off, n);
    docPos += n;
    return n;
  }

  @Override
  public long skip(long n) {
    if (doc == null) return 0;
    int k = (int) Math.min(n, doc.length - docPos);
    docPos += k;
    return k;
  }
}
