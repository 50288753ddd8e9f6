/**
 * The versioned binary formats s2j writes to object storage: {@link io.s2j.format.Chunk} (a
 * channel's write-ahead log, many streamlets) and {@link io.s2j.format.Segment} (one streamlet's
 * records for long-term reads), both built from {@link io.s2j.format.RecordBatchCodec} runs in
 * checksummed frames. Every piece a reader may fetch alone carries a CRC32C; every decoding failure
 * is a {@link io.s2j.format.CorruptData}. See docs/formats.md.
 */
package io.s2j.format;
