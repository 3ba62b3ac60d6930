package org.hnet.train.data;

import java.io.IOException;

/** A corpus as a sequence of documents that can be read from the start any number of times. */
interface DocSource {
  /** A fresh reader positioned before the first document. */
  DocReader open() throws IOException;

  /** The path the user gave, for messages. */
  String name();
}
