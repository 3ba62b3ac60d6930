package org.hnet.train.data;

import org.hnet.HNetException;

/**
 * Training batches by streaming shuffle ({@link Sampling#SEQUENTIAL}).
 *
 * <p>The train part (N bytes) is cut into R = ceil(N/L) rows: row i is bytes [iL, iL+L) of the
 * part, the last row wrapping around to its start, so every epoch has the same R rows. Rows are
 * grouped into blocks of K consecutive rows; blocks are read in order, and the rows of block b are
 * emitted in a permutation drawn from (seed, epoch, b). Only one block is held in memory (K·L
 * bytes), and reaching any position only needs the block's byte offset, which is what makes {@link
 * DataState} a handful of numbers. Rows straddle document boundaries freely; the BOS bytes inside
 * them start new segments in the batch.
 */
final class TrainStream implements BatchStream {
  static final long GOLDEN = 0x9e3779b97f4a7c15L;

  private final PackedReader reader;
  private final long n;
  private final int seqLen;
  private final int blockRows;
  private final long seed;
  private final long rowsPerEpoch;
  private final byte[] block;
  private final int[] perm;
  private long loadedBlock = -1;
  private long permEpoch = -1;
  private long permBlock = -1;
  private final int batchRows;
  private long epoch;
  private long row;
  private byte[] rows = new byte[0];

  TrainStream(PackedReader reader, long trainBytes, int batchRows, DataState start) {
    this.reader = reader;
    this.n = trainBytes;
    this.seqLen = start.seqLen();
    this.blockRows = start.blockRows();
    this.seed = start.seed();
    this.rowsPerEpoch = (n + seqLen - 1) / seqLen;
    if (batchRows < 1 || (long) batchRows * seqLen > Integer.MAX_VALUE - 16) {
      throw new HNetException(
          "batch of " + batchRows + " rows × " + seqLen + " bytes is out of range");
    }
    this.batchRows = batchRows;
    if (start.trainBytes() != n) {
      throw new HNetException(
          "data state is for a train part of "
              + start.trainBytes()
              + " bytes, this corpus has "
              + n
              + ": not the same corpus or eval fraction");
    }
    if (start.row() > rowsPerEpoch) {
      throw new HNetException(
          "data state row " + start.row() + " is past the epoch's " + rowsPerEpoch + " rows");
    }
    int capacity = (int) Math.min(blockRows, rowsPerEpoch);
    if ((long) capacity * seqLen > Integer.MAX_VALUE - 16) {
      throw new HNetException(
          "shuffle block of " + capacity + " rows × " + seqLen + " bytes does not fit an array");
    }
    this.block = new byte[capacity * seqLen];
    this.perm = new int[capacity];
    this.epoch = start.epoch();
    this.row = start.row();
  }

  /** Bytes held for shuffling, for the memory test. */
  int bufferedBytes() {
    return block.length + rows.length;
  }

  long rowsPerEpoch() {
    return rowsPerEpoch;
  }

  @Override
  public Batch next() {
    int b = batchRows;
    int L = seqLen;
    if (rows.length != b * L) rows = new byte[b * L];
    for (int i = 0; i < b; i++) {
      if (row == rowsPerEpoch) {
        epoch++;
        row = 0;
      }
      long blk = row / blockRows;
      if (blk != loadedBlock) load(blk);
      if (epoch != permEpoch || blk != permBlock) permute(blk);
      int r = perm[(int) (row % blockRows)];
      System.arraycopy(block, r * L, rows, i * L, L);
      row++;
    }
    return Batch.of(rows, b, L, b * L);
  }

  @Override
  public DataState state() {
    return row == rowsPerEpoch
        ? new DataState(Sampling.SEQUENTIAL, seed, epoch + 1, 0, seqLen, blockRows, n)
        : new DataState(Sampling.SEQUENTIAL, seed, epoch, row, seqLen, blockRows, n);
  }

  private int rowsIn(long blk) {
    return (int) Math.min(blockRows, rowsPerEpoch - blk * blockRows);
  }

  /** Reads block {@code blk}: bytes [blk·K·L, +m·L) of the train part, wrapping at its end. */
  private void load(long blk) {
    long start = blk * blockRows * seqLen;
    int len = rowsIn(blk) * seqLen;
    int avail = (int) Math.min(len, n - start);
    if (reader.position() > start) reader.rewind();
    long gap = start - reader.position();
    if (reader.skip(gap) != gap || reader.read(block, 0, avail) != avail) throw changed();
    if (avail < len) {
      if (start == 0) {
        // The whole part is in the block already (N < L): repeat it.
        for (int i = avail; i < len; i += avail) {
          System.arraycopy(block, 0, block, i, Math.min(avail, len - i));
        }
      } else {
        // N > K·L here, so the wrapped tail is under one row and comes from the part's start.
        reader.rewind();
        if (reader.read(block, avail, len - avail) != len - avail) throw changed();
      }
    }
    loadedBlock = blk;
  }

  private HNetException changed() {
    return new HNetException("corpus ended early: the files changed since the corpus was opened");
  }

  /** Fisher–Yates from a SplitMix64 sequence, so the order is fixed by the state on any JVM. */
  private void permute(long blk) {
    int m = rowsIn(blk);
    for (int i = 0; i < m; i++) perm[i] = i;
    long s = mix(mix(mix(seed) + epoch) + blk);
    for (int i = m - 1; i > 0; i--) {
      s += GOLDEN;
      int j = (int) Math.unsignedMultiplyHigh(mix(s), i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    permEpoch = epoch;
    permBlock = blk;
  }

  /** SplitMix64's finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private Runnable onClose = () -> {};

  /** Lets the corpus forget a stream the caller closed. */
  void onClose(Runnable action) {
    onClose = action;
  }

  @Override
  public void close() {
    reader.close();
    onClose.run();
  }
}
