package org.hnet.train.data;

/** An endless, deterministic sequence of training batches. */
public interface BatchStream extends AutoCloseable {
  /** The next batch. */
  Batch next();

  /**
   * The position after the last batch returned: {@link Corpus#train(int, int, DataState)} with it
   * continues with exactly the batches this stream would have returned next.
   */
  DataState state();

  /** Releases the open files; the stream cannot be used afterwards. */
  @Override
  void close();
}
