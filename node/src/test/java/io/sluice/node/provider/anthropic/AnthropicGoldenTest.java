package io.sluice.node.provider.anthropic;

import io.sluice.node.inference.chat.NeutralJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Anthropic translations against golden files in {@code src/test/resources/golden/anthropic/}
 * (see the README there), compared byte for byte:
 * <ul>
 *   <li>{@code requests/X.json} (a client's request) → {@code X.neutral.json} → {@code X.upstream.json}
 *   <li>{@code from-neutral/X.neutral.json} (as another surface builds it) → {@code X.upstream.json}
 *   <li>{@code responses/X.json} (an upstream's response) → {@code X.neutral.json} → {@code X.client.json}
 *   <li>{@code streams/X.sse} (an upstream's stream) → {@code X.events.json} → {@code X.client.sse}
 *   <li>{@code from-neutral/X.events.json} (another provider's events) → {@code X.client.sse}
 * </ul>
 * To regenerate the outputs after an intended change, run with {@code -Dgolden.update=true}
 * (for example {@code mvn -B -ntp -q -pl node -am test -Dtest=AnthropicGoldenTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dgolden.update=true}), then review the diff: the
 * files are the specification, and an update that is not read is no test.
 */
class AnthropicGoldenTest {
  private static final Path DIR = Path.of(System.getProperty("basedir", "."))
      .resolve("src/test/resources/golden/anthropic");
  private static final boolean UPDATE = Boolean.getBoolean("golden.update");
  /** The output limit for a request that set none, as a deployment would configure it. */
  private static final long DEFAULT_MAX_TOKENS = 4096;

  static Stream<String> requests() throws IOException {
    return names("requests", ".json");
  }

  static Stream<String> neutralRequests() throws IOException {
    return names("from-neutral", ".neutral.json");
  }

  static Stream<String> responses() throws IOException {
    return names("responses", ".json");
  }

  static Stream<String> streams() throws IOException {
    return names("streams", ".sse");
  }

  static Stream<String> neutralStreams() throws IOException {
    return names("from-neutral", ".events.json");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("requests")
  void decodeRequest_clientRequest_matchesGoldenNeutralAndUpstream(String name) throws Exception {
    ChatRequest neutral = AnthropicCodec.decodeRequest(read("requests", name + ".json"));
    check("requests", name + ".neutral.json", NeutralJson.write(neutral));
    byte[] upstream = AnthropicCodec.encodeRequest(neutral, DEFAULT_MAX_TOKENS);
    check("requests", name + ".upstream.json", json(upstream));
    assertEquals(neutral, AnthropicCodec.decodeRequest(upstream), "the upstream body reads back as the same request");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("neutralRequests")
  void encodeRequest_neutralRequest_matchesGoldenUpstream(String name) throws Exception {
    ChatRequest neutral = NeutralJson.request(text("from-neutral", name + ".neutral.json"));
    check("from-neutral", name + ".upstream.json", json(AnthropicCodec.encodeRequest(neutral, DEFAULT_MAX_TOKENS)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("responses")
  void decodeResponse_upstreamResponse_matchesGoldenNeutralAndClient(String name) throws Exception {
    ChatResponse neutral = AnthropicCodec.decodeResponse(read("responses", name + ".json"));
    check("responses", name + ".neutral.json", NeutralJson.write(neutral));
    check("responses", name + ".client.json", json(AnthropicCodec.encodeResponse(neutral, counter())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streams")
  void streamDecoder_upstreamStream_matchesGoldenEventsAndClientStream(String name) throws Exception {
    byte[] sse = read("streams", name + ".sse");
    List<ChatEvent> whole = decode(AnthropicCodec.streamDecoder(), List.of(ByteString.fromArray(sse)));
    List<ByteString> bytes = new ArrayList<>();
    for (byte b : sse) {
      bytes.add(ByteString.fromArray(new byte[] {b}));
    }
    assertEquals(whole, decode(AnthropicCodec.streamDecoder(), bytes), "fed one byte at a time");
    check("streams", name + ".events.json", NeutralJson.write(whole));
    check("streams", name + ".client.sse", encode(whole));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("neutralStreams")
  void streamEncoder_neutralEvents_matchesGoldenClientStream(String name) throws Exception {
    List<ChatEvent> events = NeutralJson.events(text("from-neutral", name + ".events.json"));
    check("from-neutral", name + ".client.sse", encode(events));
  }

  static List<ChatEvent> decode(StreamDecoder d, List<ByteString> chunks) {
    List<ChatEvent> out = new ArrayList<>();
    for (ByteString c : chunks) {
      out.addAll(d.decode(c));
    }
    out.addAll(d.end());
    return out;
  }

  /** The events as the client's stream, under the model name the client asked for. */
  static String encode(List<ChatEvent> events) {
    StreamEncoder e = new AnthropicStreamEncoder("claude-client-alias", counter());
    ByteString out = ByteString.emptyByteString();
    for (ChatEvent ev : events) {
      out = out.concat(e.encode(ev));
    }
    return out.concat(e.end()).utf8String();
  }

  /** Ids for what the upstream named none: deterministic, so the files are. */
  static UnaryOperator<String> counter() {
    AtomicInteger n = new AtomicInteger();
    return prefix -> prefix + "golden" + n.incrementAndGet();
  }

  private static String json(byte[] b) {
    return new String(b, StandardCharsets.UTF_8) + "\n";
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

  private static String text(String dir, String file) throws IOException {
    return Files.readString(DIR.resolve(dir).resolve(file), StandardCharsets.UTF_8);
  }

  private static Stream<String> names(String dir, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(DIR.resolve(dir))) {
      List<String> names = files.map(p -> p.getFileName().toString())
          .filter(f -> f.endsWith(suffix) && !isOutput(f, suffix))
          .map(f -> f.substring(0, f.length() - suffix.length()))
          .sorted()
          .toList();
      return names.stream();
    }
  }

  /** Inputs and outputs share a directory; an output's name carries its stage. */
  private static boolean isOutput(String file, String suffix) {
    String stem = file.substring(0, file.length() - suffix.length());
    return stem.endsWith(".neutral") || stem.endsWith(".upstream") || stem.endsWith(".client")
        || stem.endsWith(".events");
  }
}
