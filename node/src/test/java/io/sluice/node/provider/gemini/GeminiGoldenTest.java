package io.sluice.node.provider.gemini;

import io.sluice.node.inference.chat.NeutralJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.StreamEncoder;
import io.sluice.node.provider.openai.OpenAiChatCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Gemini translations against golden files in {@code src/test/resources/golden/gemini/} (see
 * the README there), compared byte for byte, along the path an OpenAI client's request takes:
 * <ul>
 *   <li>{@code requests/X.openai.json} (an OpenAI client's body) → {@code X.neutral.json} →
 *       {@code X.upstream.json} (the Gemini body)
 *   <li>{@code responses/X.json} (a Gemini response) → {@code X.neutral.json} → {@code X.client.json}
 *       (the chat.completion the client gets)
 *   <li>{@code streams/X.sse} (a Gemini SSE body) → {@code X.events.json} (fed whole, one byte at a
 *       time, and split in two at every offset) → {@code X.client.sse} (the client's chunks, with usage)
 * </ul>
 * Regenerate with {@code -Dgolden.update=true} after an intended change and review the diff.
 */
class GeminiGoldenTest {
  private static final Path DIR = Path.of(System.getProperty("basedir", "."))
      .resolve("src/test/resources/golden/gemini");
  private static final boolean UPDATE = Boolean.getBoolean("golden.update");

  static Stream<String> requests() throws IOException {
    return names("requests", ".openai.json");
  }

  static Stream<String> responses() throws IOException {
    return names("responses", ".json");
  }

  static Stream<String> streams() throws IOException {
    return names("streams", ".sse");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("requests")
  void encodeRequest_openAiClientRequest_matchesGoldenNeutralAndUpstream(String name) throws Exception {
    ChatRequest neutral = OpenAiChatCodec.decodeRequest(read("requests", name + ".openai.json"));
    check("requests", name + ".neutral.json", NeutralJson.write(neutral));
    check("requests", name + ".upstream.json", pretty(GeminiCodec.encodeRequest(neutral)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("responses")
  void decodeResponse_geminiResponse_matchesGoldenNeutralAndClient(String name) throws Exception {
    ChatResponse neutral = GeminiCodec.decodeResponse(read("responses", name + ".json"), counter());
    check("responses", name + ".neutral.json", NeutralJson.write(neutral));
    check("responses", name + ".client.json", pretty(OpenAiChatCodec.encodeResponse(neutral)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void streamDecoder_geminiStream_matchesGoldenEventsAndClientStream(String name) throws Exception {
    byte[] sse = read("streams", name + ".sse");
    List<ChatEvent> whole = decode(List.of(ByteString.fromArray(sse)));
    List<ByteString> bytes = new ArrayList<>();
    for (byte b : sse) {
      bytes.add(ByteString.fromArray(new byte[] {b}));
    }
    assertEquals(whole, decode(bytes), "fed one byte at a time");
    for (int cut = 0; cut <= sse.length; cut++) {
      ByteString all = ByteString.fromArray(sse);
      assertEquals(whole, decode(List.of(all.take(cut), all.drop(cut))), "split at byte " + cut);
    }
    check("streams", name + ".events.json", NeutralJson.write(whole));
    check("streams", name + ".client.sse", encode(whole));
  }

  private static List<ChatEvent> decode(List<ByteString> chunks) {
    StreamDecoder d = new GeminiStreamDecoder(counter());
    List<ChatEvent> out = new ArrayList<>();
    for (ByteString c : chunks) {
      out.addAll(d.decode(c));
    }
    out.addAll(d.end());
    return out;
  }

  /** The events as an OpenAI client's stream that asked for usage. */
  private static String encode(List<ChatEvent> events) {
    StreamEncoder e = OpenAiChatCodec.streamEncoder(true);
    ByteString out = ByteString.emptyByteString();
    for (ChatEvent ev : events) {
      out = out.concat(e.encode(ev));
    }
    return stable(out.concat(e.end()).utf8String());
  }

  /** Tool-call ids as Sluice makes them (24 base-62 characters), numbered so the files are deterministic. */
  static Supplier<String> counter() {
    AtomicInteger n = new AtomicInteger();
    return () -> ToolIds.PREFIX + String.format("golden%018d", n.incrementAndGet());
  }

  /** The creation time is the clock's: it is the one field written as 0. */
  private static String stable(String s) {
    return s.replaceAll("\"created\":[0-9]+", "\"created\":0").replaceAll("\"created\" : [0-9]+", "\"created\" : 0");
  }

  private static String pretty(byte[] json) throws IOException {
    return stable(NeutralJson.MAPPER.writeValueAsString(GeminiCodec.JSON.readTree(json)).replace("\r\n", "\n")
        + "\n");
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
      return files.map(p -> p.getFileName().toString())
          .filter(f -> f.endsWith(suffix) && !isOutput(f.substring(0, f.length() - suffix.length())))
          .map(f -> f.substring(0, f.length() - suffix.length()))
          .sorted()
          .toList()
          .stream();
    }
  }

  private static boolean isOutput(String stem) {
    return stem.endsWith(".neutral") || stem.endsWith(".upstream") || stem.endsWith(".client")
        || stem.endsWith(".events");
  }
}
