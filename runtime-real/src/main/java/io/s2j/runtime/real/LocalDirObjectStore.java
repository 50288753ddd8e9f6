package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.s2j.runtime.Done;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * A bucket in a local directory, one file per object: the durable object store of the embedded
 * single-machine deployment.
 *
 * <p>Layout: a key's UTF-8 bytes in lowercase hex, cut into chunks of {@value #CHUNK_HEX} hex
 * digits (100 key bytes); every chunk but the last names a directory {@code <chunk>.d}, the last a
 * file {@code <chunk>.o}. Hex keeps every key inside the root whatever it contains ({@code ..},
 * {@code /}, unicode), lets {@code a} and {@code a/b} coexist, keeps names under 255 bytes, and
 * sorts exactly as the keys' UTF-8 bytes do, so a listing is an ordered walk. Each file holds a
 * small header (magic, etag) and then the object's bytes.
 *
 * <p>Writes are durable and atomic: the new version is written to {@code staging/}, fsynced,
 * renamed over the key's file ({@code ATOMIC_MOVE}) and the directory is fsynced. Readers open a
 * file and so see one whole version. Conditional writes are atomic within this process (a lock
 * stripe per key), except that {@code IfAbsent} publishes with link(2), which is atomic across
 * processes too; two processes racing {@code IfMatch} or unconditional puts of one key are
 * <em>not</em> protected from each other.
 * The etag ({@code <sha-256 prefix of the bytes>-<generation>}, the generation one more than the
 * replaced version's) is persisted in the header, so it survives restarts and changes on every
 * overwrite, even with identical bytes. Blocking file I/O runs on a small pool of this store's own,
 * never on a node's event loop.
 */
public final class LocalDirObjectStore implements SharedObjectStore {
  static final int CHUNK_HEX = 200;
  private static final byte[] MAGIC = {'S', '2', 'J', 'O'};
  private static final String FILE_SUFFIX = ".o";
  private static final String DIR_SUFFIX = ".d";
  private static final String STAGING = "staging";
  private static final Pattern ENTRY = Pattern.compile("([0-9a-f]{2})+\\.[od]");
  private static final int STRIPES = 64;
  private static final int IO_THREADS = 2;

  private final Path root;
  private final Path staging;
  private final ExecutorService io;
  private final Object[] stripes = new Object[STRIPES];
  private final AtomicLong tempCounter = new AtomicLong();
  /** Keeps the temp names of two stores open on one directory (in one process or two) apart. */
  private final String tempSuffix =
      "-" + ProcessHandle.current().pid() + "-" + Long.toHexString(new java.security.SecureRandom().nextLong()) + ".tmp";

  /** Opens (creating if needed) the store at {@code root}, removing temp files a crash left behind. */
  public LocalDirObjectStore(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    this.staging = this.root.resolve(STAGING);
    Files.createDirectories(staging);
    try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(staging)) {
      for (Path p : leftovers) {
        Files.deleteIfExists(p);
      }
    }
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Object();
    }
    AtomicInteger threads = new AtomicInteger();
    ThreadFactory factory = r -> {
      Thread t = new Thread(r, "s2j-localdir-io-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    this.io = Executors.newFixedThreadPool(IO_THREADS, factory);
  }

  public Path root() {
    return root;
  }

  @Override
  public CompletableFuture<GetResult> get(ObjectKey key, ByteRange range) {
    return onIo(() -> {
      try (FileChannel ch = FileChannel.open(pathOf(key), StandardOpenOption.READ)) {
        ETag etag = readEtag(ch);
        long headerBytes = ch.position();
        long size = ch.size() - headerBytes;
        long offset = 0;
        long length = size;
        if (range != null) {
          if (range.offset() >= size) {
            return new GetResult.RangeNotSatisfiable(size);
          }
          offset = range.offset();
          length = Math.min(size, range.offset() + range.length()) - offset;
        }
        byte[] data = new byte[Math.toIntExact(length)];
        readFully(ch, ByteBuffer.wrap(data), headerBytes + offset);
        return new GetResult.Found(UnsafeByteOperations.unsafeWrap(data), etag, size);
      } catch (NoSuchFileException e) {
        return new GetResult.NotFound();
      }
    }, false);
  }

  @Override
  public CompletableFuture<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    return onIo(() -> {
      Path target = pathOf(key);
      synchronized (stripeOf(key)) {
        ETag current = currentEtag(target);
        boolean holds = switch (condition) {
          case PutCondition.None n -> true;
          case PutCondition.IfAbsent a -> current == null;
          case PutCondition.IfMatch m -> m.etag().equals(current);
        };
        if (!holds) {
          return new PutResult.PreconditionFailed();
        }
        ETag etag = new ETag(Etags.contentHash(data) + "-" + (generationOf(current) + 1));
        Path temp = staging.resolve(tempCounter.incrementAndGet() + tempSuffix);
        try {
          writeDurably(temp, etag, data);
          ensureParents(target);
        } catch (IOException e) {
          Files.deleteIfExists(temp);
          // Nothing was renamed into place: the write certainly did not happen.
          throw IoFailure.definite(IoFailure.Kind.SERVER_ERROR, "put " + key + ": " + e);
        }
        if (condition instanceof PutCondition.IfAbsent) {
          // link(2) fails if the name exists, atomically, even against another process writing the
          // same directory (the stripe lock only covers this one): If-None-Match holds across
          // processes, which the metadata log's fencing relies on.
          try {
            Files.createLink(target, temp);
          } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(temp);
            return new PutResult.PreconditionFailed();
          }
          Files.deleteIfExists(temp);
        } else {
          Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        }
        fsyncDirectory(target.getParent());
        return new PutResult.Written(etag);
      }
    }, true);
  }

  @Override
  public CompletableFuture<Done> delete(ObjectKey key) {
    return onIo(() -> {
      Path target = pathOf(key);
      synchronized (stripeOf(key)) {
        if (Files.deleteIfExists(target)) {
          fsyncDirectory(target.getParent());
        }
      }
      // Empty directories are left in place: removing one could race a put of another key that is
      // about to rename a file into it. Listings skip them.
      return Done.DONE;
    }, true);
  }

  @Override
  public CompletableFuture<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
    return onIo(() -> {
      Listing listing = new Listing(hex(prefix), startAfter == null ? null : hex(startAfter.value()), limit);
      listing.walk(root, "");
      return new ListPage(listing.objects, listing.truncated);
    }, false);
  }

  /** Stops the I/O threads after the operations already submitted. */
  @Override
  public void close() {
    io.shutdown();
    try {
      if (!io.awaitTermination(30, TimeUnit.SECONDS)) {
        io.shutdownNow();
      }
    } catch (InterruptedException e) {
      io.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** The file holding {@code key}; always under the root, whatever the key contains. */
  Path pathOf(ObjectKey key) {
    String h = hex(key.value());
    Path p = root;
    int at = 0;
    while (h.length() - at > CHUNK_HEX) {
      p = p.resolve(h.substring(at, at + CHUNK_HEX) + DIR_SUFFIX);
      at += CHUNK_HEX;
    }
    return p.resolve(h.substring(at) + FILE_SUFFIX);
  }

  private static String hex(String s) {
    return HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String unhex(String h) {
    return new String(HexFormat.of().parseHex(h), StandardCharsets.UTF_8);
  }

  private Object stripeOf(ObjectKey key) {
    return stripes[Math.floorMod(key.value().hashCode(), STRIPES)];
  }

  /** The etag of the version at {@code file}, or null if there is none. */
  private static ETag currentEtag(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return readEtag(ch);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static long generationOf(ETag etag) {
    if (etag == null) {
      return 0;
    }
    String v = etag.value();
    return Long.parseLong(v.substring(v.lastIndexOf('-') + 1));
  }

  /** Reads the header, leaving the channel positioned at the object's first byte. */
  private static ETag readEtag(FileChannel ch) throws IOException {
    ByteBuffer fixed = ByteBuffer.allocate(MAGIC.length + 2);
    readFully(ch, fixed, 0);
    fixed.flip();
    for (byte b : MAGIC) {
      if (fixed.get() != b) {
        throw new IOException("not an s2j object file (bad magic)");
      }
    }
    int etagBytes = Short.toUnsignedInt(fixed.getShort());
    ByteBuffer etag = ByteBuffer.allocate(etagBytes);
    readFully(ch, etag, MAGIC.length + 2);
    ch.position(MAGIC.length + 2L + etagBytes);
    return new ETag(new String(etag.array(), StandardCharsets.US_ASCII));
  }

  private static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
    long at = position;
    while (dst.hasRemaining()) {
      int n = ch.read(dst, at);
      if (n < 0) {
        throw new IOException("object file is truncated");
      }
      at += n;
    }
  }

  private static void writeDurably(Path temp, ETag etag, ByteString data) throws IOException {
    byte[] etagBytes = etag.value().getBytes(StandardCharsets.US_ASCII);
    ByteBuffer header = ByteBuffer.allocate(MAGIC.length + 2 + etagBytes.length);
    header.put(MAGIC).putShort((short) etagBytes.length).put(etagBytes).flip();
    try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      writeFully(ch, header);
      for (ByteBuffer b : data.asReadOnlyByteBufferList()) {
        writeFully(ch, b);
      }
      ch.force(true);
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer src) throws IOException {
    while (src.hasRemaining()) {
      ch.write(src);
    }
  }

  /** Creates the directories above {@code file}, fsyncing each parent that gained one. */
  private void ensureParents(Path file) throws IOException {
    Path dir = file.getParent();
    if (dir.equals(root) || Files.isDirectory(dir)) {
      return;
    }
    Path cur = root;
    for (Path part : root.relativize(dir)) {
      Path next = cur.resolve(part.toString());
      if (!Files.isDirectory(next)) {
        try {
          Files.createDirectory(next);
          fsyncDirectory(cur);
        } catch (FileAlreadyExistsException e) {
          // Another key's put created it first.
        }
      }
      cur = next;
    }
  }

  private static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** An ordered walk of the tree that collects one page of a listing. */
  private final class Listing {
    private final String prefixHex;
    private final String afterHex;
    private final int limit;
    private final List<ObjectSummary> objects = new ArrayList<>();
    private boolean truncated;
    private boolean done;

    Listing(String prefixHex, String afterHex, int limit) {
      this.prefixHex = prefixHex;
      this.afterHex = afterHex;
      this.limit = limit;
    }

    void walk(Path dir, String dirHex) throws IOException {
      List<String> names = new ArrayList<>();
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
        for (Path p : entries) {
          String name = p.getFileName().toString();
          if (ENTRY.matcher(name).matches()) {
            names.add(name);
          }
        }
      } catch (NoSuchFileException e) {
        return;
      }
      // By stem, and a key's file before the directory of the longer keys it prefixes.
      names.sort(Comparator.comparing((String n) -> n.substring(0, n.length() - 2))
          .thenComparing(n -> n.endsWith(FILE_SUFFIX) ? 0 : 1));
      for (String name : names) {
        if (done) {
          return;
        }
        String full = dirHex + name.substring(0, name.length() - 2);
        boolean inPrefix = full.startsWith(prefixHex);
        if (!inPrefix && !prefixHex.startsWith(full)) {
          if (full.compareTo(prefixHex) > 0) {
            done = true; // Everything from here on sorts after the prefix's keys.
          }
          continue;
        }
        if (name.endsWith(FILE_SUFFIX)) {
          if (inPrefix && (afterHex == null || full.compareTo(afterHex) > 0)) {
            add(dir.resolve(name), full);
          }
        } else if (afterHex == null || full.compareTo(afterHex) > 0 || afterHex.startsWith(full)) {
          walk(dir.resolve(name), full);
        }
      }
    }

    private void add(Path file, String keyHex) throws IOException {
      if (objects.size() == limit) {
        truncated = true;
        done = true;
        return;
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        ETag etag = readEtag(ch);
        objects.add(new ObjectSummary(ObjectKey.of(unhex(keyHex)), ch.size() - ch.position(), etag));
      } catch (NoSuchFileException e) {
        // Deleted since the directory was read: the listing may or may not include it.
      }
    }
  }

  /** A blocking step on the store's I/O threads. */
  @FunctionalInterface
  private interface IoStep<T> {
    T run() throws IOException;
  }

  private <T> CompletableFuture<T> onIo(IoStep<T> step, boolean write) {
    CompletableFuture<T> future = new CompletableFuture<>();
    try {
      io.execute(() -> {
        try {
          future.complete(step.run());
        } catch (IOException e) {
          // A write may have reached the disk before failing (e.g. the directory fsync).
          future.completeExceptionally(write
              ? IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, e.toString())
              : IoFailure.definite(IoFailure.Kind.SERVER_ERROR, e.toString()));
        } catch (RuntimeException | Error e) {
          future.completeExceptionally(e);
        }
      });
    } catch (RejectedExecutionException e) {
      future.completeExceptionally(IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "object store is closed"));
    }
    return future;
  }
}
