package io.sluice.node.provider.openai;

import io.sluice.node.inference.chat.Usage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SseUsageTest {
  private static final String HEAD = "{\"id\":\"chatcmpl-AbC123\",\"object\":\"chat.completion.chunk\","
      + "\"created\":1730000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",";

  private static String chunk(String choices, String usage) {
    return "data: " + HEAD + "\"choices\":" + choices + ",\"usage\":" + usage + "}";
  }

  private static String delta(String delta, String finish) {
    return "[{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":" + finish + "}]";
  }

  /** The events of a realistic OpenAI stream with stream_options.include_usage, unframed. */
  private static final String ROLE = chunk(delta("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", "null"),
      "null");
  private static final String C1 = chunk(delta("{\"content\":\"Hel\"}", "null"), "null");
  private static final String C2 = chunk(delta("{\"content\":\"lo, w\u00f6rld \u2713\"}", "null"), "null");
  private static final String C3 = chunk(delta("{\"content\":\" \\\"usage\\\": {}\"}", "null"), "null");
  private static final String STOP = chunk(delta("{}", "\"stop\""), "null");
  private static final String USAGE = chunk("[]", "{\"prompt_tokens\":9,\"completion_tokens\":4,"
      + "\"total_tokens\":13,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
      + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
      + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}");
  private static final String DONE = "data: [DONE]";
  private static final List<String> EVENTS = List.of(ROLE, C1, C2, C3, STOP, USAGE, DONE);
  private static final Usage TOKENS = Usage.of(9, 4);
  /** Events with "content":"…" holding text: the role chunk's empty content does not count. */
  private static final long CONTENT_CHUNKS = 3;

  private static String stream(String lineEnd) {
    StringBuilder b = new StringBuilder();
    for (String e : EVENTS) {
      b.append(e).append(lineEnd).append(lineEnd);
    }
    return b.toString();
  }

  private static String withoutUsage(String lineEnd) {
    return stream(lineEnd).replace(USAGE + lineEnd + lineEnd, "");
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Feeds {@code input} cut at {@code cuts}, then flushes; returns everything emitted. */
  private static byte[] run(SseUsage sse, byte[] input, int... cuts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int from = 0;
    for (int cut : cuts) {
      emit(out, sse.onChunk(ByteString.fromArray(input, from, cut - from)));
      from = cut;
    }
    emit(out, sse.onChunk(ByteString.fromArray(input, from, input.length - from)));
    emit(out, sse.flush());
    return out.toByteArray();
  }

  private static void emit(ByteArrayOutputStream out, ByteString bytes) {
    byte[] b = bytes.toArray();
    out.write(b, 0, b.length);
  }

  private static void assertBytes(String expected, byte[] actual, String message) {
    assertEquals(expected, new String(actual, StandardCharsets.UTF_8), message);
  }

  // ---------------------------------------------------------------- whole stream, every split

  @ParameterizedTest(name = "line end {0}")
  @ValueSource(strings = {"\n", "\r\n"})
  void onChunk_splitAtEveryBytePosition_sameOutputUsageAndCount(String lineEnd) {
    byte[] input = utf8(stream(lineEnd));
    for (boolean strip : new boolean[] {false, true}) {
      String expected = strip ? withoutUsage(lineEnd) : stream(lineEnd);
      for (int cut = 0; cut <= input.length; cut++) {
        SseUsage sse = new SseUsage(strip);
        byte[] out = run(sse, input, cut);
        assertBytes(expected, out, "strip=" + strip + " cut at " + cut);
        assertEquals(TOKENS, sse.usage(), "cut at " + cut);
        assertEquals(CONTENT_CHUNKS, sse.contentChunks(), "cut at " + cut);
      }
    }
  }

  @ParameterizedTest(name = "line end {0}")
  @ValueSource(strings = {"\n", "\r\n"})
  void onChunk_threeWaySplits_sameOutput(String lineEnd) {
    byte[] input = utf8(stream(lineEnd));
    String expected = withoutUsage(lineEnd);
    for (int i = 0; i <= input.length; i += 11) {
      for (int j = i; j <= input.length; j += 7) {
        SseUsage sse = new SseUsage(true);
        assertBytes(expected, run(sse, input, i, j), "cuts " + i + ", " + j);
        assertEquals(TOKENS, sse.usage());
      }
    }
  }

  @ParameterizedTest(name = "strip {0}")
  @ValueSource(booleans = {false, true})
  void onChunk_oneByteAtATime_sameOutput(boolean strip) {
    byte[] input = utf8(stream("\n"));
    int[] cuts = new int[input.length - 1];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = i + 1;
    }
    SseUsage sse = new SseUsage(strip);
    assertBytes(strip ? withoutUsage("\n") : stream("\n"), run(sse, input, cuts), "byte by byte");
    assertEquals(TOKENS, sse.usage());
    assertEquals(CONTENT_CHUNKS, sse.contentChunks());
  }

  @Test
  void onChunk_wholeStreamAtOnce_emitsAllButTheUsageEvent() {
    SseUsage sse = new SseUsage(true);
    ByteString out = sse.onChunk(ByteString.fromString(stream("\n")));
    assertEquals(withoutUsage("\n"), out.utf8String());
    assertEquals(ByteString.emptyByteString(), sse.flush());
  }

  @Test
  void onChunk_strippedOutput_isInputMinusExactlyTheUsageEvent() {
    byte[] input = utf8(stream("\n"));
    byte[] out = run(new SseUsage(true), input, 100, 900);
    String removed = USAGE + "\n\n";
    int at = stream("\n").indexOf(removed);
    // bytes before and after the removed event are the input's, unchanged
    assertEquals(input.length - utf8(removed).length, out.length);
    int atBytes = utf8(stream("\n").substring(0, at)).length;
    for (int i = 0; i < atBytes; i++) {
      assertEquals(input[i], out[i]);
    }
    for (int i = atBytes; i < out.length; i++) {
      assertEquals(input[i + utf8(removed).length], out[i]);
    }
  }

  @Test
  void onChunk_emittedPieces_areWholeEvents() {
    byte[] input = utf8(stream("\n"));
    SseUsage sse = new SseUsage(false);
    for (int from = 0; from < input.length; from += 50) {
      ByteString out = sse.onChunk(ByteString.fromArray(input, from, Math.min(50, input.length - from)));
      if (!out.isEmpty()) {
        assertTrue(out.utf8String().endsWith("\n\n"), () -> "partial event emitted: " + out.utf8String());
        assertTrue(out.utf8String().startsWith("data: "));
      }
    }
  }

  @Test
  void onChunk_incompleteEvent_heldBackUntilItsBlankLine() {
    SseUsage sse = new SseUsage(false);
    assertEquals(ByteString.emptyByteString(), sse.onChunk(ByteString.fromString(C1 + "\n")));
    assertEquals(ByteString.emptyByteString(), sse.onChunk(ByteString.fromString("")));
    assertEquals(C1 + "\n\n" + C2 + "\n\n", sse.onChunk(ByteString.fromString("\n" + C2 + "\n\n")).utf8String());
  }

  // ---------------------------------------------------------------- stripping rules

  @Test
  void onChunk_stripOff_usageEventPassedOnAndRead() {
    SseUsage sse = new SseUsage(false);
    assertEquals(USAGE + "\n\n", sse.onChunk(ByteString.fromString(USAGE + "\n\n")).utf8String());
    assertEquals(TOKENS, sse.usage());
  }

  @Test
  void onChunk_usageWithNonEmptyChoices_neverStripped() {
    // Some OpenAI-compatible upstreams put usage on the last content chunk: it carries content.
    String last = chunk(delta("{\"content\":\"!\"}", "\"stop\""), "{\"prompt_tokens\":5,\"completion_tokens\":2}");
    SseUsage sse = new SseUsage(true);
    assertEquals(last + "\n\n", sse.onChunk(ByteString.fromString(last + "\n\n")).utf8String());
    assertEquals(Usage.of(5, 2), sse.usage());
    assertEquals(1, sse.contentChunks());
  }

  @Test
  void onChunk_nullUsageChunks_neverStrippedAndNoUsage() {
    SseUsage sse = new SseUsage(true);
    String in = C1 + "\n\n" + STOP + "\n\n" + DONE + "\n\n";
    assertEquals(in, sse.onChunk(ByteString.fromString(in)).utf8String());
    assertNull(sse.usage());
  }

  @Test
  void onChunk_emptyChoicesWithoutUsage_notStripped() {
    String noUsage = "data: " + HEAD + "\"choices\":[]}";
    SseUsage sse = new SseUsage(true);
    assertEquals(noUsage + "\n\n", sse.onChunk(ByteString.fromString(noUsage + "\n\n")).utf8String());
  }

  @Test
  void onChunk_usageSpacedLikeAnotherServer_readAndStripped() {
    String spaced = "data: {\"id\":\"x\",\"choices\":[],\"usage\" : {\"prompt_tokens\": 3, \"completion_tokens\": 1}}";
    SseUsage sse = new SseUsage(true);
    assertEquals("", sse.onChunk(ByteString.fromString(spaced + "\n\n")).utf8String());
    assertEquals(Usage.of(3, 1), sse.usage());
  }

  @Test
  void onChunk_commentsAndOtherFields_passThrough() {
    String in = ": keep-alive\n\nevent: message\nid: 7\n" + C1 + "\n\n";
    SseUsage sse = new SseUsage(true);
    assertEquals(in, sse.onChunk(ByteString.fromString(in)).utf8String());
    assertEquals(1, sse.contentChunks());
  }

  @Test
  void onChunk_secondUsageEvent_laterOneWins() {
    String first = chunk("[]", "{\"prompt_tokens\":1,\"completion_tokens\":1}");
    SseUsage sse = new SseUsage(true);
    sse.onChunk(ByteString.fromString(first + "\n\n" + USAGE + "\n\n"));
    assertEquals(TOKENS, sse.usage());
  }

  @Test
  void onChunk_malformedUsageEvent_keptWithoutUsage() {
    String broken = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":}";
    SseUsage sse = new SseUsage(true);
    sse.onChunk(ByteString.fromString(broken + "\n\n"));
    assertNull(sse.usage());
  }

  // ---------------------------------------------------------------- content chunk counting

  @Test
  void contentChunks_streamCutBeforeUsage_countsChunksWithContent() {
    String in = ROLE + "\n\n" + C1 + "\n\n" + C2 + "\n\n";
    SseUsage sse = new SseUsage(true);
    sse.onChunk(ByteString.fromString(in));
    assertNull(sse.usage());
    assertEquals(2, sse.contentChunks()); // C1 and C2; the role chunk carries no text
  }

  @Test
  void contentChunks_nullContentAndToolCalls_notCounted() {
    String nullContent = chunk(delta("{\"content\":null}", "null"), "null");
    String toolCall = chunk(delta("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]}", "null"),
        "null");
    SseUsage sse = new SseUsage(false);
    sse.onChunk(ByteString.fromString(nullContent + "\n\n" + toolCall + "\n\n" + STOP + "\n\n"));
    assertEquals(0, sse.contentChunks());
  }

  @Test
  void contentChunks_incompleteEvent_notCountedUntilComplete() {
    SseUsage sse = new SseUsage(false);
    sse.onChunk(ByteString.fromString(C1 + "\n"));
    assertEquals(0, sse.contentChunks());
    sse.onChunk(ByteString.fromString("\n"));
    assertEquals(1, sse.contentChunks());
  }

  // ---------------------------------------------------------------- flush

  @Test
  void flush_unterminatedTail_passedOnAsIsAndRead() {
    SseUsage sse = new SseUsage(false);
    assertEquals(C1 + "\n\n", sse.onChunk(ByteString.fromString(C1 + "\n\n" + C2)).utf8String());
    assertEquals(C2, sse.flush().utf8String());
    assertEquals(2, sse.contentChunks());
    assertEquals(ByteString.emptyByteString(), sse.flush(), "flushed once");
  }

  @Test
  void flush_unterminatedUsageTail_usageReadAndTailPassedOn() {
    // A stream cut right after the usage event's data line: the usage still charges the stream.
    // flush() passes the tail on as is, also when stripping (documented behaviour).
    SseUsage sse = new SseUsage(true);
    sse.onChunk(ByteString.fromString(STOP + "\n\n" + USAGE + "\n"));
    assertEquals(USAGE + "\n", sse.flush().utf8String());
    assertEquals(TOKENS, sse.usage());
  }

  @Test
  void flush_nothingPending_empty() {
    SseUsage sse = new SseUsage(true);
    assertEquals(ByteString.emptyByteString(), sse.flush());
    sse.onChunk(ByteString.fromString(C1 + "\n\n"));
    assertEquals(ByteString.emptyByteString(), sse.flush());
  }

  @Test
  void flush_afterPartialCrlfTerminator_returnsTheTail() {
    SseUsage sse = new SseUsage(false);
    assertEquals(ByteString.emptyByteString(), sse.onChunk(ByteString.fromString(C1 + "\r\n\r")));
    assertEquals(C1 + "\r\n\r", sse.flush().utf8String());
  }

  /**
   * One 64 KiB event in 1,024 chunks of 64 bytes: the tap searches each byte for the event's end
   * once, so this takes milliseconds; searching the whole pending rope on every chunk took minutes.
   */
  @Test
  void onChunk_largeEventInSmallChunks_linearTime() {
    String text = "x".repeat(64 * 1024 - 200);
    byte[] event = ("data: " + HEAD + "\"choices\":" + delta("{\"content\":\"" + text + "\"}", "null")
        + ",\"usage\":null}\n\n").getBytes(StandardCharsets.UTF_8);
    SseUsage tap = new SseUsage(false);
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> {
      ByteString out = ByteString.emptyByteString();
      for (int i = 0; i < event.length; i += 64) {
        out = out.concat(tap.onChunk(ByteString.fromArray(event, i, Math.min(64, event.length - i))));
      }
      assertEquals(ByteString.fromArray(event), out);
      assertEquals(1, tap.contentChunks());
    });
  }
}
