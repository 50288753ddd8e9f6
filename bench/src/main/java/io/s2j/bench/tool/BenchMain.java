package io.s2j.bench.tool;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code java -jar s2j-bench.jar --endpoint URL --basin B --stream S ...}: a load generator for any
 * S2 endpoint, like the S2 CLI's {@code bench} (see {@link BenchOptions#USAGE} and {@link Bench}).
 * Progress on stderr, one JSON result line on stdout.
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws InterruptedException {
    BenchOptions options;
    try {
      options = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      if (!"help".equals(e.getMessage())) {
        System.err.println("s2j-bench: " + e.getMessage());
      }
      System.err.println(BenchOptions.USAGE);
      System.exit("help".equals(e.getMessage()) ? 0 : 2);
      return;
    }
    ObjectNode result;
    try {
      result = new Bench(options, System.err).run();
    } catch (IllegalStateException e) {
      System.err.println("s2j-bench: " + e.getMessage());
      System.exit(1);
      return;
    }
    System.out.println(result.toString());
    System.out.flush();
    System.exit("ok".equals(result.path("integrity").asText()) ? 0 : 1);
  }
}
