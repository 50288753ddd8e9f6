package io.s2j.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** WAL keys that are not chunks (an S3-compatible server's temp files) are not taken for chunks. */
class ChannelWalKeyTest {
  @Test
  void onlyChunkNumbersAreChunks() {
    String prefix = Channel.walPrefix("ch-1");
    String chunk = Channel.chunkKey("ch-1", 2230).value();
    assertEquals(2230, Channel.chunkSeqOf(chunk.substring(prefix.length())));
    assertEquals(Long.MAX_VALUE, Channel.chunkSeqOf(Channel.chunkKey("ch-1", Long.MAX_VALUE).value().substring(prefix.length())));
    assertEquals(-1, Channel.chunkSeqOf(chunk.substring(prefix.length()) + "-44bdd509-9009-43a3-bfef-7d8d7cb5a7e1"));
    assertEquals(-1, Channel.chunkSeqOf(""));
    assertEquals(-1, Channel.chunkSeqOf("99999999999999999999"));
    assertEquals(-1, Channel.chunkSeqOf("12a"));
  }
}
