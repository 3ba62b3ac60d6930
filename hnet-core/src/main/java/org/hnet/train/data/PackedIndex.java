package org.hnet.train.data;

import java.io.Closeable;
import java.io.IOException;
import org.hnet.HNetException;

/**
 * The packed byte stream of {@link PackedReader} (every document preceded by BOS, back to back)
 * with random access: byte p is found by a binary search over the documents' start offsets. Memory
 * is O(documents), whatever the corpus's size.
 */
final class PackedIndex implements Closeable {
  private final DocIndex docs;

  /** start[d]: position of document d's BOS; start[n] = the stream's length. */
  private final long[] start;

  PackedIndex(DocIndex docs) {
    this.docs = docs;
    int n = docs.documents();
    start = new long[n + 1];
    for (int d = 0; d < n; d++) start[d + 1] = start[d] + 1 + docs.length(d);
  }

  /** Bytes in the stream, BOS bytes included. */
  long total() {
    return start[start.length - 1];
  }

  int documents() {
    return start.length - 1;
  }

  /** Start (BOS position) of the first document starting at or after p, or -1 if none does. */
  long documentStartAtOrAfter(long p) {
    int d = documentAt(p);
    if (d < documents() && start[d] == p) return p;
    return d + 1 < documents() ? start[d + 1] : -1;
  }

  /** Start of the document holding byte p (0 ≤ p < total). */
  long documentStart(long p) {
    return start[documentAt(p)];
  }

  /** The document holding byte p: the largest d with start[d] ≤ p. */
  private int documentAt(long p) {
    int lo = 0, hi = documents() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (start[mid] <= p) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Reads stream bytes [p, p + len) into b[off, off + len); the range lies inside the stream. */
  void read(long p, byte[] b, int off, int len) {
    if (p < 0 || len < 0 || p + len > total()) {
      throw new IllegalArgumentException(
          "range [" + p + ", " + (p + len) + ") outside the stream of " + total());
    }
    int d = documentAt(p);
    while (len > 0) {
      if (p == start[d + 1]) d++;
      if (p == start[d]) {
        b[off++] = PackedReader.BOS;
        p++;
        len--;
        continue;
      }
      long inDoc = p - start[d] - 1;
      int n = (int) Math.min(len, start[d + 1] - p);
      try {
        docs.read(d, inDoc, b, off, n);
      } catch (IOException e) {
        throw new HNetException(
            docs.where(d) + ": read failed at byte " + inDoc + ": " + e.getMessage(), e);
      }
      p += n;
      off += n;
      len -= n;
    }
  }

  /**
   * Position just after the first byte c at or after p inside p's document, or -1 if the document
   * ends first.
   */
  long findInDocument(long p, byte c) {
    int d = documentAt(p);
    byte[] buf = new byte[1 << 16];
    for (long q = Math.max(p, start[d] + 1); q < start[d + 1]; ) {
      int n = (int) Math.min(buf.length, start[d + 1] - q);
      read(q, buf, 0, n);
      for (int i = 0; i < n; i++) {
        if (buf[i] == c) return q + i + 1;
      }
      q += n;
    }
    return -1;
  }

  @Override
  public void close() {
    try {
      docs.close();
    } catch (IOException e) {
      // Read-only files: a failed close loses nothing.
    }
  }
}
