package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.StreamEncoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The OpenAI translations against golden files in {@code src/test/resources/golden/openai/}
 * (layout in the README.md there), compared byte for byte. Each case is an input file
 * {@code NAME.in.*}, hand-written, and the outputs next to it, generated. After a deliberate
 * change to a codec, regenerate the outputs and review their diff:
 *
 * <pre>mvn -B -ntp -pl node -am test -Dtest=OpenAiChatGoldenTest -Dsurefire.failIfNoSpecifiedTests=false -Dsluice.golden.update=true</pre>
 */
class OpenAiChatGoldenTest {
  /** Surefire runs in the module's directory, so this is the source tree, where updates belong. */
  private static final Path ROOT = Path.of("src/test/resources/golden/openai");
  private static final boolean UPDATE = Boolean.getBoolean("sluice.golden.update");
  /** The creation time written into encoded responses and chunks, fixed so that outputs are stable. */
  private static final long CREATED = 1_700_000_000L;

  static Stream<String> request() throws IOException {
    return cases("request", ".in.json");
  }

  static Stream<String> neutralRequest() throws IOException {
    return cases("neutral-request", ".in.json");
  }

  static Stream<String> response() throws IOException {
    return cases("response", ".in.json");
  }

  static Stream<String> neutralResponse() throws IOException {
    return cases("neutral-response", ".in.json");
  }

  static Stream<String> stream() throws IOException {
    return cases("stream", ".in.sse");
  }

  static Stream<String> neutralStream() throws IOException {
    return cases("neutral-stream", ".in.json");
  }

  /** OpenAI request in, neutral request, OpenAI request out. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("request")
  void request_decodeThenEncode_matchesGoldens(String name) throws Exception {
    ChatRequest neutral = OpenAiChatCodec.decodeRequest(bytes("request/" + name + ".in.json"));
    check("request/" + name + ".neutral.json", NeutralJson.write(neutral));
    assertEquals(neutral, NeutralJson.request(text("request/" + name + ".neutral.json")));
    check("request/" + name + ".out.json", utf8(OpenAiChatCodec.encodeRequest(neutral)));
  }

  /** Neutral request in (as another surface decodes it), OpenAI request out. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("neutralRequest")
  void neutralRequest_encode_matchesGolden(String name) throws Exception {
    ChatRequest neutral = NeutralJson.request(text("neutral-request/" + name + ".in.json"));
    check("neutral-request/" + name + ".out.json", utf8(OpenAiChatCodec.encodeRequest(neutral)));
  }

  /** Upstream chat.completion in, neutral response, chat.completion out. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("response")
  void response_decodeThenEncode_matchesGoldens(String name) throws Exception {
    ChatResponse neutral = OpenAiChatCodec.decodeResponse(bytes("response/" + name + ".in.json"));
    check("response/" + name + ".neutral.json", NeutralJson.write(neutral));
    assertEquals(neutral, NeutralJson.response(text("response/" + name + ".neutral.json")));
    check("response/" + name + ".out.json", utf8(ChatResponseCodec.write(neutral, CREATED)));
  }

  /** Neutral response in (as another provider decodes it), chat.completion out. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("neutralResponse")
  void neutralResponse_encode_matchesGolden(String name) throws Exception {
    ChatResponse neutral = NeutralJson.response(text("neutral-response/" + name + ".in.json"));
    check("neutral-response/" + name + ".out.json", utf8(ChatResponseCodec.write(neutral, CREATED)));
  }

  /** Upstream SSE in, neutral events (the same wherever the bytes are split), client SSE out. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("stream")
  void stream_decodeThenEncode_matchesGoldens(String name) throws Exception {
    ByteString sse = ByteString.fromArray(bytes("stream/" + name + ".in.sse"));
    List<ChatEvent> events = OpenAiChatStreamTest.decodeSplit(sse, new int[0]);
    check("stream/" + name + ".events.json", NeutralJson.write(events));
    assertEquals(events, NeutralJson.events(text("stream/" + name + ".events.json")));
    for (int cut = 1; cut < sse.length(); cut++) {
      assertEquals(events, OpenAiChatStreamTest.decodeSplit(sse, new int[] {cut}), "cut at " + cut);
    }
    check("stream/" + name + ".out.sse", encode(events));
  }

  /** Neutral events in (as another provider decodes them), client SSE out. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("neutralStream")
  void neutralStream_encode_matchesGolden(String name) throws Exception {
    List<ChatEvent> events = NeutralJson.events(text("neutral-stream/" + name + ".in.json"));
    check("neutral-stream/" + name + ".out.sse", encode(events));
  }

  private static String encode(List<ChatEvent> events) {
    return OpenAiChatStreamTest.encodeAll(new ChatStreamEncoder(true, CREATED), events);
  }

  private static Stream<String> cases(String dir, String suffix) throws IOException {
    List<String> names = new ArrayList<>();
    try (Stream<Path> files = Files.list(ROOT.resolve(dir))) {
      files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(suffix))
          .forEach(f -> names.add(f.substring(0, f.length() - suffix.length())));
    }
    assertTrue(!names.isEmpty(), "no " + suffix + " cases in " + ROOT.resolve(dir).toAbsolutePath());
    return names.stream().sorted();
  }

  /** Compares with the golden file, or (with -Dsluice.golden.update=true) writes it. */
  private static void check(String file, String actual) throws IOException {
    Path path = ROOT.resolve(file);
    if (UPDATE) {
      Files.writeString(path, actual, StandardCharsets.UTF_8);
      return;
    }
    if (!Files.exists(path)) {
      fail(path + " is missing; generate it with -Dsluice.golden.update=true and review it");
    }
    assertEquals(Files.readString(path, StandardCharsets.UTF_8), actual, file);
  }

  private static byte[] bytes(String file) throws IOException {
    return Files.readAllBytes(ROOT.resolve(file));
  }

  private static String text(String file) throws IOException {
    return Files.readString(ROOT.resolve(file), StandardCharsets.UTF_8);
  }

  private static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
