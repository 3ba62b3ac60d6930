package org.hnet.train.data;

import org.hnet.HNetException;

/**
 * Training batches of i.i.d. windows ({@link Sampling#RANDOM}): row i (counted over the whole run)
 * starts at s_i = ⌊u_i · N⌋ of the train part (N bytes), u_i uniform on [0, 1) from a hash of
 * (seed, i), and holds the L bytes from there, wrapping from the part's end to its start. The part
 * starts with a BOS, so a wrapped row starts a new segment at the wrap; every byte is covered by
 * the same number of windows. A row depends only on (seed, i): resuming needs only i, and a resumed
 * run reads exactly the rows an uninterrupted one would.
 */
final class WindowStream implements BatchStream {
  private static final long SALT = 0x5851f42d4c957f2dL;

  private final PackedIndex index;
  private final long n;
  private final int batchRows;
  private final int seqLen;
  private final long seed;
  private long row;
  private final byte[] rows;

  WindowStream(PackedIndex index, long trainBytes, int batchRows, DataState start) {
    if (start.sampling() != Sampling.RANDOM)
      throw new IllegalArgumentException("not a random-window state");
    if (start.trainBytes() != trainBytes) {
      throw new HNetException(
          "data state is for a train part of "
              + start.trainBytes()
              + " bytes, this corpus has "
              + trainBytes
              + ": not the same corpus or eval fraction");
    }
    if (batchRows < 1 || (long) batchRows * start.seqLen() > Integer.MAX_VALUE - 16) {
      throw new HNetException(
          "batch of " + batchRows + " rows × " + start.seqLen() + " bytes is out of range");
    }
    this.index = index;
    this.n = trainBytes;
    this.batchRows = batchRows;
    this.seqLen = start.seqLen();
    this.seed = start.seed();
    this.row = start.row();
    this.rows = new byte[batchRows * seqLen];
  }

  /** Where row i starts: a uniform position of [0, N) drawn from (seed, i). */
  static long start(long seed, long i, long n) {
    long h = TrainStream.mix(TrainStream.mix(seed ^ SALT) + i * TrainStream.GOLDEN);
    return Math.unsignedMultiplyHigh(h, n);
  }

  @Override
  public Batch next() {
    for (int r = 0; r < batchRows; r++) {
      long p = start(seed, row, n);
      for (int done = 0; done < seqLen; ) {
        int k = (int) Math.min(seqLen - done, n - p);
        index.read(p, rows, r * seqLen + done, k);
        done += k;
        p = 0; // wrapped: the part's start (a BOS)
      }
      row++;
    }
    return Batch.of(rows, batchRows, seqLen, rows.length);
  }

  @Override
  public DataState state() {
    return DataState.random(seed, row, seqLen, n);
  }

  private Runnable onClose = () -> {};

  void onClose(Runnable action) {
    onClose = action;
  }

  @Override
  public void close() {
    onClose.run();
  }
}
