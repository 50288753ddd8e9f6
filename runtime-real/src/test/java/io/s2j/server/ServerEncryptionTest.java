package io.s2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.s2j.wire.proto.AppendAck;
import io.s2j.wire.proto.AppendInput;
import io.s2j.wire.proto.AppendRecord;
import java.net.http.HttpRequest;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Encrypted streams over HTTP (S2-API §15, §8.8): the cipher is fixed at creation, the key goes
 * with every append and read, commands stay plaintext. Names carry behaviour case numbers.
 */
class ServerEncryptionTest extends ServerFixture {
  private static final String KEY = Base64.getEncoder().encodeToString(bytes(32, 7));
  private static final String OTHER_KEY = Base64.getEncoder().encodeToString(bytes(32, 8));

  private static byte[] bytes(int n, int fill) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) fill);
    return b;
  }

  private static String encryptedBasin(String cipher) {
    return basin("{\"stream_cipher\":\"" + cipher + "\"}");
  }

  private static JsonNode listed(String basin) {
    return get("/v1/streams", "s2-basin", basin).assertStatus(200).json().path("streams");
  }

  @Test
  void case29to31_cipherIsTheBasinsAtCreationAndNeverChanges() {
    String plain = basin(null);
    stream(plain, "s", null);
    assertTrue(listed(plain).get(0).path("cipher").isNull());
    String b = encryptedBasin("aegis-256");
    stream(b, "s1", null);
    assertEquals("aegis-256", listed(b).get(0).path("cipher").asText());
    call("PATCH", "/v1/basins/" + b, "{\"stream_cipher\":\"aes-256-gcm\"}").assertStatus(200);
    stream(b, "s2", null);
    JsonNode streams = listed(b);
    assertEquals("aegis-256", streams.get(0).path("cipher").asText());
    assertEquals("aes-256-gcm", streams.get(1).path("cipher").asText());
  }

  @Test
  void case92_appendAndReadWithTheKey() {
    for (String cipher : List.of("aegis-256", "aes-256-gcm")) {
      String b = encryptedBasin(cipher);
      stream(b, "s", null);
      append(b, "s", "{\"records\":[{\"body\":\"secret-1\",\"headers\":[[\"k\",\"v\"]]},{\"body\":\"secret-2\"}]}",
          "s2-encryption-key", KEY).assertStatus(200);
      JsonNode batch = read(b, "s", "seq_num=0&wait=0", "s2-encryption-key", KEY).assertStatus(200).json();
      assertEquals(List.of("secret-1", "secret-2"), bodies(batch), cipher);
      assertEquals("k", batch.path("records").get(0).path("headers").get(0).get(0).asText(), cipher);
    }
  }

  @Test
  void missingMalformedAndWrongLengthKeysAreBadHeaders() {
    String b = encryptedBasin("aegis-256");
    stream(b, "s", null);
    Resp missing = append(b, "s", "{\"records\":[{\"body\":\"x\"}]}").assertError(400, "bad_header");
    assertTrue(missing.json().path("message").asText().contains("missing encryption key for stream cipher 'aegis-256'"), missing::text);
    read(b, "s", "seq_num=0", "s2-encryption-key", "not base64!").assertError(400, "bad_header");
    Resp shortKey = read(b, "s", "seq_num=0", "s2-encryption-key", Base64.getEncoder().encodeToString(bytes(16, 1)));
    shortKey.assertError(400, "bad_header");
    assertTrue(shortKey.json().path("message").asText().contains("invalid encryption key length"), shortKey::text);
    assertEquals(0, tail(b, "s").assertStatus(200).json().path("tail").path("seq_num").asLong(), "nothing was appended");
  }

  @Test
  void aKeyForAnUnencryptedStreamIsIgnored() {
    String b = basin(null);
    stream(b, "s", null);
    append(b, "s", "{\"records\":[{\"body\":\"plain\"}]}", "s2-encryption-key", KEY).assertStatus(200);
    assertEquals(List.of("plain"), bodies(read(b, "s", "seq_num=0&wait=0").assertStatus(200).json()));
  }

  @Test
  void case54_deleteWithoutAKey() {
    String b = encryptedBasin("aegis-256");
    stream(b, "s", null);
    append(b, "s", "{\"records\":[{\"body\":\"x\"}]}", "s2-encryption-key", KEY).assertStatus(200);
    call("DELETE", "/v1/streams/s", null, "s2-basin", b).assertStatus(202);
  }

  @Test
  void case73_fencingCommandsStayPlaintext() {
    String b = encryptedBasin("aegis-256");
    stream(b, "s", null);
    String fence = "{\"fencing_token\":\"\",\"records\":[{\"headers\":[[\"\",\"fence\"]],\"body\":\"updated-token\"}]}";
    JsonNode ack = append(b, "s", fence, "s2-encryption-key", KEY).assertStatus(200).json();
    assertEquals(1, ack.path("end").path("seq_num").asLong());
    Resp mismatch = append(b, "s", "{\"fencing_token\":\"\",\"match_seq_num\":1,\"records\":[{\"body\":\"x\"}]}", "s2-encryption-key", KEY);
    assertEquals(412, mismatch.status(), mismatch::text);
    assertEquals("updated-token", mismatch.json().path("fencing_token_mismatch").asText());
    append(b, "s", "{\"fencing_token\":\"updated-token\",\"records\":[{\"body\":\"x\"}]}", "s2-encryption-key", KEY)
        .assertStatus(200);
  }

  @Test
  void case131_autoCreatedOnAppendWithTheBasinsCipher() {
    String b = basin("{\"create_stream_on_append\":true,\"stream_cipher\":\"aegis-256\"}");
    JsonNode ack = append(b, "new", "{\"records\":[{\"body\":\"secret\"}]}", "s2-encryption-key", KEY).assertStatus(200).json();
    assertEquals(1, ack.path("end").path("seq_num").asLong());
    assertEquals("aegis-256", listed(b).get(0).path("cipher").asText());
    assertEquals(List.of("secret"), bodies(read(b, "new", "seq_num=0&wait=0", "s2-encryption-key", KEY).assertStatus(200).json()));
  }

  @Test
  void case136_checkTailNeedsNoKey() {
    String b = basin("{\"create_stream_on_read\":true,\"stream_cipher\":\"aegis-256\"}");
    JsonNode t = tail(b, "new").assertStatus(200).json().path("tail");
    assertEquals(0, t.path("seq_num").asLong());
    assertEquals("aegis-256", listed(b).get(0).path("cipher").asText());
  }

  @Test
  void case147_wrongKeyIsDecryptionFailed() {
    String b = encryptedBasin("aegis-256");
    stream(b, "s", null);
    append(b, "s", "{\"records\":[{\"body\":\"x\"}]}", "s2-encryption-key", KEY).assertStatus(200);
    Resp r = read(b, "s", "seq_num=0&wait=0", "s2-encryption-key", OTHER_KEY).assertError(400, "decryption_failed");
    assertTrue(r.json().path("message").asText().contains("record decryption failed"), r::text);
  }

  @Test
  void case148and149_sessionsWithoutAKeyAreRefusedAsJson() {
    String b = encryptedBasin("aegis-256");
    stream(b, "s", null);
    append(b, "s", "{\"records\":[{\"body\":\"x\"}]}", "s2-encryption-key", KEY).assertStatus(200);
    for (String[] h : List.of(new String[] {"accept", "text/event-stream"}, new String[] {"content-type", "s2s/proto"})) {
      Resp r = read(b, "s", "seq_num=0", h);
      r.assertError(400, "bad_header");
      assertTrue(r.json().path("message").asText().contains("missing encryption key"), r::text);
    }
  }

  @Test
  void case151_protobufAppendOnAnEncryptedStream() throws Exception {
    String b = encryptedBasin("aegis-256");
    stream(b, "s", null);
    byte[] input = AppendInput.newBuilder().addRecords(AppendRecord.newBuilder().setBody(ByteString.copyFromUtf8("secret"))).build()
        .toByteArray();
    Resp r = send(req("/v1/streams/s/records").header("s2-basin", b).header("content-type", "application/protobuf")
        .header("accept", "application/protobuf").header("s2-encryption-key", KEY)
        .POST(HttpRequest.BodyPublishers.ofByteArray(input)));
    assertEquals(200, r.status(), r::text);
    assertEquals(1, AppendAck.parseFrom(r.body()).getEnd().getSeqNum());
    assertEquals(List.of("secret"), bodies(read(b, "s", "seq_num=0&wait=0", "s2-encryption-key", KEY).assertStatus(200).json()));
  }
}
