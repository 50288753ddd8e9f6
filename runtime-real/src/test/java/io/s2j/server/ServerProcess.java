package io.s2j.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code target/s2j-server.jar} running as a child process ({@code java -jar}), on a loopback
 * port, for the tests that must see the real binary die: {@link #kill} is {@code kill -9}
 * ({@link Process#destroyForcibly()} sends SIGKILL on Linux), so nothing of the server's shutdown
 * runs. The jar exists from Maven's {@code package} phase on, which is why these tests are
 * failsafe integration tests ({@code *IT}, run by {@code mvn verify}).
 */
public final class ServerProcess implements AutoCloseable {
  public static final Path JAR = Path.of("target", "s2j-server.jar");
  private static final Pattern LISTENING = Pattern.compile("s2j server listening on [^:]+:(\\d+)");
  private static final long START_TIMEOUT_MILLIS = 180_000;

  private final Process process;
  private final int port;
  private final Path log;

  private ServerProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts the jar with {@code args} (storage flags and the like) on {@code port} of 127.0.0.1
   * (0 = any free port; a fixed port is retried while the previous process's sockets still hold
   * it), the extra environment {@code env}, logging to {@code log} (appended), and waits until
   * it serves.
   */
  public static ServerProcess start(int port, List<String> args, Map<String, String> env, Path log)
      throws IOException, InterruptedException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run through `mvn verify` (the package phase builds it)");
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
    while (true) {
      long logStart = Files.exists(log) ? Files.size(log) : 0;
      String java = ProcessHandle.current().info().command().orElse("java");
      List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:+UseSerialGC", "-jar", JAR.toString(),
          "--host", "127.0.0.1", "--port", Integer.toString(port)));
      command.addAll(args);
      ProcessBuilder pb = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(env);
      Process p = pb.start();
      while (true) {
        String out = tail(log, logStart);
        Matcher m = LISTENING.matcher(out);
        if (m.find()) {
          return new ServerProcess(p, Integer.parseInt(m.group(1)), log);
        }
        if (!p.isAlive()) {
          if (port != 0 && out.contains("Address already in use") && System.nanoTime() - deadline < 0) {
            Thread.sleep(500);
            break; // start it again
          }
          throw new IllegalStateException("s2j-server exited with " + p.exitValue() + " before serving:\n" + out);
        }
        if (System.nanoTime() - deadline > 0) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          throw new IllegalStateException("s2j-server did not serve within " + START_TIMEOUT_MILLIS + " ms:\n" + out);
        }
        Thread.sleep(50);
      }
    }
  }

  /**
   * Starts the jar as {@link #start} does but sends it SIGKILL after {@code killAfterMillis},
   * whether or not it serves by then (a kill during recovery and take-over); returns whether it
   * was serving when killed.
   */
  public static boolean startAndKill(int port, List<String> args, Map<String, String> env, Path log, long killAfterMillis)
      throws IOException, InterruptedException {
    long logStart = Files.exists(log) ? Files.size(log) : 0;
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:+UseSerialGC", "-jar", JAR.toString(),
        "--host", "127.0.0.1", "--port", Integer.toString(port)));
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    Process p = pb.start();
    Thread.sleep(killAfterMillis);
    p.destroyForcibly();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("s2j-server " + p.pid() + " survived SIGKILL for 30 s");
    }
    return LISTENING.matcher(tail(log, logStart)).find();
  }

  private static String tail(Path log, long from) throws IOException {
    if (!Files.exists(log)) {
      return "";
    }
    byte[] all = Files.readAllBytes(log);
    return from >= all.length ? "" : new String(all, (int) from, all.length - (int) from, StandardCharsets.UTF_8);
  }

  /** A loopback port that was free a moment ago. */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  public String base() {
    return "http://127.0.0.1:" + port;
  }

  public Path log() {
    return log;
  }

  public long pid() {
    return process.pid();
  }

  /** {@code kill -9}: SIGKILL, then waits for the process to be gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("s2j-server " + process.pid() + " survived SIGKILL for 30 s");
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the process if it is still running (tests end with {@link #kill} or this). */
  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
