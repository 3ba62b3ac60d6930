package org.hnet.cli;

import java.io.PrintWriter;
import org.hnet.HNetException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code hnet} command: subcommands for every job, one-line errors, stack traces only with
 * --debug.
 */
@Command(
    name = "hnet",
    mixinStandardHelpOptions = true,
    version = "hnet-java 0.1.0",
    description = "H-Net (dynamic chunking, byte-level language model) on the JVM.",
    subcommands = {
      DemoCommand.class,
      TrainCommand.class,
      EvalCommand.class,
      ChunksCommand.class,
      PlotCommand.class,
      ForwardCommand.class,
      GenerateCommand.class,
      GradCommand.class,
      BenchCommand.class,
      InitCommand.class,
      InspectCommand.class
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet inspect --config hnet-core/src/test/resources/configs/official/hnet_2stage_XL.json",
      "  ./hnet forward --model DIR --input IN.safetensors --output OUT.safetensors"
    })
public final class Main implements Runnable {
  @Option(
      names = "--debug",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces of errors.")
  boolean debug;

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    System.exit(run(out, err, args));
  }

  /**
   * Errors as the contract says: a usage error is one line naming the option (exit 2), a bad file
   * or value one line naming it (exit 1), a stack trace only with --debug.
   */
  static void handleErrors(CommandLine cl, boolean debug) {
    // A usage error is one line naming the option, with where to look, and exit code 2.
    cl.setParameterExceptionHandler(
        (ex, parsedArgs) -> {
          PrintWriter e = ex.getCommandLine().getErr();
          if (debug) ex.printStackTrace(e);
          String cmd = ex.getCommandLine().getCommandSpec().qualifiedName();
          e.println(
              "hnet: "
                  + ex.getMessage().lines().findFirst().orElse("")
                  + " (see '"
                  + cmd
                  + " --help')");
          e.flush();
          return 2;
        });
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          PrintWriter e = cmd.getErr();
          if (debug) ex.printStackTrace(e);
          else if (ex instanceof HNetException) e.println("hnet: " + ex.getMessage());
          else e.println("hnet: internal error: " + ex + " (run with --debug for the stack trace)");
          e.flush();
          return 1;
        });
  }

  /** Runs the CLI and returns its exit code (0 ok, 1 error, 2 usage error). */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    boolean debug = java.util.Arrays.asList(args).contains("--debug");
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(out);
    cl.setErr(err);
    handleErrors(cl, debug);
    try {
      return cl.execute(args);
    } catch (OutOfMemoryError oom) {
      err.println("hnet: out of memory (raise the heap, e.g. HNET_JAVA_OPTS=-Xmx16g ./hnet ...)");
      err.flush();
      return 1;
    } catch (ExceptionInInitializerError ex) { // e.g. a bad -Dhnet.vector.bits in HNET_JAVA_OPTS
      if (debug) ex.printStackTrace(err);
      else err.println("hnet: " + (ex.getCause() != null ? ex.getCause().getMessage() : ex));
      err.flush();
      return 1;
    }
  }
}
