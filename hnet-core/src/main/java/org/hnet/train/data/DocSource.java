package org.hnet.train.data;

import java.io.IOException;

/** A corpus as a sequence of documents that can be read from the start any number of times. */
interface DocSource {
  /** A fresh reader positioned before the first document. */
  DocReader open() throws IOException;

  /** The path the user gave, for messages. */
  String name();

  /**
   * Random access to the documents, or null when the source can only be streamed ({@link
   * #whyNoIndex()} says why). {@code cache} is a file where an index that is costly to build may be
   * kept for the next opening (null: none); an index is rebuilt when the cache does not match.
   */
  default DocIndex index(java.nio.file.Path cache) throws IOException {
    return null;
  }

  /** Why {@link #index} is null, for a warning. */
  default String whyNoIndex() {
    return name() + " can only be read in order";
  }
}
