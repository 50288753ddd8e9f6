package io.s2j.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One role process of a distributed cell ({@code s2j-server.jar --role …}) started by a test as its
 * own small JVM, restartable with the same arguments, and signalled like an operator would:
 * {@code kill -9}, {@code SIGSTOP}/{@code SIGCONT}.
 */
final class RoleJvm implements AutoCloseable {
  private static final Pattern READY = Pattern.compile("s2j role \\w+ ready");
  private static final long START_TIMEOUT_MILLIS = 180_000;

  final String name;
  private final List<String> args;
  private final Map<String, String> env;
  final Path log;
  private volatile Process process;
  private volatile boolean closed;

  RoleJvm(String name, List<String> args, Map<String, String> env, Path log) {
    this.name = name;
    this.args = List.copyOf(args);
    this.env = Map.copyOf(env);
    this.log = log;
  }

  /** Launches the JVM without waiting; returns the log offset its readiness is looked for from. */
  synchronized long launch() throws IOException {
    if (!Files.isRegularFile(ServerProcess.JAR)) {
      throw new IllegalStateException(ServerProcess.JAR.toAbsolutePath() + " is missing: run through `mvn verify`");
    }
    long offset = Files.exists(log) ? Files.size(log) : 0;
    String java = ProcessHandle.current().info().command().orElse("java");
    // GC pauses go to <log>.<pid>.gc next to the role's log, one file per incarnation (no rotation):
    // a pause longer than a lease TTL costs the process its lease.
    List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Xlog:gc:file=" + log.toAbsolutePath() + ".%p.gc:uptime,time:filecount=0", "-jar", ServerProcess.JAR.toString()));
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    process = pb.start();
    return offset;
  }

  /** Waits until the process launched at {@code offset} says it is ready. */
  void awaitReady(long offset) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
    Process p = process;
    while (true) {
      String out = tail(offset);
      if (READY.matcher(out).find()) {
        return;
      }
      if (!p.isAlive()) {
        throw new IllegalStateException(name + " exited with " + p.exitValue() + " before it was ready:\n" + out);
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(name + " was not ready within " + START_TIMEOUT_MILLIS + " ms:\n" + out);
      }
      Thread.sleep(50);
    }
  }

  void start() throws IOException, InterruptedException {
    awaitReady(launch());
  }

  String tail(long from) throws IOException {
    if (!Files.exists(log)) {
      return "";
    }
    byte[] all = Files.readAllBytes(log);
    return from >= all.length ? "" : new String(all, (int) from, all.length - (int) from, StandardCharsets.UTF_8);
  }

  long logSize() throws IOException {
    return Files.exists(log) ? Files.size(log) : 0;
  }

  /** {@code kill -9}, then waits for the process to be gone. */
  void kill() throws InterruptedException {
    Process p = process;
    p.destroyForcibly();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " survived SIGKILL");
    }
  }

  /** Sends {@code signal} (STOP, CONT) with kill(1). */
  void signal(String signal) throws IOException, InterruptedException {
    Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + name + " failed");
    }
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** The exit status if the process has exited, else -1. */
  int exitStatus() {
    Process p = process;
    return p == null || p.isAlive() ? -1 : p.exitValue();
  }

  boolean closed() {
    return closed;
  }

  @Override
  public void close() {
    closed = true;
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
