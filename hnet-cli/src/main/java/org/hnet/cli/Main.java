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
    // a user's journey first, then the developer tools (the help lists them under their own
    // heading)
    subcommands = {
      DemoCommand.class,
      TrainCommand.class,
      GenerateCommand.class,
      ChunksCommand.class,
      EvalCommand.class,
      CompareCommand.class,
      ServeCommand.class,
      PlotCommand.class,
      InspectCommand.class,
      ForwardCommand.class,
      GradCommand.class,
      BenchCommand.class,
      LoadtestCommand.class,
      InitCommand.class,
      QuantizeCommand.class
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet demo                                    # train a small model on Moby Dick, see its chunks",
      "  ./hnet train --data my-corpus/ --out runs/mine --steps 2000",
      "  ./hnet generate --model runs/mine --prompt 'Call me' --show-chunks",
      "  ./hnet chunks --model runs/mine --text 'It was the best of times.' --html chunks.html",
      "  ./hnet eval --model runs/mine --data my-corpus/ --held-out 0.1",
      "",
      "Every command has --help with runnable examples."
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
          else if (ex instanceof java.nio.file.FileSystemException f)
            e.println("hnet: " + fileError(f));
          else if (ex instanceof java.io.UncheckedIOException u
              && u.getCause() instanceof java.nio.file.FileSystemException f)
            e.println("hnet: " + fileError(f));
          else e.println("hnet: internal error: " + ex + " (run with --debug for the stack trace)");
          e.flush();
          return 1;
        });
  }

  /** A file the user named that cannot be used, in words: "x.txt: no such file". */
  static String fileError(java.nio.file.FileSystemException f) {
    String why =
        f instanceof java.nio.file.NoSuchFileException
            ? "no such file or directory"
            : f instanceof java.nio.file.AccessDeniedException
                ? "permission denied"
                : f instanceof java.nio.file.FileAlreadyExistsException
                    ? "already exists"
                    : f instanceof java.nio.file.NotDirectoryException
                        ? "not a directory"
                        : f.getReason() != null ? f.getReason() : "cannot be used";
    return f.getFile() + ": " + why;
  }

  /** The commands for developers, listed apart from the user's in `hnet --help`. */
  static final java.util.Set<String> DEVELOPER_TOOLS =
      java.util.Set.of("forward", "grad", "bench", "loadtest", "init");

  /** The command list in two groups: what users run, then the developer tools. */
  static String commandList(CommandLine.Help help) {
    StringBuilder users = new StringBuilder(), tools = new StringBuilder();
    int width = 0;
    for (String name : help.subcommands().keySet()) width = Math.max(width, name.length());
    for (java.util.Map.Entry<String, CommandLine.Help> e : help.subcommands().entrySet()) {
      String[] header = e.getValue().commandSpec().usageMessage().header();
      String line =
          String.format("  %-" + width + "s  %s%n", e.getKey(), header.length > 0 ? header[0] : "");
      (DEVELOPER_TOOLS.contains(e.getKey()) ? tools : users).append(line);
    }
    return "Commands:%n".formatted() + users + "%nDeveloper tools:%n".formatted() + tools;
  }

  /** Runs the CLI and returns its exit code (0 ok, 1 error, 2 usage error). */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    boolean debug = java.util.Arrays.asList(args).contains("--debug");
    CommandLine cl = new CommandLine(new Main());
    cl.getHelpSectionMap()
        .put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST_HEADING, help -> "");
    cl.getHelpSectionMap()
        .put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST, Main::commandList);
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
