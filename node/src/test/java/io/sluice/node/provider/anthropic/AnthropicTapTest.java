package io.sluice.node.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.StreamTap;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class AnthropicTapTest {
  private static final byte[] BODY = AnthropicStreamDecoderTest.STREAM.getBytes(StandardCharsets.UTF_8);
  /** Usage of {@link AnthropicStreamDecoderTest#STREAM}: 10 + 2 + 30 input, 42 output at the end. */
  private static final Usage USAGE = new Usage(42, 42, 30, 2);
  /** Its text and input_json deltas (the empty partial_json one counts: it is a delta event). */
  private static final long CONTENT = 5;

  private record Run(ByteString out, StreamTap tap) {}

  private static Run run(byte[] body, int... cuts) {
    StreamTap tap = AnthropicCodec.tap();
    ByteString out = ByteString.emptyByteString();
    int from = 0;
    for (int cut : cuts) {
      out = out.concat(tap.onChunk(ByteString.fromArray(body, from, cut - from)));
      from = cut;
    }
    out = out.concat(tap.onChunk(ByteString.fromArray(body, from, body.length - from)));
    return new Run(out.concat(tap.flush()), tap);
  }

  @Test
  void onChunk_splitAtEveryByteOffset_passesBytesUnchangedAndReadsUsage() {
    for (int cut = 0; cut <= BODY.length; cut++) {
      Run r = run(BODY, cut);
      assertEquals(ByteString.fromArray(BODY), r.out(), "split at " + cut);
      assertEquals(USAGE, r.tap().usage(), "split at " + cut);
      assertEquals(CONTENT, r.tap().contentChunks(), "split at " + cut);
    }
  }

  @Test
  void onChunk_crlfSplitAtEveryByteOffset_passesBytesUnchangedAndReadsUsage() {
    byte[] body = AnthropicStreamDecoderTest.STREAM.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
    for (int cut = 0; cut <= body.length; cut++) {
      Run r = run(body, cut);
      assertEquals(ByteString.fromArray(body), r.out(), "split at " + cut);
      assertEquals(USAGE, r.tap().usage(), "split at " + cut);
      assertEquals(CONTENT, r.tap().contentChunks(), "split at " + cut);
    }
  }

  @Test
  void onChunk_handsOnWholeEventsAsTheyComplete() {
    StreamTap tap = AnthropicCodec.tap();
    String ping = "event: ping\ndata: {\"type\": \"ping\"}\n\n";
    assertEquals(ByteString.emptyByteString(), tap.onChunk(ByteString.fromString(ping.substring(0, 20))));
    assertEquals(ByteString.fromString(ping + ping), tap.onChunk(ByteString.fromString(ping.substring(20) + ping
        + "event: pi")));
    assertEquals(ByteString.fromString("event: pi"), tap.flush());
  }

  @Test
  void usage_noUsageEvents_isNull() {
    Run r = run("event: ping\ndata: {\"type\":\"ping\"}\n\n".getBytes(StandardCharsets.UTF_8));
    assertNull(r.tap().usage());
    assertEquals(0, r.tap().contentChunks());
  }

  @Test
  void usage_startOnly_givesInputAndStartOutput() {
    Run r = run(("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
        + "{\"input_tokens\":7,\"output_tokens\":1}}}\n\n").getBytes(StandardCharsets.UTF_8));
    assertEquals(Usage.of(7, 1), r.tap().usage());
  }

  @Test
  void usage_unterminatedFinalDelta_readAtFlush() {
    Run r = run(("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
        + "{\"input_tokens\":7,\"output_tokens\":1}}}\n\n"
        + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
        + "\"usage\":{\"output_tokens\":12}}").getBytes(StandardCharsets.UTF_8));
    assertEquals(Usage.of(7, 12), r.tap().usage());
  }

  @Test
  void usage_streamWithoutEventLines_readFromDataType() {
    Run r = run(("data: {\"type\": \"message_start\", \"message\": {\"usage\": {\"input_tokens\": 3}}}\n\n"
        + "data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"x\"}}\n\n"
        + "data: {\"type\": \"message_delta\", \"usage\": {\"output_tokens\": 4}}\n\n").getBytes(StandardCharsets.UTF_8));
    assertEquals(Usage.of(3, 4), r.tap().usage());
    assertEquals(1, r.tap().contentChunks());
  }

  @Test
  void contentChunks_thinkingDeltas_notCounted() {
    Run r = run(("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        + "{\"type\":\"thinking_delta\",\"thinking\":\"mentions text_delta\"}}\n\n").getBytes(StandardCharsets.UTF_8));
    assertEquals(0, r.tap().contentChunks());
  }

  @Test
  void usage_errorEvent_passedThroughUnchanged() {
    byte[] body = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"o\"}}\n\n"
        .getBytes(StandardCharsets.UTF_8);
    Run r = run(body);
    assertEquals(ByteString.fromArray(body), r.out());
    assertNull(r.tap().usage());
    assertTrue(r.tap().contentChunks() == 0);
  }
}
