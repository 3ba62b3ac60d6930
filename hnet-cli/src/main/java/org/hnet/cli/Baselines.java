package org.hnet.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Locale;
import java.util.zip.Deflater;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * Points of comparison for a model's bits per byte, over the very bytes it scored: their unigram
 * (order-0) entropy, and what {@code gzip -9} and {@code xz -9} compress them to, all computed in
 * process as the bytes stream by (the JDK's Deflater at level 9 with gzip's 18 bytes of header and
 * trailer; XZ for Java at preset 9, its dictionary no larger than the data, as xz's own would be
 * filled).
 */
final class Baselines {
  /** The three numbers, in bits per byte. */
  record Result(long bytes, double unigram, double gzip, double xz) {
    String toText(double modelBpb) {
      return String.format(
          Locale.ROOT,
          "unigram entropy %.3f, gzip -9 %.3f, xz -9 %.3f bits per byte (the model %s xz -9 by %.3f)",
          unigram,
          gzip,
          xz,
          modelBpb <= xz ? "beats" : "trails",
          Math.abs(modelBpb - xz));
    }
  }

  private final long[] counts = new long[256];
  private final Deflater deflater = new Deflater(9, true);
  private final byte[] sink = new byte[1 << 16];
  private long deflated;
  private final Counting xzBytes = new Counting();
  private final XZOutputStream xz;
  private long bytes;

  /**
   * @param expected about how many bytes will come (sizes xz's dictionary)
   */
  Baselines(long expected) {
    try {
      LZMA2Options o = new LZMA2Options(9);
      o.setDictSize(
          (int) Math.max(LZMA2Options.DICT_SIZE_MIN, Math.min(o.getDictSize(), expected)));
      xz = new XZOutputStream(xzBytes, o);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  void add(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) counts[b[i] & 0xff]++;
    bytes += len;
    deflater.setInput(b, off, len);
    while (!deflater.needsInput()) deflated += deflater.deflate(sink);
    try {
      xz.write(b, off, len);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The bytes a batch scores: its targets, in order. */
  void addScored(org.hnet.train.data.Batch batch) {
    int[] tg = batch.targets();
    byte[] buf = new byte[tg.length];
    int n = 0;
    for (int t : tg) if (t >= 0) buf[n++] = (byte) t;
    add(buf, 0, n);
  }

  Result finish() {
    deflater.finish();
    while (!deflater.finished()) deflated += deflater.deflate(sink);
    deflater.end();
    try {
      xz.close();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    double h = 0;
    for (long c : counts) {
      if (c > 0) {
        double p = (double) c / bytes;
        h -= p * Math.log(p) / Math.log(2);
      }
    }
    double n = Math.max(1, bytes);
    return new Result(bytes, h, 8.0 * (deflated + 18) / n, 8.0 * xzBytes.count / n);
  }

  private static final class Counting extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }
}
