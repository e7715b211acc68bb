package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sluice.node.inference.chat.Usage;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResponsesSseUsageTest {
  private static final String STREAM = ""
      + "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"usage\":null},"
      + "\"sequence_number\":0}\n\n"
      + "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"say "
      + "\\\"response.completed\\\"\",\"sequence_number\":1}\n\n"
      + "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"!\","
      + "\"sequence_number\":2}\n\n"
      + "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\","
      + "\"delta\":\"{}\",\"sequence_number\":3}\n\n"
      + "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"output\":[],"
      + "\"usage\":{\"input_tokens\":12,\"input_tokens_details\":{\"cached_tokens\":5},\"output_tokens\":7,"
      + "\"output_tokens_details\":{\"reasoning_tokens\":2},\"total_tokens\":19}},\"sequence_number\":4}\n\n";

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 64, 100000})
  void onChunk_splitAnywhere_passesEveryByteAndReadsTheClosingUsage(int size) {
    ResponsesSseUsage tap = new ResponsesSseUsage();
    ByteString all = ByteString.fromString(STREAM);
    ByteString out = ByteString.emptyByteString();
    for (int i = 0; i < all.length(); i += size) {
      out = out.concat(tap.onChunk(all.slice(i, Math.min(all.length(), i + size))));
    }
    out = out.concat(tap.flush());
    assertEquals(STREAM, out.utf8String());
    assertEquals(new Usage(12, 7, 5, 0), tap.usage());
    assertEquals(3, tap.contentChunks());
  }

  @ParameterizedTest
  @ValueSource(strings = {"response.incomplete", "response.failed"})
  void onChunk_otherClosingEvents_carryTheUsageToo(String type) {
    ResponsesSseUsage tap = new ResponsesSseUsage();
    tap.onChunk(ByteString.fromString("event: " + type + "\ndata: {\"type\":\"" + type + "\",\"response\":{\"usage\":"
        + "{\"input_tokens\":3,\"output_tokens\":4,\"total_tokens\":7}}}\n\n"));
    assertEquals(Usage.of(3, 4), tap.usage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"usage\":null}}\n\n"})
  void usage_noClosingEvent_null(String stream) {
    ResponsesSseUsage tap = new ResponsesSseUsage();
    tap.onChunk(ByteString.fromString(stream));
    tap.flush();
    assertNull(tap.usage());
  }
}
