package org.hnet.testing;

import org.hnet.kernels.Parallel;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives every test of a class {@code @ExtendWith(RestoreThreads.class)} the worker-thread count it
 * started with back when it ends, passed or failed, so that a test may call {@link
 * Parallel#setThreads} freely without leaking its choice into the tests after it.
 */
public final class RestoreThreads implements BeforeEachCallback, AfterEachCallback {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(RestoreThreads.class);

  @Override
  public void beforeEach(ExtensionContext context) {
    context.getStore(NS).put("threads", Parallel.threads());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Parallel.setThreads(context.getStore(NS).get("threads", Integer.class));
  }
}
