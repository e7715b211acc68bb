package io.sluice.node.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.NeutralJson;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.provider.openai.OpenAiChatCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * The Bedrock translations against golden files in {@code src/test/resources/golden/bedrock/},
 * compared byte for byte:
 * <ul>
 *   <li>{@code requests/X.openai.json} (an OpenAI client's request, read by the OpenAI codec) →
 *       {@code X.upstream.json} (the Converse body);
 *   <li>{@code responses/X.json} (a Converse response) → {@code X.neutral.json};
 *   <li>{@code streams/X.frames.json} (event-stream frames as headers and JSON payloads, encoded into
 *       real binary frames by the AWS library) → {@code X.events.json}; the bytes are also fed whole,
 *       split in two at every offset, and one byte at a time, and must decode the same.
 * </ul>
 * Regenerate after an intended change with {@code -Dgolden.update=true}, then review the diff.
 */
class BedrockGoldenTest {
  private static final Path DIR = Path.of(System.getProperty("basedir", "."))
      .resolve("src/test/resources/golden/bedrock");
  private static final boolean UPDATE = Boolean.getBoolean("golden.update");

  static Stream<String> requests() throws IOException {
    return names("requests", ".openai.json");
  }

  static Stream<String> responses() throws IOException {
    return names("responses", ".json").filter(n -> !n.endsWith(".neutral"));
  }

  static Stream<String> streams() throws IOException {
    return names("streams", ".frames.json");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("requests")
  void encodeRequest_openAiClientRequest_matchesGoldenConverseBody(String name) throws Exception {
    byte[] converse = BedrockCodec.encodeRequest(OpenAiChatCodec.decodeRequest(read("requests", name + ".openai.json")));
    check("requests", name + ".upstream.json", new String(converse, StandardCharsets.UTF_8) + "\n");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("responses")
  void decodeResponse_converseResponse_matchesGoldenNeutral(String name) throws Exception {
    check("responses", name + ".neutral.json",
        NeutralJson.MAPPER.writeValueAsString(BedrockCodec.decodeResponse(read("responses", name + ".json"))) + "\n");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void streamDecoder_frames_matchGoldenEventsHoweverSplit(String name) throws Exception {
    byte[] bytes = frames(read("streams", name + ".frames.json"));
    List<ChatEvent> whole = decode(List.of(bytes));
    for (int cut = 1; cut < bytes.length; cut++) {
      byte[] a = java.util.Arrays.copyOfRange(bytes, 0, cut);
      byte[] b = java.util.Arrays.copyOfRange(bytes, cut, bytes.length);
      assertEquals(whole, decode(List.of(a, b)), "split at byte " + cut);
    }
    List<byte[]> single = new ArrayList<>();
    for (byte x : bytes) {
      single.add(new byte[] {x});
    }
    assertEquals(whole, decode(single), "fed one byte at a time");
    check("streams", name + ".events.json",
        NeutralJson.MAPPER.writerFor(new TypeReference<List<ChatEvent>>() {}).writeValueAsString(whole) + "\n");
  }

  static List<ChatEvent> decode(List<byte[]> chunks) {
    StreamDecoder d = BedrockCodec.streamDecoder();
    List<ChatEvent> out = new ArrayList<>();
    for (byte[] c : chunks) {
      out.addAll(d.decode(ByteString.fromArray(c)));
    }
    out.addAll(d.end());
    return out;
  }

  /** {@code [{"headers": {name: string}, "payload": json}]} as binary event-stream frames. */
  static byte[] frames(byte[] spec) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (JsonNode f : BedrockCodec.JSON.readTree(spec)) {
      Map<String, HeaderValue> headers = new LinkedHashMap<>();
      f.path("headers").fields().forEachRemaining(e -> headers.put(e.getKey(), HeaderValue.fromString(e.getValue().asText())));
      JsonNode payload = f.get("payload");
      byte[] bytes = payload == null ? new byte[0] : payload.isTextual()
          ? payload.asText().getBytes(StandardCharsets.UTF_8) : BedrockCodec.JSON.writeValueAsBytes(payload);
      new Message(headers, bytes).encode(out);
    }
    return out.toByteArray();
  }

  private static void check(String dir, String file, String actual) throws IOException {
    Path p = DIR.resolve(dir).resolve(file);
    if (UPDATE) {
      Files.writeString(p, actual, StandardCharsets.UTF_8);
      return;
    }
    assertTrue(Files.exists(p), p + " is missing: run with -Dgolden.update=true to write it, then review it");
    assertEquals(Files.readString(p, StandardCharsets.UTF_8), actual, p.toString());
  }

  private static byte[] read(String dir, String file) throws IOException {
    return Files.readAllBytes(DIR.resolve(dir).resolve(file));
  }

  private static Stream<String> names(String dir, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(DIR.resolve(dir))) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix))
          .map(n -> n.substring(0, n.length() - suffix.length())).sorted().toList().stream();
    }
  }
}
